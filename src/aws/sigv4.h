// AWS Signature Version 4 (header signing and presigned query strings), shared by the DynamoDB,
// S3 and CloudFront clients. Pure functions over a described request; no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isvc::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)
};

struct SigningScope {
  std::string region;    // "us-east-1"
  std::string service;   // "dynamodb", "s3", …
  std::string amz_date;  // "20150830T123600Z"
  std::string date() const { return amz_date.substr(0, 8); }
};

struct RequestToSign {
  std::string method;                                      // "GET"
  std::string path;                                        // decoded path, e.g. "/images/a b.webp"
  std::vector<std::pair<std::string, std::string>> query;  // decoded names and values
  std::vector<std::pair<std::string, std::string>> headers;  // all headers to sign (incl. host)
  std::string payload_sha256_hex;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved kept, everything else %XX upper-case;
// '/' kept only when keep_slash (paths).
std::string uri_encode(std::string_view s, bool keep_slash);
// Splits "a=1&b=2" into decoded pairs.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

std::string canonical_request(const RequestToSign& r);
std::string signed_header_names(const RequestToSign& r);
std::string string_to_sign(const SigningScope& scope, std::string_view canonical_request);
std::string signing_key(const Credentials& c, const SigningScope& scope);  // raw 32 bytes
// The Authorization header value for the request.
std::string authorization(const Credentials& c, const SigningScope& scope, const RequestToSign& r);

// A presigned URL's query (X-Amz-Algorithm … X-Amz-Signature) for `r`, whose headers must hold
// only what the client will send (normally just host); payload is UNSIGNED-PAYLOAD.
std::string presigned_query(const Credentials& c, const SigningScope& scope, RequestToSign r,
                            int64_t expires_s);

// "YYYYMMDDTHHMMSSZ" for a Unix time in seconds.
std::string amz_date(int64_t unix_s);

}  // namespace isvc::aws
