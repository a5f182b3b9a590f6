// The one error type of the service: a SPEC error code, a human message and optional details.
// Adapters map their failures into it; api/error_mapping maps it to HTTP (the statuses in the
// comments below are that mapping, for the reader).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace isvc::domain {

enum class ErrorCode {
  ValidationFailed,      // 400 VALIDATION_FAILED
  InvalidFileType,       // 400 INVALID_FILE_TYPE
  InvalidDimensions,     // 400 INVALID_DIMENSIONS
  InvalidImage,          // 400 INVALID_IMAGE
  InvalidImageId,        // 400 INVALID_IMAGE_ID
  InvalidCursor,         // 400 INVALID_CURSOR
  BadRequest,            // 400 BAD_REQUEST (malformed HTTP/JSON/multipart)
  Unauthorized,          // 401 UNAUTHORIZED
  NotAuthorized,         // 403 NOT_AUTHORIZED
  ImageNotFound,         // 404 IMAGE_NOT_FOUND
  NotFound,              // 404 NOT_FOUND (route or file)
  MethodNotAllowed,      // 405 METHOD_NOT_ALLOWED
  VersionMismatch,       // 409 VERSION_MISMATCH
  IdempotencyKeyReused,  // 409 IDEMPOTENCY_KEY_REUSED
  OwnerConflict,         // 409 IMAGE_OWNER_CONFLICT (import of an id another user owns)
  ObjectKeyConflict,     // 409 OBJECT_KEY_CONFLICT (import of keys another user's image uses)
  UploadInProgress,      // 409 UPLOAD_IN_PROGRESS (a concurrent complete of the same upload)
  RequestTimeout,        // 408 REQUEST_TIMEOUT (body idle or slower than the minimum rate)
  FileTooLarge,          // 413 FILE_TOO_LARGE
  PayloadTooLarge,       // 413 PAYLOAD_TOO_LARGE (non-upload bodies)
  HeadersTooLarge,       // 431 HEADERS_TOO_LARGE
  UnsupportedMediaType,  // 415 UNSUPPORTED_MEDIA_TYPE
  RangeNotSatisfiable,   // 416 RANGE_NOT_SATISFIABLE
  RateLimitExceeded,     // 429 RATE_LIMIT_EXCEEDED
  Internal,              // 500 INTERNAL_ERROR
  S3DeleteFailed,        // 500 S3_DELETE_FAILED
  StorageFailed,         // 500 STORAGE_FAILED
  Unavailable,           // 503 SERVICE_UNAVAILABLE
  NotImplemented,        // 501 NOT_IMPLEMENTED (a transfer coding the server does not implement)
};

// The machine code of SPEC §2, e.g. "VALIDATION_FAILED".
const char* code_name(ErrorCode c);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::map<std::string, std::string> details = {})
      : std::runtime_error(message), code_(code), details_(std::move(details)) {}

  ErrorCode code() const { return code_; }
  const std::map<std::string, std::string>& details() const { return details_; }

  // Extra top-level fields for specific errors.
  std::optional<int64_t> current_version;  // VERSION_MISMATCH
  std::optional<int> retry_after_s;        // 429, 503

  static Error validation(const std::string& field, const std::string& message) {
    return Error(ErrorCode::ValidationFailed, message, {{"field", field}});
  }

 private:
  ErrorCode code_;
  std::map<std::string, std::string> details_;
};

}  // namespace isvc::domain
