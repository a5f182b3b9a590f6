// Direct uploads in S3 mode: presigned PUT URLs for temp/{uploadId}. The declared length is
// checked at complete (presigned PUT URLs cannot bind it).
#pragma once

#include <algorithm>

#include "domain/model/object_keys.h"
#include "domain/ports/clock.h"
#include "domain/ports/upload_url_signer.h"
#include "storage/s3_object_store.h"

namespace isvc::storage {

class S3UploadUrls final : public domain::UploadUrlSigner {
 public:
  S3UploadUrls(S3ObjectStore& s3, const domain::Clock& clock) : s3_(s3), clock_(clock) {}
  std::string put_url(const domain::UploadRecord& u, int64_t expires_at_s) override {
    return s3_.presign_put(domain::temp_object_key(u.id),
                           std::max<int64_t>(1, expires_at_s - clock_.now_s()));
  }

 private:
  S3ObjectStore& s3_;
  const domain::Clock& clock_;
};

}  // namespace isvc::storage
