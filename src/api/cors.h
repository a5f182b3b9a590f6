// CORS (SPEC §4, §12): exact origins or `scheme://*.domain` patterns that match subdomains at any
// depth but never the bare domain or look-alikes. Never a wildcard `*` origin.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace isvc::api {

class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {}
  bool allowed(std::string_view origin) const;
  // Adds Access-Control-Allow-Origin (+ credentials, exposed headers) and Vary: Origin.
  void decorate(const http::Request& req, http::Response& res) const;
  // The 204 answer to a preflight (OPTIONS with Origin + Access-Control-Request-Method).
  http::Response preflight(const http::Request& req) const;

 private:
  std::vector<std::string> origins_;
};

}  // namespace isvc::api
