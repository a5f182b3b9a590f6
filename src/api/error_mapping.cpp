#include "api/error_mapping.h"

namespace isvc::api {

using domain::ErrorCode;

namespace {
struct Mapping {
  int status;
  const char* kind;
};

Mapping mapping(ErrorCode c) {
  switch (c) {
    case ErrorCode::ValidationFailed:
      return {400, "ValidationError"};
    case ErrorCode::InvalidFileType:
      return {400, "ValidationError"};
    case ErrorCode::InvalidDimensions:
      return {400, "ValidationError"};
    case ErrorCode::InvalidImage:
      return {400, "ValidationError"};
    case ErrorCode::InvalidImageId:
      return {400, "ValidationError"};
    case ErrorCode::InvalidCursor:
      return {400, "ValidationError"};
    case ErrorCode::BadRequest:
      return {400, "BadRequest"};
    case ErrorCode::Unauthorized:
      return {401, "Unauthorized"};
    case ErrorCode::NotAuthorized:
      return {403, "Forbidden"};
    case ErrorCode::ImageNotFound:
      return {404, "NotFound"};
    case ErrorCode::NotFound:
      return {404, "NotFound"};
    case ErrorCode::MethodNotAllowed:
      return {405, "MethodNotAllowed"};
    case ErrorCode::VersionMismatch:
      return {409, "Conflict"};
    case ErrorCode::IdempotencyKeyReused:
      return {409, "Conflict"};
    case ErrorCode::OwnerConflict:
      return {409, "Conflict"};
    case ErrorCode::ObjectKeyConflict:
      return {409, "Conflict"};
    case ErrorCode::UploadInProgress:
      return {409, "Conflict"};
    case ErrorCode::RequestTimeout:
      return {408, "RequestTimeout"};
    case ErrorCode::FileTooLarge:
      return {413, "PayloadTooLarge"};
    case ErrorCode::PayloadTooLarge:
      return {413, "PayloadTooLarge"};
    case ErrorCode::HeadersTooLarge:
      return {431, "HeadersTooLarge"};
    case ErrorCode::UnsupportedMediaType:
      return {415, "UnsupportedMediaType"};
    case ErrorCode::RangeNotSatisfiable:
      return {416, "RangeNotSatisfiable"};
    case ErrorCode::RateLimitExceeded:
      return {429, "TooManyRequests"};
    case ErrorCode::Internal:
      return {500, "InternalError"};
    case ErrorCode::S3DeleteFailed:
      return {500, "InternalError"};
    case ErrorCode::StorageFailed:
      return {500, "InternalError"};
    case ErrorCode::Unavailable:
      return {503, "ServiceUnavailable"};
    case ErrorCode::NotImplemented:
      return {501, "NotImplemented"};
  }
  return {500, "InternalError"};
}
}  // namespace

int http_status(ErrorCode c) {
  return mapping(c).status;
}

const char* error_kind(ErrorCode c) {
  return mapping(c).kind;
}

}  // namespace isvc::api
