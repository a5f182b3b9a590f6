#include "http/framing.h"

#include <array>
#include <cctype>
#include <vector>

namespace isvc::http {

using domain::Error;
using domain::ErrorCode;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 §5.6.2 token characters.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(char(c)) == std::string_view::npos) return false;
  }
  return true;
}

Error bad(std::string message) {
  return Error(ErrorCode::BadRequest, std::move(message));
}

std::optional<Error> check_transfer_coding(const Request& head) {
  std::vector<std::string_view> codings;
  bool present = false;
  for (const auto& [name, value] : head.headers) {
    if (!iequals(name, "Transfer-Encoding")) continue;
    present = true;
    std::string_view list = value;
    while (true) {
      auto comma = list.find(',');
      auto item = trim(list.substr(0, comma));
      if (!item.empty()) codings.push_back(item);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  if (!present) return std::nullopt;
  if (head.version < 11) return bad("Transfer-Encoding is not allowed in an HTTP/1.0 request");
  if (head.header("Content-Length"))
    return bad("a request must not carry both Transfer-Encoding and Content-Length");
  if (codings.empty() || !iequals(codings.back(), "chunked"))
    return bad("the final transfer coding must be chunked");
  for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
    if (iequals(codings[i], "chunked")) return bad("chunked may be applied only once");
    if (!is_token(codings[i])) return bad("malformed Transfer-Encoding");
  }
  if (codings.size() > 1)
    return Error(ErrorCode::NotImplemented, "transfer coding '" + std::string(codings.front()) +
                                                "' is not implemented; send the body chunked only");
  return std::nullopt;
}

}  // namespace

std::optional<Error> check_framing(const Request& head) {
  if (auto e = check_transfer_coding(head)) return e;
  int hosts = head.header_count("Host");
  if (hosts > 1) return bad("a request must carry exactly one Host header");
  if (hosts == 0 && head.version >= 11) return bad("an HTTP/1.1 request must carry a Host header");
  static constexpr std::array<std::string_view, 5> kSingletons = {
      "Authorization", "Content-Type", "Content-Length", "Idempotency-Key", "Range"};
  for (auto name : kSingletons)
    if (head.header_count(name) > 1)
      return bad("the " + std::string(name) + " header must not be repeated");
  return std::nullopt;
}

std::optional<std::string> origin_form(std::string_view target, std::string_view method) {
  for (unsigned char c : target)
    if (c <= 0x20 || c == 0x7f) return std::nullopt;
  if (!target.empty() && target.front() == '/') return std::string(target);
  if (target == "*") {
    if (method == "OPTIONS") return std::string("*");
    return std::nullopt;
  }
  // absolute-form: scheme "://" authority [path-abempty] [ "?" query ]
  auto sep = target.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  auto scheme = target.substr(0, sep);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return std::nullopt;
  auto rest = target.substr(sep + 3);
  auto path_at = rest.find_first_of("/?");
  auto authority = rest.substr(0, path_at);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  if (path_at == std::string_view::npos) return std::string("/");
  auto path = rest.substr(path_at);
  if (path.front() == '?') return "/" + std::string(path);
  return std::string(path);
}

}  // namespace isvc::http
