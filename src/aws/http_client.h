// A small blocking HTTP/1.1 client on libcurl for the AWS-protocol adapters (DynamoDB, S3,
// CloudFront) and CDN purges: pooled easy handles (so connections are reused), connect and total
// timeouts, response bodies bounded in size. No retries here; see aws/retry.h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isvc::aws {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // fully encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // not owned; must outlive send()
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// The request never got an HTTP response (refused, reset, timed out, DNS …).
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpClientOptions {
  int connect_timeout_ms = 2000;
  int request_timeout_ms = 30000;
  int64_t max_response_bytes = 256LL * 1024 * 1024;
  int max_idle_handles = 64;  // pooled easy handles (each keeps its connections alive)
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions opts = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe. Throws TransportError when no response arrived.
  HttpResponse send(const HttpRequest& req);

  // Splits "http://host:port/path?q" into its parts; throws std::invalid_argument when the URL
  // is not http(s).
  struct Url {
    std::string scheme, host, port, path, query;
    std::string authority() const;  // host[:port] as sent in the Host header
  };
  static Url parse_url(std::string_view url);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isvc::aws
