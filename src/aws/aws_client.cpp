#include "aws/aws_client.h"

#include <chrono>
#include <thread>

#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/model/error.h"

namespace isvc::aws {

int64_t backoff_ms(const RetryPolicy& p, int retry, std::mt19937_64& rng) {
  int64_t ceiling = p.base_ms;
  for (int i = 0; i < retry && ceiling < p.cap_ms; ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, p.cap_ms);
  return std::uniform_int_distribution<int64_t>(0, ceiling)(rng);
}

bool is_retryable(const HttpResponse& r) {
  if (r.status == 501) return false;  // Not Implemented never gets better by retrying
  if (r.status == 429 || r.status >= 500) return true;
  if (r.status != 400) return false;
  for (const char* t : {"ProvisionedThroughputExceededException", "ThrottlingException",
                        "RequestLimitExceeded", "SlowDown"})
    if (r.body.find(t) != std::string::npos) return true;
  return false;
}

std::string describe_error(const HttpResponse& r) {
  std::string body = r.body.substr(0, 300);
  for (auto& c : body)
    if (c == '\n' || c == '\r') c = ' ';
  return "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
}

AwsClient::AwsClient(HttpClient& http, AwsClientSettings s) : http_(http), s_(std::move(s)) {
  host_ = HttpClient::parse_url(s_.endpoint).authority();
  if (!s_.now_s)
    s_.now_s = [] {
      return int64_t(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
    };
  if (!s_.sleep)
    s_.sleep = [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  while (!s_.endpoint.empty() && s_.endpoint.back() == '/') s_.endpoint.pop_back();
}

namespace {
std::string encoded_query(const std::vector<std::pair<std::string, std::string>>& q) {
  std::string out;
  for (const auto& [k, v] : q)
    out += (out.empty() ? "" : "&") + uri_encode(k, false) + "=" + uri_encode(v, false);
  return out;
}
}  // namespace

HttpResponse AwsClient::send_once(const AwsRequest& req) {
  RequestToSign r;
  r.method = req.method;
  r.path = req.path;
  r.query = req.query;
  r.payload_sha256_hex = base::hex_encode(base::sha256(req.body));
  SigningScope scope{s_.region, s_.service, amz_date(s_.now_s())};
  r.headers = req.headers;
  r.headers.emplace_back("host", host_);
  r.headers.emplace_back("x-amz-date", scope.amz_date);
  r.headers.emplace_back("x-amz-content-sha256", r.payload_sha256_hex);
  if (!s_.credentials.session_token.empty())
    r.headers.emplace_back("x-amz-security-token", s_.credentials.session_token);

  HttpRequest h;
  h.method = req.method;
  h.url = s_.endpoint + uri_encode(req.path, true);
  if (!req.query.empty()) h.url += "?" + encoded_query(req.query);
  h.body = req.body;
  for (const auto& [k, v] : r.headers)
    if (k != "host") h.headers.emplace_back(k, v);
  h.headers.emplace_back("Authorization", authorization(s_.credentials, scope, r));
  return http_.send(h);
}

HttpResponse AwsClient::send(const AwsRequest& req) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string last_problem;
  for (int attempt = 0; attempt < std::max(1, s_.retry.max_attempts); ++attempt) {
    if (attempt > 0) s_.sleep(backoff_ms(s_.retry, attempt - 1, rng));
    if (s_.counter) s_.counter->add(s_.service, req.action.empty() ? req.method : req.action);
    try {
      HttpResponse resp = send_once(req);
      if (!is_retryable(resp)) return resp;
      last_problem = describe_error(resp);
    } catch (const TransportError& e) {
      last_problem = e.what();
    }
  }
  domain::Error e(domain::ErrorCode::Unavailable, s_.service + " is unavailable; try again shortly",
                  {{"backend", s_.service}, {"cause", last_problem}});
  e.retry_after_s = 1;
  throw e;
}

std::string AwsClient::presign(const std::string& method, const std::string& path,
                               int64_t expires_s, const std::string& endpoint_override) const {
  std::string endpoint = endpoint_override.empty() ? s_.endpoint : endpoint_override;
  RequestToSign r;
  r.method = method;
  r.path = path;
  r.headers.emplace_back("host", HttpClient::parse_url(endpoint).authority());
  SigningScope scope{s_.region, s_.service, amz_date(s_.now_s())};
  return endpoint + uri_encode(path, true) + "?" +
         presigned_query(s_.credentials, scope, r, expires_s);
}

}  // namespace isvc::aws
