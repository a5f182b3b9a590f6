#include "webhooks/curl_transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>

#include "webhooks/address_policy.h"

namespace isvc::webhooks {

namespace {

struct Parts {
  std::string scheme, host, port, path;
};

std::optional<Parts> split(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto part = [&](CURLUPart p, unsigned flags) -> std::optional<std::string> {
    char* v = nullptr;
    if (curl_url_get(u.get(), p, &v, flags) != CURLUE_OK) return std::nullopt;
    std::string s(v);
    curl_free(v);
    return s;
  };
  Parts out;
  auto scheme = part(CURLUPART_SCHEME, 0);
  auto host = part(CURLUPART_HOST, 0);
  auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  auto path = part(CURLUPART_PATH, 0);
  if (!scheme || !host || !port || (*scheme != "http" && *scheme != "https")) return std::nullopt;
  out.scheme = *scheme;
  out.host = *host;
  out.port = *port;
  out.path = path.value_or("/");
  return out;
}

struct Sink {
  std::size_t seen = 0, limit = 0;
};

size_t on_body(char*, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  s->seen += size * n;
  return s->seen > s->limit ? 0 : size * n;  // past the bound: stop reading
}

}  // namespace

std::string display_url(const std::string& url) {
  auto p = split(url);
  if (!p) return "(unparsable URL)";
  return p->scheme + "://" + p->host + ":" + p->port + p->path;
}

CurlTransport::CurlTransport(TransportSettings s) : s_(s) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

domain::TransportResult CurlTransport::post(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body) {
  using R = domain::TransportResult;
  auto refused = [](std::string why) { return R{R::Refused, 0, std::move(why)}; };
  auto failed = [](int status, std::string why) { return R{R::Failed, status, std::move(why)}; };
  auto parts = split(url);
  if (!parts) return refused("not an http(s) URL");
  // The host without IPv6 brackets, as the resolver and the address check want it.
  std::string host = parts->host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);

  std::string pinned;  // the address the connection must use
  if (is_ip_literal(host)) {
    if (!s_.allow_private_targets)
      if (auto why = non_public_reason(host)) return refused(host + " is " + *why);
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(host.c_str(), parts->port.c_str(), &hints, &res); rc != 0)
      return failed(0, "cannot resolve " + host + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> hold(res, freeaddrinfo);
    // Every address the name has must be public: a name that also points inside is refused,
    // whichever address a later lookup would put first.
    for (auto* ai = res; ai; ai = ai->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* addr =
          ai->ai_family == AF_INET
              ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
              : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      inet_ntop(ai->ai_family, addr, text, sizeof text);
      if (!s_.allow_private_targets)
        if (auto why = non_public_reason(ai->ai_addr))
          return refused(host + " resolves to " + text + ", which is " + *why);
      if (pinned.empty()) pinned = ai->ai_family == AF_INET6 ? "[" + std::string(text) + "]" : text;
    }
    if (pinned.empty()) return failed(0, "no IP address for " + host);
  }

  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
  if (!h) return failed(0, "curl_easy_init failed");
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  list = curl_slist_append(list, "Expect:");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hold_headers(list,
                                                                           curl_slist_free_all);
  curl_slist* resolve = nullptr;
  if (!pinned.empty())
    resolve = curl_slist_append(nullptr, (host + ":" + parts->port + ":" + pinned).c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hold_resolve(resolve,
                                                                           curl_slist_free_all);
  Sink sink{0, s_.max_response_bytes};
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(s_.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(s_.timeout_ms));
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "image-service-webhooks/1");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  // A 2xx counts even when the (ignored) answer ran past the bound and was cut off.
  if (status >= 200 && status < 300 && (rc == CURLE_OK || rc == CURLE_WRITE_ERROR))
    return R{R::Delivered, int(status), ""};
  if (status >= 300 && status < 400) return failed(int(status), "redirect not followed");
  if (status != 0) return failed(int(status), "answered " + std::to_string(status));
  return failed(0, curl_easy_strerror(rc));
}

}  // namespace isvc::webhooks
