#include "storage/s3_object_store.h"

#include <time.h>

#include <ctime>

#include "aws/xml.h"
#include "base/crypto.h"
#include "base/encoding.h"
#include "base/time_format.h"
#include "domain/model/error.h"
#include "domain/model/object_keys.h"

namespace isvc::storage {

using domain::Error;
using domain::ErrorCode;

namespace {

std::string strip_quotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

int64_t http_date_ms(const std::string& v) {
  std::tm tm{};
  if (!strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S", &tm)) return 0;
  return int64_t(timegm(&tm)) * 1000;
}

[[noreturn]] void fail(const char* what, const std::string& key, const aws::HttpResponse& r) {
  throw Error(ErrorCode::StorageFailed,
              std::string("s3 ") + what + " " + key + " failed: " + aws::describe_error(r));
}

domain::ObjectInfo info_from_headers(const aws::HttpResponse& r) {
  domain::ObjectInfo info;
  info.etag = strip_quotes(r.header("etag"));
  info.content_type = r.header("content-type");
  info.last_modified_ms = http_date_ms(r.header("last-modified"));
  auto len = r.header("content-length");
  info.size = len.empty() ? 0 : std::stoll(len);
  return info;
}

}  // namespace

S3ObjectStore::S3ObjectStore(aws::HttpClient& http, S3Settings s) : s_(std::move(s)) {
  if (s_.endpoint.empty()) s_.endpoint = "https://s3." + s_.region + ".amazonaws.com";
  auto url = aws::HttpClient::parse_url(s_.endpoint);
  std::string endpoint = s_.endpoint;
  if (!s_.force_path_style)
    endpoint =
        url.scheme + "://" + s_.bucket + "." + url.host + (url.port.empty() ? "" : ":" + url.port);
  aws::AwsClientSettings cs;
  cs.endpoint = endpoint;
  cs.region = s_.region;
  cs.service = "s3";
  cs.counter = s_.counter;
  cs.credentials = s_.credentials;
  cs.retry = s_.retry;
  client_ = std::make_unique<aws::AwsClient>(http, cs);
  if (s_.use_accelerate) {
    cs.endpoint = "https://" + s_.bucket + ".s3-accelerate.amazonaws.com";
    accelerate_ = std::make_unique<aws::AwsClient>(http, cs);
  }
}

domain::ObjectInfo S3ObjectStore::info_of(const aws::HttpResponse& r) {
  return info_from_headers(r);
}

std::string S3ObjectStore::object_path(const std::string& key) const {
  return s_.force_path_style ? "/" + s_.bucket + "/" + key : "/" + key;
}

void S3ObjectStore::put(const std::string& key, std::string_view bytes,
                        const std::string& content_type) {
  if (!domain::valid_object_key(key)) throw Error(ErrorCode::BadRequest, "invalid object key");
  aws::AwsRequest r;
  r.action = "PutObject";
  r.method = "PUT";
  r.path = object_path(key);
  r.headers.emplace_back("content-type", content_type);
  if (!s_.sse.empty()) r.headers.emplace_back("x-amz-server-side-encryption", s_.sse);
  if (!s_.storage_class.empty()) r.headers.emplace_back("x-amz-storage-class", s_.storage_class);
  r.body = bytes;
  auto resp = send(r);
  if (resp.status != 200) fail("PUT", key, resp);
}

std::optional<domain::ObjectInfo> S3ObjectStore::head(const std::string& key) {
  if (!domain::valid_object_key(key)) return std::nullopt;
  aws::AwsRequest r;
  r.action = "HeadObject";
  r.method = "HEAD";
  r.path = object_path(key);
  auto resp = send(r);
  if (resp.status == 404) return std::nullopt;
  if (resp.status != 200) fail("HEAD", key, resp);
  return info_from_headers(resp);
}

std::optional<domain::ObjectData> S3ObjectStore::get(const std::string& key,
                                                     std::optional<domain::ByteRange> range) {
  if (!domain::valid_object_key(key)) return std::nullopt;
  aws::AwsRequest r;
  r.action = "GetObject";
  r.method = "GET";
  r.path = object_path(key);
  if (range)
    r.headers.emplace_back(
        "range", "bytes=" + std::to_string(range->first) + "-" + std::to_string(range->last));
  auto resp = send(r);
  if (resp.status == 404) return std::nullopt;
  if (resp.status != 200 && resp.status != 206) fail("GET", key, resp);
  domain::ObjectData out;
  out.info = info_from_headers(resp);
  if (resp.status == 206) {
    // Content-Range: bytes first-last/total
    auto cr = resp.header("content-range");
    auto slash = cr.rfind('/');
    out.info.size = slash == std::string::npos ? 0 : std::stoll(cr.substr(slash + 1));
  }
  out.bytes = std::move(resp.body);
  return out;
}

void S3ObjectStore::remove(const std::string& key) {
  if (!domain::valid_object_key(key)) return;
  aws::AwsRequest r;
  r.action = "DeleteObject";
  r.method = "DELETE";
  r.path = object_path(key);
  auto resp = send(r);
  if (resp.status != 204 && resp.status != 200 && resp.status != 404) fail("DELETE", key, resp);
}

void S3ObjectStore::remove_all(const std::vector<std::string>& keys) {
  std::vector<std::string> valid;
  for (const auto& k : keys)
    if (domain::valid_object_key(k)) valid.push_back(k);
  if (valid.size() == 1) return remove(valid[0]);
  // DeleteObjects takes up to 1,000 keys; Quiet: the answer lists only the keys that failed.
  for (std::size_t at = 0; at < valid.size(); at += 1000) {
    std::string body =
        "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
    for (std::size_t i = at; i < std::min(valid.size(), at + 1000); ++i)
      body += "<Object><Key>" + aws::xml_escape(valid[i]) + "</Key></Object>";
    body += "</Delete>";
    aws::AwsRequest r;
    r.action = "DeleteObjects";
    r.method = "POST";
    r.path = s_.force_path_style ? "/" + s_.bucket : "/";
    r.query = {{"delete", ""}};
    r.headers = {{"content-type", "application/xml"},
                 {"content-md5", base::base64_encode(base::md5(body))}};
    r.body = body;
    auto resp = send(r);
    if (resp.status != 200) fail("DeleteObjects", valid[at], resp);
    auto errors = aws::xml_texts(resp.body, "Error");
    if (!errors.empty()) {
      auto key = aws::xml_texts(errors[0], "Key");
      auto code = aws::xml_texts(errors[0], "Code");
      throw Error(ErrorCode::StorageFailed, "s3 DeleteObjects: " + std::to_string(errors.size()) +
                                                " of the keys failed, " +
                                                (key.empty() ? std::string("?") : key[0]) + ": " +
                                                (code.empty() ? std::string("?") : code[0]));
    }
  }
}

void S3ObjectStore::list(
    const std::string& prefix,
    const std::function<bool(const std::string&, const domain::ObjectInfo&)>& visit) {
  std::string token;
  for (;;) {
    aws::AwsRequest r;
    r.action = "ListObjectsV2";
    r.method = "GET";
    r.path = s_.force_path_style ? "/" + s_.bucket : "/";
    r.query = {{"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) r.query.emplace_back("continuation-token", token);
    auto resp = send(r);
    if (resp.status != 200) fail("LIST", prefix, resp);
    for (const auto& c : aws::xml_texts(resp.body, "Contents")) {
      auto keys = aws::xml_texts(c, "Key");
      if (keys.empty()) continue;
      domain::ObjectInfo info;
      auto sizes = aws::xml_texts(c, "Size");
      info.size = sizes.empty() ? 0 : std::stoll(sizes[0]);
      auto etags = aws::xml_texts(c, "ETag");
      if (!etags.empty()) info.etag = strip_quotes(etags[0]);
      auto lm = aws::xml_texts(c, "LastModified");
      if (!lm.empty()) info.last_modified_ms = base::parse_iso8601_ms(lm[0]).value_or(0);
      if (!visit(keys[0], info)) return;
    }
    auto truncated = aws::xml_texts(resp.body, "IsTruncated");
    auto next = aws::xml_texts(resp.body, "NextContinuationToken");
    if (truncated.empty() || truncated[0] != "true" || next.empty()) return;
    token = next[0];
  }
}

bool S3ObjectStore::healthy() {
  try {
    aws::AwsRequest r;
    r.action = "HeadBucket";
    r.method = "HEAD";
    r.path = s_.force_path_style ? "/" + s_.bucket : "/";
    return send(r).status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

std::string S3ObjectStore::presign_put(const std::string& key, int64_t expires_s) const {
  const auto& c = accelerate_ ? *accelerate_ : *client_;
  return c.presign("PUT", accelerate_ ? "/" + key : object_path(key), expires_s);
}

}  // namespace isvc::storage
