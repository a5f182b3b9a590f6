// S3ObjectStore::open: an object streamed from S3 in ranged GETs, one piece in memory at a time.
// The first GET (bytes 0 to kPieceBytes-1) gives the object's size and ETag with its first piece;
// a later piece is fetched with If-Match on that ETag, and a piece that is missing (404), of
// another version (412) or shorter than asked fails the read: the caller closes the connection
// instead of sending a wrong body.
#include <cstring>

#include "aws/aws_client.h"
#include "domain/model/error.h"
#include "domain/model/object_keys.h"
#include "storage/s3_object_store.h"

namespace isvc::storage {

using domain::Error;
using domain::ErrorCode;

namespace {

// "bytes first-last/total" → total, or -1.
int64_t range_total(const std::string& content_range) {
  auto slash = content_range.rfind('/');
  if (slash == std::string::npos) return -1;
  try {
    return std::stoll(content_range.substr(slash + 1));
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

class S3ObjectReader final : public domain::ObjectReader {
 public:
  S3ObjectReader(S3ObjectStore& store, std::string key, std::string etag, int64_t size,
                 std::string first_piece)
      : store_(store),
        key_(std::move(key)),
        etag_(std::move(etag)),
        size_(size),
        piece_(std::move(first_piece)) {}

  bool remote() const override { return true; }
  const std::string* bytes() const override {
    return piece_at_ == 0 && int64_t(piece_.size()) == size_ ? &piece_ : nullptr;
  }

  // One caller at a time (a response reads its body in order).
  std::size_t read(int64_t offset, char* dst, std::size_t max) override {
    if (offset < 0 || offset >= size_ || max == 0) return 0;
    max = std::size_t(std::min<int64_t>(int64_t(max), size_ - offset));
    if (offset >= piece_at_ && offset < piece_at_ + int64_t(piece_.size())) {
      std::size_t n = std::min(max, std::size_t(piece_at_ + int64_t(piece_.size()) - offset));
      std::memcpy(dst, piece_.data() + (offset - piece_at_), n);
      return n;
    }
    if (int64_t(max) >= S3ObjectStore::kPieceBytes) {
      // A large read (the hot cache's fill): fetched straight for the caller, in one GET.
      std::string got = fetch(offset, int64_t(max));
      std::memcpy(dst, got.data(), got.size());
      return got.size();
    }
    piece_ = fetch(offset, std::min<int64_t>(S3ObjectStore::kPieceBytes, size_ - offset));
    piece_at_ = offset;
    return read(offset, dst, max);
  }

 private:
  std::string fetch(int64_t first, int64_t len) {
    auto resp = store_.get_range(key_, first, first + len - 1, etag_);
    // The ETag is checked here too: not every S3-compatible store honours If-Match on a GET
    // (s3rver ignores it and answered with the new version's bytes in the conformance test).
    if (resp.status != 206 || int64_t(resp.body.size()) != len ||
        S3ObjectStore::info_of(resp).etag != etag_)
      throw Error(ErrorCode::StorageFailed,
                  "s3 GET " + key_ + ": the object changed or ended while it was read (status " +
                      std::to_string(resp.status) + ", " + std::to_string(resp.body.size()) +
                      " of " + std::to_string(len) + " bytes)");
    return std::move(resp.body);
  }

  S3ObjectStore& store_;
  std::string key_;
  std::string etag_;
  int64_t size_;
  std::string piece_;
  int64_t piece_at_ = 0;
};

aws::HttpResponse S3ObjectStore::get_range(const std::string& key, int64_t first, int64_t last,
                                           const std::string& etag) {
  aws::AwsRequest r;
  r.action = "GetObject";
  r.method = "GET";
  r.path = object_path(key);
  r.headers.emplace_back("range", "bytes=" + std::to_string(first) + "-" + std::to_string(last));
  if (!etag.empty()) r.headers.emplace_back("if-match", "\"" + etag + "\"");
  return send(r);
}

std::optional<domain::OpenObject> S3ObjectStore::open(const std::string& key) {
  if (!domain::valid_object_key(key)) return std::nullopt;
  auto resp = get_range(key, 0, kPieceBytes - 1, "");
  if (resp.status == 404) return std::nullopt;
  if (resp.status == 416) return ObjectStore::open(key);  // an empty object has no byte 0
  if (resp.status != 200 && resp.status != 206)
    throw Error(ErrorCode::StorageFailed,
                "s3 GET " + key + " failed: " + aws::describe_error(resp));
  domain::ObjectInfo info = info_of(resp);  // the size is the piece's: the total follows
  info.size =
      resp.status == 206 ? range_total(resp.header("content-range")) : int64_t(resp.body.size());
  if (info.size < int64_t(resp.body.size()) ||
      (info.size > int64_t(resp.body.size()) && int64_t(resp.body.size()) != kPieceBytes))
    throw Error(ErrorCode::StorageFailed, "s3 GET " + key + ": a range answer of unexpected size");
  auto reader =
      std::make_shared<S3ObjectReader>(*this, key, info.etag, info.size, std::move(resp.body));
  return domain::OpenObject{std::move(info), std::move(reader)};
}

}  // namespace isvc::storage
