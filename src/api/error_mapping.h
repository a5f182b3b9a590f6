// How the API answers a domain error: its HTTP status and the `error` field of the body (SPEC
// §2). The domain names what went wrong (domain::ErrorCode) and may hint when to retry
// (Error::retry_after_s); the status and the Retry-After header are decided here.
#pragma once

#include "domain/model/error.h"

namespace isvc::api {

// The HTTP status an error code maps to.
int http_status(domain::ErrorCode c);
// The `error` field of the error body, e.g. "ValidationError".
const char* error_kind(domain::ErrorCode c);

}  // namespace isvc::api
