#include "http/multipart.h"

#include "base/encoding.h"
#include "domain/model/error.h"
#include "http/message.h"

namespace isvc::http {

namespace {

using domain::Error;
using domain::ErrorCode;

Error bad(const std::string& why) {
  return Error(ErrorCode::BadRequest, "malformed multipart body: " + why);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Parameters of a header value: `type; a=b; c="d \" e"`. Returns lower-cased names.
std::vector<std::pair<std::string, std::string>> header_params(std::string_view v,
                                                               std::string_view* first) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = v.find(';');
  *first = trim(v.substr(0, i));
  while (i != std::string_view::npos && i < v.size()) {
    ++i;  // skip ';'
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    std::size_t eq = v.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string name = lower(trim(v.substr(i, eq - i)));
    i = eq + 1;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    std::string value;
    if (i < v.size() && v[i] == '"') {
      ++i;
      bool closed = false;
      while (i < v.size()) {
        char c = v[i++];
        if (c == '\\' && i < v.size()) {
          value += v[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) throw bad("unterminated quoted parameter");
      i = v.find(';', i);
    } else {
      std::size_t semi = v.find(';', i);
      value =
          std::string(trim(v.substr(i, semi == std::string_view::npos ? v.size() - i : semi - i)));
      i = semi;
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

// RFC 5987 ext-value: UTF-8''percent-encoded
std::optional<std::string> decode_ext_value(std::string_view v) {
  auto q = v.find("''");
  if (q == std::string_view::npos || lower(v.substr(0, q)) != "utf-8") return std::nullopt;
  return base::percent_decode(v.substr(q + 2));
}

FormPart parse_part_headers(std::string_view headers) {
  FormPart part;
  bool disposition = false;
  std::size_t pos = 0;
  while (pos < headers.size()) {
    std::size_t eol = headers.find("\r\n", pos);
    std::string_view line =
        headers.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? headers.size() : eol + 2;
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) throw bad("part header without a colon");
    auto name = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Disposition")) {
      std::string_view type;
      auto params = header_params(value, &type);
      if (!iequals(type, "form-data")) throw bad("part disposition is not form-data");
      std::optional<std::string> name_param, filename, filename_ext;
      for (auto& [k, v] : params) {
        if (k == "name")
          name_param = v;
        else if (k == "filename")
          filename = v;
        else if (k == "filename*")
          filename_ext = decode_ext_value(v);
      }
      if (!name_param) throw bad("part without a name");
      part.name = *name_param;
      part.filename = filename_ext ? filename_ext : filename;
      disposition = true;
    } else if (iequals(name, "Content-Type")) {
      part.content_type = std::string(value);
    }
  }
  if (!disposition) throw bad("part without Content-Disposition");
  return part;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  std::string_view type;
  std::vector<std::pair<std::string, std::string>> params;
  try {
    params = header_params(content_type, &type);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!iequals(type, "multipart/form-data")) return std::nullopt;
  for (auto& [k, v] : params) {
    if (k != "boundary") continue;
    if (v.empty() || v.size() > 70) return std::nullopt;
    for (char c : v)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
        return std::nullopt;
    return v;
  }
  return std::nullopt;
}

std::vector<FormPart> parse_multipart(std::string_view body, std::string_view boundary,
                                      const MultipartLimits& limits) {
  if (boundary.empty()) throw bad("empty boundary");
  const std::string dash = "--" + std::string(boundary);
  const std::string delim = "\r\n" + dash;
  std::vector<FormPart> parts;

  // The first delimiter may start the body (no preamble) or follow a preamble line.
  std::size_t pos;
  if (body.substr(0, dash.size()) == dash) {
    pos = dash.size();
  } else {
    auto d = body.find(delim);
    if (d == std::string_view::npos) throw bad("no opening boundary");
    pos = d + delim.size();
  }
  for (;;) {
    // After a delimiter: "--" ends the body, otherwise optional whitespace then CRLF.
    if (body.substr(pos, 2) == "--") return parts;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") throw bad("boundary not followed by CRLF");
    pos += 2;
    if (parts.size() >= limits.max_parts) throw bad("too many parts");
    std::size_t header_end = body.find("\r\n\r\n", pos);
    std::size_t headers_len;
    if (body.substr(pos, 2) == "\r\n") {  // a part with no headers at all
      header_end = pos;
      headers_len = 0;
    } else {
      if (header_end == std::string_view::npos) throw bad("unterminated part headers");
      headers_len = header_end - pos;
    }
    if (headers_len > limits.max_part_header_bytes) throw bad("part headers too large");
    FormPart part = parse_part_headers(body.substr(pos, headers_len));
    std::size_t data_start = header_end + (headers_len == 0 ? 2 : 4);
    std::size_t next = body.find(delim, data_start);
    if (next == std::string_view::npos) throw bad("missing closing boundary");
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    pos = next + delim.size();
  }
}

}  // namespace isvc::http
