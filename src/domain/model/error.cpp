#include "domain/model/error.h"

namespace isvc::domain {

const char* code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::ValidationFailed:
      return "VALIDATION_FAILED";
    case ErrorCode::InvalidFileType:
      return "INVALID_FILE_TYPE";
    case ErrorCode::InvalidDimensions:
      return "INVALID_DIMENSIONS";
    case ErrorCode::InvalidImage:
      return "INVALID_IMAGE";
    case ErrorCode::InvalidImageId:
      return "INVALID_IMAGE_ID";
    case ErrorCode::InvalidCursor:
      return "INVALID_CURSOR";
    case ErrorCode::BadRequest:
      return "BAD_REQUEST";
    case ErrorCode::Unauthorized:
      return "UNAUTHORIZED";
    case ErrorCode::NotAuthorized:
      return "NOT_AUTHORIZED";
    case ErrorCode::ImageNotFound:
      return "IMAGE_NOT_FOUND";
    case ErrorCode::NotFound:
      return "NOT_FOUND";
    case ErrorCode::MethodNotAllowed:
      return "METHOD_NOT_ALLOWED";
    case ErrorCode::VersionMismatch:
      return "VERSION_MISMATCH";
    case ErrorCode::IdempotencyKeyReused:
      return "IDEMPOTENCY_KEY_REUSED";
    case ErrorCode::OwnerConflict:
      return "IMAGE_OWNER_CONFLICT";
    case ErrorCode::ObjectKeyConflict:
      return "OBJECT_KEY_CONFLICT";
    case ErrorCode::UploadInProgress:
      return "UPLOAD_IN_PROGRESS";
    case ErrorCode::RequestTimeout:
      return "REQUEST_TIMEOUT";
    case ErrorCode::FileTooLarge:
      return "FILE_TOO_LARGE";
    case ErrorCode::PayloadTooLarge:
      return "PAYLOAD_TOO_LARGE";
    case ErrorCode::HeadersTooLarge:
      return "HEADERS_TOO_LARGE";
    case ErrorCode::UnsupportedMediaType:
      return "UNSUPPORTED_MEDIA_TYPE";
    case ErrorCode::RangeNotSatisfiable:
      return "RANGE_NOT_SATISFIABLE";
    case ErrorCode::RateLimitExceeded:
      return "RATE_LIMIT_EXCEEDED";
    case ErrorCode::Internal:
      return "INTERNAL_ERROR";
    case ErrorCode::S3DeleteFailed:
      return "S3_DELETE_FAILED";
    case ErrorCode::StorageFailed:
      return "STORAGE_FAILED";
    case ErrorCode::Unavailable:
      return "SERVICE_UNAVAILABLE";
    case ErrorCode::NotImplemented:
      return "NOT_IMPLEMENTED";
  }
  return "INTERNAL_ERROR";
}

}  // namespace isvc::domain
