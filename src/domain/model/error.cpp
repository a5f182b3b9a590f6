#include "domain/model/error.h"

namespace isvc::domain {

namespace {
struct Info {
  const char* code;
  int status;
  const char* kind;
};

Info info(ErrorCode c) {
  switch (c) {
    case ErrorCode::ValidationFailed:
      return {"VALIDATION_FAILED", 400, "ValidationError"};
    case ErrorCode::InvalidFileType:
      return {"INVALID_FILE_TYPE", 400, "ValidationError"};
    case ErrorCode::InvalidDimensions:
      return {"INVALID_DIMENSIONS", 400, "ValidationError"};
    case ErrorCode::InvalidImage:
      return {"INVALID_IMAGE", 400, "ValidationError"};
    case ErrorCode::InvalidImageId:
      return {"INVALID_IMAGE_ID", 400, "ValidationError"};
    case ErrorCode::InvalidCursor:
      return {"INVALID_CURSOR", 400, "ValidationError"};
    case ErrorCode::BadRequest:
      return {"BAD_REQUEST", 400, "BadRequest"};
    case ErrorCode::Unauthorized:
      return {"UNAUTHORIZED", 401, "Unauthorized"};
    case ErrorCode::NotAuthorized:
      return {"NOT_AUTHORIZED", 403, "Forbidden"};
    case ErrorCode::ImageNotFound:
      return {"IMAGE_NOT_FOUND", 404, "NotFound"};
    case ErrorCode::NotFound:
      return {"NOT_FOUND", 404, "NotFound"};
    case ErrorCode::MethodNotAllowed:
      return {"METHOD_NOT_ALLOWED", 405, "MethodNotAllowed"};
    case ErrorCode::VersionMismatch:
      return {"VERSION_MISMATCH", 409, "Conflict"};
    case ErrorCode::IdempotencyKeyReused:
      return {"IDEMPOTENCY_KEY_REUSED", 409, "Conflict"};
    case ErrorCode::OwnerConflict:
      return {"IMAGE_OWNER_CONFLICT", 409, "Conflict"};
    case ErrorCode::ObjectKeyConflict:
      return {"OBJECT_KEY_CONFLICT", 409, "Conflict"};
    case ErrorCode::UploadInProgress:
      return {"UPLOAD_IN_PROGRESS", 409, "Conflict"};
    case ErrorCode::RequestTimeout:
      return {"REQUEST_TIMEOUT", 408, "RequestTimeout"};
    case ErrorCode::FileTooLarge:
      return {"FILE_TOO_LARGE", 413, "PayloadTooLarge"};
    case ErrorCode::PayloadTooLarge:
      return {"PAYLOAD_TOO_LARGE", 413, "PayloadTooLarge"};
    case ErrorCode::HeadersTooLarge:
      return {"HEADERS_TOO_LARGE", 431, "HeadersTooLarge"};
    case ErrorCode::UnsupportedMediaType:
      return {"UNSUPPORTED_MEDIA_TYPE", 415, "UnsupportedMediaType"};
    case ErrorCode::RangeNotSatisfiable:
      return {"RANGE_NOT_SATISFIABLE", 416, "RangeNotSatisfiable"};
    case ErrorCode::RateLimitExceeded:
      return {"RATE_LIMIT_EXCEEDED", 429, "TooManyRequests"};
    case ErrorCode::Internal:
      return {"INTERNAL_ERROR", 500, "InternalError"};
    case ErrorCode::S3DeleteFailed:
      return {"S3_DELETE_FAILED", 500, "InternalError"};
    case ErrorCode::StorageFailed:
      return {"STORAGE_FAILED", 500, "InternalError"};
    case ErrorCode::Unavailable:
      return {"SERVICE_UNAVAILABLE", 503, "ServiceUnavailable"};
    case ErrorCode::NotImplemented:
      return {"NOT_IMPLEMENTED", 501, "NotImplemented"};
  }
  return {"INTERNAL_ERROR", 500, "InternalError"};
}
}  // namespace

const char* code_name(ErrorCode c) {
  return info(c).code;
}
int http_status(ErrorCode c) {
  return info(c).status;
}
const char* error_kind(ErrorCode c) {
  return info(c).kind;
}

}  // namespace isvc::domain
