// The message-framing rules of RFC 9112/9110 that the server enforces on every request head
// before anything routes it: transfer codings (no smuggling), Host, header fields that must not
// repeat, and the request-target forms. Pure functions over the Beast-free Request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/model/error.h"
#include "http/message.h"

namespace isvc::http {

// The error to answer (and then close the connection) when the head is not acceptable:
// - Transfer-Encoding other than exactly `chunked` as the final (and only) coding → 400; a
//   coding before it that this server does not implement (gzip, …) → 501; Transfer-Encoding
//   together with Content-Length, or in HTTP/1.0 → 400;
// - HTTP/1.1 without exactly one Host, or any request with two → 400;
// - a repeated Authorization, Content-Type, Content-Length, Idempotency-Key or Range → 400.
std::optional<domain::Error> check_framing(const Request& head);

// The origin-form of a request-target: `/p?q` as is, an absolute-form `http://host/p?q` as
// `/p?q` (RFC 9112 §3.2.2: servers must accept it), `*` for OPTIONS. nullopt for anything else
// (authority-form, relative paths, other schemes, control bytes).
std::optional<std::string> origin_form(std::string_view target, std::string_view method);

}  // namespace isvc::http
