#include "aws/http_client.h"

#include <curl/curl.h>

#include <strings.h>

#include <algorithm>
#include <mutex>

namespace isvc::aws {

namespace {

std::once_flag g_curl_init;

struct Sink {
  HttpResponse* resp;
  int64_t limit;
  bool overflow = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t len = size * n;
  if (int64_t(sink->resp->body.size() + len) > sink->limit) {
    sink->overflow = true;
    return 0;
  }
  sink->resp->body.append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* resp = static_cast<HttpResponse*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue or a redirect)
    resp->headers.clear();
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  resp->headers[name] = std::string(value);
  return len;
}

}  // namespace

struct HttpClient::Impl {
  HttpClientOptions opts;
  std::mutex mu;
  std::vector<CURL*> idle;

  CURL* acquire() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        return h;
      }
    }
    CURL* h = curl_easy_init();
    if (!h) throw TransportError("curl_easy_init failed");
    return h;
  }
  void release(CURL* h) {
    std::lock_guard lock(mu);
    if (int(idle.size()) < opts.max_idle_handles) {
      idle.push_back(h);
      return;
    }
    curl_easy_cleanup(h);
  }
  ~Impl() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }
};

HttpClient::HttpClient(HttpClientOptions opts) : impl_(std::make_unique<Impl>()) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->opts = opts;
}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::send(const HttpRequest& req) {
  CURL* h = impl_->acquire();
  struct Guard {
    Impl* impl;
    CURL* h;
    curl_slist* headers = nullptr;
    ~Guard() {
      curl_slist_free_all(headers);
      curl_easy_reset(h);  // keeps the handle's connection cache
      impl->release(h);
    }
  } guard{impl_.get(), h};

  HttpResponse resp;
  Sink sink{&resp, impl_->opts.max_response_bytes};
  bool has_content_type = false;
  for (const auto& [k, v] : req.headers) {
    std::string line = k + ": " + v;
    if (v.empty()) line = k + ";";  // curl's syntax for a header with an empty value
    guard.headers = curl_slist_append(guard.headers, line.c_str());
    if (strcasecmp(k.c_str(), "content-type") == 0) has_content_type = true;
  }
  guard.headers = curl_slist_append(guard.headers, "Expect:");
  if (!has_content_type) guard.headers = curl_slist_append(guard.headers, "Content-Type:");

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(impl_->opts.connect_timeout_ms));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(impl_->opts.request_timeout_ms));
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, guard.headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp);
  if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.method != "DELETE" || !req.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    }
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    if (sink.overflow) throw TransportError("response body larger than the configured bound");
    throw TransportError(std::string(curl_easy_strerror(rc)) + " (" + req.method + " " +
                         parse_url(req.url).authority() + ")");
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  resp.status = int(status);
  return resp;
}

std::string HttpClient::Url::authority() const {
  bool default_port =
      port.empty() || (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  return default_port ? host : host + ":" + port;
}

HttpClient::Url HttpClient::parse_url(std::string_view url) {
  Url u;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) throw std::invalid_argument("not a URL: " + std::string(url));
  u.scheme = std::string(url.substr(0, sep));
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  if (u.scheme != "http" && u.scheme != "https")
    throw std::invalid_argument("only http and https URLs are supported: " + std::string(url));
  auto rest = url.substr(sep + 3);
  auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos)
    throw std::invalid_argument("bad URL authority: " + std::string(url));
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
  }
  std::string_view tail = slash == std::string_view::npos ? "" : rest.substr(slash);
  auto q = tail.find('?');
  u.path = std::string(tail.substr(0, q));
  if (u.path.empty()) u.path = "/";
  if (q != std::string_view::npos) u.query = std::string(tail.substr(q + 1));
  return u;
}

}  // namespace isvc::aws
