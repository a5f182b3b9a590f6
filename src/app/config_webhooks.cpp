// The WEBHOOK_* settings (docs/webhooks.md, README configuration): read and checked here so that a
// bad target list or secret stops start-up naming the variable.
#include <charconv>

#include "app/config.h"
#include "domain/webhook_events.h"

namespace isvc::app {

namespace {

std::vector<std::string> items(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto comma = s.find(',', start);
    auto item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    out.push_back(b == std::string::npos ? "" : item.substr(b, e - b + 1));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

int64_t number(const char* name, const std::string& v, int64_t lo, int64_t hi) {
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < lo || out > hi)
    throw ConfigError(std::string(name) + ": must be an integer between " + std::to_string(lo) +
                      " and " + std::to_string(hi) + ", got '" + v + "'");
  return out;
}

void check_target(const std::string& url) {
  auto scheme = url.rfind("https://", 0) == 0 ? 8u : url.rfind("http://", 0) == 0 ? 7u : 0u;
  bool ok = scheme != 0 && url.size() > scheme && url.size() <= 2048 &&
            url.find_first_of(" \t\r\n\"<>\\^`{|}") == std::string::npos && url[scheme] != '/';
  if (!ok) throw ConfigError("WEBHOOK_URLS: '" + url + "' is not an http(s) URL with a host");
  auto at = url.find('@');
  if (at != std::string::npos && at < url.find('/', scheme))
    throw ConfigError("WEBHOOK_URLS: '" + url +
                      "' carries user info; sign with the secret instead");
}

}  // namespace

WebhookConfig load_webhook_config(const EnvLookup& env) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto v = env(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  WebhookConfig w;
  auto urls = get("WEBHOOK_URLS");
  auto secrets = get("WEBHOOK_SECRETS");
  if (urls) {
    w.urls = items(*urls);
    if (w.urls.size() > 16) throw ConfigError("WEBHOOK_URLS: at most 16 targets");
    for (const auto& u : w.urls) check_target(u);
    for (std::size_t i = 0; i < w.urls.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (w.urls[i] == w.urls[j])
          throw ConfigError("WEBHOOK_URLS: '" + w.urls[i] + "' is listed twice");
  }
  if (secrets && !urls) throw ConfigError("WEBHOOK_SECRETS: set without WEBHOOK_URLS");
  if (urls) {
    if (!secrets) throw ConfigError("WEBHOOK_SECRETS: required with WEBHOOK_URLS (one per URL)");
    auto list = items(*secrets);
    if (list.size() != w.urls.size())
      throw ConfigError("WEBHOOK_SECRETS: " + std::to_string(list.size()) + " secrets for " +
                        std::to_string(w.urls.size()) +
                        " WEBHOOK_URLS; give one per URL, in order");
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto key = domain::parse_webhook_secret(list[i]);
      // Never echo a secret: say which one.
      if (!key || key->size() < 16 || key->size() > 64)
        throw ConfigError("WEBHOOK_SECRETS: secret " + std::to_string(i + 1) +
                          " must be whsec_ followed by the base64 of 16 to 64 bytes");
      w.secrets.push_back(*key);
    }
  }
  if (auto v = get("WEBHOOK_ALLOW_PRIVATE_TARGETS")) {
    if (*v == "true" || *v == "1")
      w.allow_private_targets = true;
    else if (*v != "false" && *v != "0")
      throw ConfigError("WEBHOOK_ALLOW_PRIVATE_TARGETS: expected true or false, got '" + *v + "'");
  }
  if (auto v = get("WEBHOOK_RETRY_FOR_S"))
    w.retry_for_s = number("WEBHOOK_RETRY_FOR_S", *v, 1, 7 * 86400);
  if (auto v = get("WEBHOOK_RETRY_INITIAL_MS"))
    w.retry_initial_ms = number("WEBHOOK_RETRY_INITIAL_MS", *v, 10, 3600 * 1000);
  if (auto v = get("WEBHOOK_RETRY_MAX_MS"))
    w.retry_max_ms = number("WEBHOOK_RETRY_MAX_MS", *v, 10, 86400 * 1000);
  if (w.retry_max_ms < w.retry_initial_ms)
    throw ConfigError("WEBHOOK_RETRY_MAX_MS: must not be below WEBHOOK_RETRY_INITIAL_MS");
  if (auto v = get("WEBHOOK_TIMEOUT_MS"))
    w.timeout_ms = number("WEBHOOK_TIMEOUT_MS", *v, 100, 60000);
  if (auto v = get("WEBHOOK_CONNECT_TIMEOUT_MS"))
    w.connect_timeout_ms = number("WEBHOOK_CONNECT_TIMEOUT_MS", *v, 100, 60000);
  if (w.connect_timeout_ms > w.timeout_ms)
    throw ConfigError("WEBHOOK_CONNECT_TIMEOUT_MS: must not exceed WEBHOOK_TIMEOUT_MS");
  if (auto v = get("WEBHOOK_POLL_MS")) w.poll_ms = number("WEBHOOK_POLL_MS", *v, 10, 60000);
  return w;
}

}  // namespace isvc::app
