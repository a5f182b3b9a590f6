// Embedded mode's signed upload URLs (the service's own PUT /uploads/{id}):
//   {base}/uploads/{id}?expires=E&length=N&type=image%2Fpng&signature=HMAC-SHA256
// The signature covers the id, the expiry and the declared length and type, so a PUT is judged
// from its head alone (no store read).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/ports/upload_url_signer.h"

namespace isvc::storage {

class ServiceUploadUrls final : public domain::UploadUrlSigner, public domain::SignedPutVerifier {
 public:
  ServiceUploadUrls(std::string secret, std::string base_url)
      : key_(std::move(secret)), base_(std::move(base_url)) {}
  void set_base_url(std::string base) { base_ = std::move(base); }
  std::string put_url(const domain::UploadRecord& upload, int64_t expires_at_s) override;
  std::string put_url(const std::string& upload_id, int64_t content_length,
                      const std::string& content_type, int64_t expires_at_s) const;
  std::optional<domain::SignedPut> verify(const std::string& upload_id,
                                          const domain::SignedPutQuery& q,
                                          int64_t now_s) const override;

 private:
  std::string signature(const std::string& upload_id, const std::string& expires,
                        const std::string& length, const std::string& type) const;
  std::string key_;
  std::string base_;
};

}  // namespace isvc::storage
