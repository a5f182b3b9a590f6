// What every response to a fuzzed request must satisfy (SPEC §2, §12): no 5xx for anything a
// client can send, and every error body (but HEAD's) is the SPEC's JSON error object with the
// request id.
#pragma once

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>

#include "http/message.h"

namespace isvc::fuzz {

[[noreturn]] inline void fail(const http::Response& res, const char* why) {
  std::fprintf(stderr, "bad response (%s): status %d body %.*s\n", why, res.status,
               int(std::min<std::size_t>(res.payload().size(), 2000)), res.payload().data());
  std::abort();
}

inline void check_response(const http::Request& req, const http::Response& res) {
  if (res.status < 100 || res.status >= 500) fail(res, "status");
  if (res.status < 400 || req.method == "HEAD") return;  // a HEAD answer has no body
  boost::system::error_code ec;
  auto body = boost::json::parse(res.payload(), ec);
  if (ec || !body.is_object()) fail(res, "error body is not a JSON object");
  const auto& o = body.as_object();
  for (const char* k : {"error", "message", "code", "requestId"})
    if (!o.contains(k) || !o.at(k).is_string()) fail(res, "error body field");
  if (o.at("requestId").as_string() != "fuzz") fail(res, "requestId");
}

}  // namespace isvc::fuzz
