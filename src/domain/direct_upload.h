// Direct-to-storage uploads (SPEC §2): start → the client PUTs the bytes to a short-lived signed
// URL under temp/ → complete runs exactly the multipart upload's pipeline on those bytes.
// Temporary objects and records that are never completed lapse after 24 h (sweep()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/clock.h"
#include "domain/image_service.h"
#include "domain/model/upload_record.h"
#include "domain/ulid.h"
#include "storage/metadata_store.h"
#include "storage/object_store.h"

namespace isvc::domain {

// Port: the URL a client PUTs an upload's bytes to (S3 presigned, or the service's own). The
// upload's declared length and type are given so that a signer can bind the URL to them.
class UploadUrlSigner {
 public:
  virtual ~UploadUrlSigner() = default;
  virtual std::string put_url(const UploadRecord& upload, int64_t expires_at_s) = 0;
};

struct StartUploadRequest {
  std::string filename;
  std::string content_type;
  int64_t content_length = 0;
  std::optional<std::string> title, description, alt_text, album_id;
  std::vector<std::string> tags;
};

struct StartedUpload {
  UploadRecord record;
  std::string url;
  int64_t url_expires_at_ms = 0;
};

struct DirectUploadSettings {
  int64_t url_ttl_s = 900;        // how long the PUT URL works
  int64_t record_ttl_s = 86'400;  // uncompleted uploads lapse after this
  // A complete holds the upload this long: concurrent completes get UPLOAD_IN_PROGRESS, and a
  // complete whose process died is taken over once it has passed.
  int64_t complete_lease_s = 300;
  int64_t max_file_size = 10 * 1024 * 1024;
  FieldLimits fields;
};

class DirectUploads {
 public:
  DirectUploads(ImageService& images, storage::MetadataStore& metadata,
                storage::ObjectStore& objects, UploadUrlSigner& signer, UlidGenerator& ids,
                const Clock& clock, DirectUploadSettings s)
      : images_(images),
        metadata_(metadata),
        objects_(objects),
        signer_(signer),
        ids_(ids),
        clock_(clock),
        s_(std::move(s)) {}

  StartedUpload start(const Caller& caller, const StartUploadRequest& req);

  // The image, and whether this call created it (false: an earlier complete already had). One
  // complete runs at a time: while another holds the upload, 409 UPLOAD_IN_PROGRESS with
  // Retry-After 1. The stored object must have exactly the declared contentLength.
  std::pair<ImageRecord, bool> complete(const Caller& caller, const std::string& upload_id,
                                        const std::string& request_id = {});

  // The service's own upload URL (embedded mode): stores the bytes under temp/. The caller has
  // checked the URL (ServiceUploadUrls::check_put); the bytes must still match the declared
  // length and type, or nothing is stored.
  void receive(const std::string& upload_id, std::string_view bytes,
               const std::string& content_type);

  struct Swept {
    int64_t objects = 0;
    int64_t records = 0;
  };
  // Removes temp/ objects and upload records older than the record TTL (the embedded janitor).
  Swept sweep();

 private:
  UploadRecord load(const std::string& upload_id);
  std::pair<ImageRecord, bool> complete_claimed(const UploadRecord& u,
                                                const std::string& request_id);

  ImageService& images_;
  storage::MetadataStore& metadata_;
  storage::ObjectStore& objects_;
  UploadUrlSigner& signer_;
  UlidGenerator& ids_;
  const Clock& clock_;
  DirectUploadSettings s_;
};

// The query of an embedded upload URL, as received (values percent-decoded).
struct SignedPutQuery {
  std::string expires, length, type, signature;
};

// Embedded mode's signed upload URLs:
//   {base}/uploads/{id}?expires=E&length=N&type=image%2Fpng&signature=HMAC-SHA256
// The signature covers the id, the expiry and the declared length and type, so a PUT is judged
// from its head alone (no store read).
class ServiceUploadUrls final : public UploadUrlSigner {
 public:
  ServiceUploadUrls(std::string secret, std::string base_url)
      : key_(std::move(secret)), base_(std::move(base_url)) {}
  void set_base_url(std::string base) { base_ = std::move(base); }
  std::string put_url(const UploadRecord& upload, int64_t expires_at_s) override;
  std::string put_url(const std::string& upload_id, int64_t content_length,
                      const std::string& content_type, int64_t expires_at_s) const;

  // The head of PUT /uploads/{id}: throws 403 NOT_AUTHORIZED (bad signature, or expired), 413
  // FILE_TOO_LARGE (Content-Length over the declared length), 400 VALIDATION_FAILED naming
  // contentLength (missing or shorter Content-Length) or contentType (another media type,
  // parameters ignored). Returns the declared length.
  int64_t check_put(const std::string& upload_id, const SignedPutQuery& q,
                    std::optional<std::string_view> content_length,
                    std::optional<std::string_view> content_type, int64_t now_s) const;

 private:
  std::string signature(const std::string& upload_id, const std::string& expires,
                        const std::string& length, const std::string& type) const;
  std::string key_;
  std::string base_;
};

// The media type of a Content-Type value, lower-cased, without parameters or spaces.
std::string media_type(std::string_view content_type);

}  // namespace isvc::domain
