// The webhook transport on libcurl: resolves the target's host itself, refuses non-public
// addresses (unless allowed), and pins the address it checked for the connection
// (CURLOPT_RESOLVE), so a DNS answer that changes between check and connect cannot redirect the
// request; follows no redirects, uses no proxy, and bounds the attempt's time and the response
// it reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/ports/webhook_transport.h"

namespace isvc::webhooks {

struct TransportSettings {
  bool allow_private_targets = false;
  int64_t connect_timeout_ms = 3000;
  int64_t timeout_ms = 10000;
  std::size_t max_response_bytes = 64 * 1024;  // read and dropped; more aborts the read
};

// "scheme://host[:port]/path" without user info or query, for logs and metrics.
std::string display_url(const std::string& url);

class CurlTransport final : public domain::WebhookTransport {
 public:
  explicit CurlTransport(TransportSettings s);
  domain::TransportResult post(const std::string& url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body) override;

 private:
  TransportSettings s_;
};

}  // namespace isvc::webhooks
