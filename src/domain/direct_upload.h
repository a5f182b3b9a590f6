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

#include "domain/image_service.h"
#include "domain/model/upload_record.h"
#include "domain/ports/clock.h"
#include "domain/ports/object_store.h"
#include "domain/ports/upload_repository.h"
#include "domain/ports/upload_url_signer.h"
#include "domain/ulid.h"

namespace isvc::domain {

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
  // SUPPORTED_FORMATS as MIME types: start refuses any other contentType (INVALID_FILE_TYPE).
  std::vector<std::string> content_types = {"image/jpeg", "image/png", "image/webp"};
  FieldLimits fields;
};

class DirectUploads {
 public:
  DirectUploads(ImageService& images, UploadRepository& uploads, ObjectStore& objects,
                UploadUrlSigner& signer, IdGenerator& ids, const Clock& clock,
                DirectUploadSettings s)
      : images_(images),
        uploads_(uploads),
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
  UploadRepository& uploads_;
  ObjectStore& objects_;
  UploadUrlSigner& signer_;
  IdGenerator& ids_;
  const Clock& clock_;
  DirectUploadSettings s_;
};

// What makes two completes "the same request" for an Idempotency-Key: the upload id.
std::string complete_fingerprint(const std::string& upload_id);

// The head of a PUT to a service upload URL against what the URL signed (SPEC: the declared
// length and type are enforced): 413 FILE_TOO_LARGE (Content-Length over the declared length),
// 400 VALIDATION_FAILED naming contentLength (missing or shorter) or contentType (another media
// type, parameters ignored).
void check_signed_put(const SignedPut& declared, std::optional<std::string_view> content_length,
                      std::optional<std::string_view> content_type);

// The media type of a Content-Type value, lower-cased, without parameters or spaces.
std::string media_type(std::string_view content_type);

}  // namespace isvc::domain
