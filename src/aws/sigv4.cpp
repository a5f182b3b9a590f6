#include "aws/sigv4.h"
#include "base/crypto.h"
#include "base/encoding.h"

#include <algorithm>
#include <ctime>

namespace isvc::aws {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trim, and collapse runs of spaces into one (SigV4 canonical header values).
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Sorted, lower-cased, value-joined headers.
std::vector<std::pair<std::string, std::string>> canonical_headers(const RequestToSign& r) {
  std::vector<std::pair<std::string, std::string>> hs;
  for (const auto& [k, v] : r.headers) {
    auto name = lower(k);
    auto value = canonical_value(v);
    auto it = std::find_if(hs.begin(), hs.end(), [&](const auto& p) { return p.first == name; });
    if (it == hs.end())
      hs.emplace_back(name, value);
    else
      it->second += "," + value;
  }
  std::sort(hs.begin(), hs.end());
  return hs;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start < q.size()) {
    auto amp = q.find('&', start);
    auto item =
        q.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!item.empty()) {
      auto eq = item.find('=');
      // Malformed escapes are kept as written rather than dropped.
      auto decode = [](std::string_view v) {
        return base::percent_decode(v).value_or(std::string(v));
      };
      out.emplace_back(decode(item.substr(0, eq)),
                       eq == std::string_view::npos ? "" : decode(item.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

std::string signed_header_names(const RequestToSign& r) {
  std::string out;
  for (const auto& [k, v] : canonical_headers(r)) out += (out.empty() ? "" : ";") + k;
  return out;
}

std::string canonical_request(const RequestToSign& r) {
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : r.query) q.emplace_back(uri_encode(k, false), uri_encode(v, false));
  std::sort(q.begin(), q.end());
  std::string query;
  for (const auto& [k, v] : q) query += (query.empty() ? "" : "&") + k + "=" + v;
  std::string headers;
  for (const auto& [k, v] : canonical_headers(r)) headers += k + ":" + v + "\n";
  std::string path = r.path.empty() ? "/" : uri_encode(r.path, true);
  return r.method + "\n" + path + "\n" + query + "\n" + headers + "\n" + signed_header_names(r) +
         "\n" + r.payload_sha256_hex;
}

std::string string_to_sign(const SigningScope& scope, std::string_view creq) {
  return "AWS4-HMAC-SHA256\n" + scope.amz_date + "\n" + scope.date() + "/" + scope.region + "/" +
         scope.service + "/aws4_request\n" + base::hex_encode(base::sha256(creq));
}

std::string signing_key(const Credentials& c, const SigningScope& scope) {
  auto k = base::hmac_sha256("AWS4" + c.secret_access_key, scope.date());
  k = base::hmac_sha256(k, scope.region);
  k = base::hmac_sha256(k, scope.service);
  return base::hmac_sha256(k, "aws4_request");
}

std::string authorization(const Credentials& c, const SigningScope& scope, const RequestToSign& r) {
  auto sts = string_to_sign(scope, canonical_request(r));
  auto sig = base::hex_encode(base::hmac_sha256(signing_key(c, scope), sts));
  return "AWS4-HMAC-SHA256 Credential=" + c.access_key_id + "/" + scope.date() + "/" +
         scope.region + "/" + scope.service +
         "/aws4_request, SignedHeaders=" + signed_header_names(r) + ", Signature=" + sig;
}

std::string presigned_query(const Credentials& c, const SigningScope& scope, RequestToSign r,
                            int64_t expires_s) {
  r.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  r.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  r.query.emplace_back("X-Amz-Credential", c.access_key_id + "/" + scope.date() + "/" +
                                               scope.region + "/" + scope.service +
                                               "/aws4_request");
  r.query.emplace_back("X-Amz-Date", scope.amz_date);
  r.query.emplace_back("X-Amz-Expires", std::to_string(expires_s));
  if (!c.session_token.empty()) r.query.emplace_back("X-Amz-Security-Token", c.session_token);
  r.query.emplace_back("X-Amz-SignedHeaders", signed_header_names(r));
  auto sts = string_to_sign(scope, canonical_request(r));
  auto sig = base::hex_encode(base::hmac_sha256(signing_key(c, scope), sts));
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : r.query) q.emplace_back(uri_encode(k, false), uri_encode(v, false));
  std::sort(q.begin(), q.end());
  std::string out;
  for (const auto& [k, v] : q) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out + "&X-Amz-Signature=" + sig;
}

std::string amz_date(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace isvc::aws
