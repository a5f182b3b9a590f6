#include "storage/service_upload_urls.h"

#include "base/crypto.h"
#include "base/encoding.h"

namespace isvc::storage {

std::string ServiceUploadUrls::signature(const std::string& upload_id, const std::string& expires,
                                         const std::string& length, const std::string& type) const {
  return base::hex_encode(base::hmac_sha256(
      key_, "v2\nPUT /uploads/" + upload_id + "\n" + expires + "\n" + length + "\n" + type));
}

std::string ServiceUploadUrls::put_url(const domain::UploadRecord& u, int64_t expires_at_s) {
  return put_url(u.id, u.content_length, u.content_type, expires_at_s);
}

std::string ServiceUploadUrls::put_url(const std::string& upload_id, int64_t content_length,
                                       const std::string& content_type,
                                       int64_t expires_at_s) const {
  auto exp = std::to_string(expires_at_s);
  auto len = std::to_string(content_length);
  // The supported types (image/jpeg, image/png, image/webp) need no escaping in a query.
  return base_ + "/uploads/" + upload_id + "?expires=" + exp + "&length=" + len +
         "&type=" + content_type + "&signature=" + signature(upload_id, exp, len, content_type);
}

std::optional<domain::SignedPut> ServiceUploadUrls::verify(const std::string& upload_id,
                                                           const domain::SignedPutQuery& q,
                                                           int64_t now_s) const {
  auto exp = base::parse_count(q.expires);
  auto declared = base::parse_count(q.length);
  bool signed_ok =
      exp && declared &&
      base::constant_time_equal(signature(upload_id, q.expires, q.length, q.type), q.signature);
  if (!signed_ok || *exp < now_s) return std::nullopt;
  return domain::SignedPut{*declared, q.type};
}

}  // namespace isvc::storage
