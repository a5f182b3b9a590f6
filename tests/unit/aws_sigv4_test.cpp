// SigV4 against AWS's published test-suite vectors (tests/fixtures/aws/sigv4_vectors.json): the
// canonical request, the string to sign and the Authorization header are checked separately.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace isvc::aws {
namespace {

boost::json::object load() {
  std::ifstream in(std::string(ISVC_FIXTURES_DIR) + "/aws/sigv4_vectors.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str()).as_object();
}

TEST(SigV4, PublishedVectors) {
  auto doc = load();
  Credentials creds{std::string(doc["access_key"].as_string()),
                    std::string(doc["secret_key"].as_string()), ""};
  SigningScope scope{std::string(doc["region"].as_string()),
                     std::string(doc["service"].as_string()), "20150830T123600Z"};
  int n = 0;
  for (const auto& v : doc["cases"].as_array()) {
    const auto& c = v.as_object();
    SCOPED_TRACE(std::string(c.at("name").as_string()));
    std::string uri(c.at("uri").as_string());
    RequestToSign r;
    r.method = std::string(c.at("method").as_string());
    auto q = uri.find('?');
    r.path = uri.substr(0, q);
    if (q != std::string::npos) r.query = parse_query(uri.substr(q + 1));
    for (const auto& [k, hv] : c.at("headers").as_object()) {
      if (hv.is_array()) {
        for (const auto& one : hv.as_array()) r.headers.emplace_back(k, one.as_string());
      } else {
        r.headers.emplace_back(k, hv.as_string());
      }
    }
    r.payload_sha256_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    auto creq = canonical_request(r);
    EXPECT_EQ(creq, c.at("creq").as_string());
    EXPECT_EQ(string_to_sign(scope, creq), c.at("sts").as_string());
    EXPECT_EQ(authorization(creds, scope, r), c.at("authz").as_string());
    ++n;
  }
  EXPECT_EQ(n, 7);
}

TEST(SigV4, UriEncodingAndDates) {
  EXPECT_EQ(uri_encode("a b/c+d~", true), "a%20b/c%2Bd~");
  EXPECT_EQ(uri_encode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(amz_date(1440938160), "20150830T123600Z");
  auto q = parse_query("b=2&a=%2F1&flag");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[1].second, "/1");
  EXPECT_EQ(q[2].first, "flag");
}

TEST(SigV4, PresignedQueryCarriesTheSigningParameters) {
  Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token/x"};
  SigningScope scope{"us-east-1", "s3", "20150830T123600Z"};
  RequestToSign r{"PUT", "/bucket/temp/upload 1", {}, {{"host", "s3.example.com"}}, ""};
  auto q = presigned_query(creds, scope, r, 900);
  EXPECT_NE(q.find("X-Amz-Algorithm=AWS4-HMAC-SHA256"), std::string::npos);
  EXPECT_NE(q.find("X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request"),
            std::string::npos);
  EXPECT_NE(q.find("X-Amz-Expires=900"), std::string::npos);
  EXPECT_NE(q.find("X-Amz-Security-Token=token%2Fx"), std::string::npos);
  EXPECT_NE(q.find("X-Amz-SignedHeaders=host"), std::string::npos);
  auto sig = q.substr(q.find("X-Amz-Signature=") + 16);
  EXPECT_EQ(sig.size(), 64u);
  // Any change to what was signed changes the signature.
  r.path = "/bucket/temp/upload 2";
  EXPECT_NE(presigned_query(creds, scope, r, 900).substr(q.find("X-Amz-Signature=")),
            q.substr(q.find("X-Amz-Signature=")));
}

}  // namespace
}  // namespace isvc::aws
