#include "domain/cursor_codec.h"

#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/model/error.h"

namespace isvc::domain {

namespace {
constexpr uint8_t kVersion = 1;
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kMaxCursorChars = 512;

void put_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out += char(uint8_t(v >> (8 * i)));
}

void put_field(std::string& out, std::string_view v) {
  put_u64(out, v.size());
  out.append(v);
}

// The MAC covers the payload and an unambiguous (length-prefixed) encoding of the scope.
std::string scope_bytes(const CursorScope& s) {
  std::string out;
  put_field(out, s.user_id);
  out += s.album_id ? '\1' : '\0';
  put_field(out, s.album_id.value_or(""));
  out += s.tag ? '\1' : '\0';
  put_field(out, s.tag.value_or(""));
  out += s.ascending ? 'a' : 'd';
  // Appended only when set, so that the cursors of the upload-time list stay valid.
  if (s.sort_by == SortBy::TakenAt) out += "sort:taken";
  if (s.duplicates_of) {
    out += "dup:";
    put_field(out, *s.duplicates_of);
  }
  return out;
}

Error invalid() {
  return Error(ErrorCode::InvalidCursor, "the cursor is invalid for this request");
}
}  // namespace

std::string CursorCodec::encode(const domain::ListPosition& pos, const CursorScope& scope) const {
  std::string payload;
  payload += char(kVersion);
  put_u64(payload, uint64_t(pos.uploaded_at_ms));
  payload.append(pos.id);
  std::string mac = base::hmac_sha256(secret_, payload + scope_bytes(scope)).substr(0, kMacBytes);
  return base::base64url_encode(payload + mac);
}

domain::ListPosition CursorCodec::decode(std::string_view cursor, const CursorScope& scope) const {
  if (cursor.empty() || cursor.size() > kMaxCursorChars) throw invalid();
  auto raw = base::base64url_decode(cursor);
  if (!raw || raw->size() < 1 + 8 + kMacBytes || uint8_t((*raw)[0]) != kVersion) throw invalid();
  std::string payload = raw->substr(0, raw->size() - kMacBytes);
  std::string mac = raw->substr(raw->size() - kMacBytes);
  std::string expected =
      base::hmac_sha256(secret_, payload + scope_bytes(scope)).substr(0, kMacBytes);
  if (!base::constant_time_equal(mac, expected)) throw invalid();
  domain::ListPosition pos;
  uint64_t ms = 0;
  for (int i = 1; i <= 8; ++i) ms = (ms << 8) | uint8_t(payload[i]);
  pos.uploaded_at_ms = int64_t(ms);
  pos.id = payload.substr(9);
  if (pos.id.empty() || pos.id.size() > 64) throw invalid();
  return pos;
}

}  // namespace isvc::domain
