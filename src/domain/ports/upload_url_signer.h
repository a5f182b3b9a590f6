// Ports of direct uploads: the URL a client PUTs an upload's bytes to (S3 presigned, or the
// service's own), and, for the service's own URLs, the check of what such a URL signed.
// Adapters: storage/s3_upload_urls (distributed), storage/service_upload_urls (embedded).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/model/upload_record.h"

namespace isvc::domain {

class UploadUrlSigner {
 public:
  virtual ~UploadUrlSigner() = default;
  // The upload's declared length and type are given so that a signer can bind the URL to them.
  virtual std::string put_url(const UploadRecord& upload, int64_t expires_at_s) = 0;
};

// The query of a service upload URL, as received (values percent-decoded).
struct SignedPutQuery {
  std::string expires, length, type, signature;
};

// What a valid service upload URL commits the PUT to.
struct SignedPut {
  int64_t content_length = 0;
  std::string content_type;
};

class SignedPutVerifier {
 public:
  virtual ~SignedPutVerifier() = default;
  // The declared length and type when `q` carries this service's valid, unexpired signature for
  // the upload; nullopt otherwise.
  virtual std::optional<SignedPut> verify(const std::string& upload_id, const SignedPutQuery& q,
                                          int64_t now_s) const = 0;
};

}  // namespace isvc::domain
