// Test helper: reads one JSON request per line on stdin and prints the Authorization header our
// SigV4 signer computes for it, so tests/integration/sigv4-crosscheck.test.mjs can compare it
// with an independent signer (npm @smithy/signature-v4).
#include <boost/json.hpp>
#include <iostream>
#include <string>

#include "aws/sigv4.h"

int main() {
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    auto j = boost::json::parse(line).as_object();
    isvc::aws::Credentials c{std::string(j["accessKey"].as_string()),
                             std::string(j["secretKey"].as_string()), ""};
    isvc::aws::SigningScope s{std::string(j["region"].as_string()),
                              std::string(j["service"].as_string()),
                              std::string(j["amzDate"].as_string())};
    isvc::aws::RequestToSign r;
    r.method = std::string(j["method"].as_string());
    r.path = std::string(j["path"].as_string());
    for (const auto& kv : j["query"].as_array())
      r.query.emplace_back(kv.as_array()[0].as_string(), kv.as_array()[1].as_string());
    for (const auto& kv : j["headers"].as_array())
      r.headers.emplace_back(kv.as_array()[0].as_string(), kv.as_array()[1].as_string());
    r.payload_sha256_hex = std::string(j["payloadHash"].as_string());
    std::cout << isvc::aws::authorization(c, s, r) << "\n";
  }
  return 0;
}
