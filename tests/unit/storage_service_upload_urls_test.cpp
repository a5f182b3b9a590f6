// The embedded mode's signed upload URLs (storage::ServiceUploadUrls) and the domain rule that
// judges a PUT's head against what they signed (domain::check_signed_put): bound to the upload id,
// the expiry and the declared length and type, judged from the PUT's head alone.
#include <gtest/gtest.h>

#include "domain/direct_upload.h"
#include "domain/model/error.h"
#include "storage/service_upload_urls.h"

namespace isvc::domain {
namespace {

using storage::ServiceUploadUrls;

std::string param(const std::string& url, const std::string& name) {
  auto p = url.find(name + "=");
  if (p == std::string::npos) return "";
  auto start = p + name.size() + 1;
  return url.substr(start, url.find('&', start) - start);
}

const std::string kId = "01J0000000000000000000000A";

struct Checked {
  ErrorCode code = ErrorCode::Internal;  // Internal: accepted
  std::string field;
};

Checked check(const ServiceUploadUrls& urls, const std::string& id, const SignedPutQuery& q,
              std::optional<std::string_view> length, std::optional<std::string_view> type,
              int64_t now) {
  auto put = urls.verify(id, q, now);  // the adapter: is this our signature?
  if (!put) return {ErrorCode::NotAuthorized, ""};
  EXPECT_EQ(put->content_length, 1234);
  EXPECT_EQ(put->content_type, "image/png");
  try {
    check_signed_put(*put, length, type);  // the domain rule: does the head keep its promise?
    return {};
  } catch (const Error& e) {
    auto f = e.details().find("field");
    return {e.code(), f == e.details().end() ? "" : f->second};
  }
}

TEST(ServiceUploadUrls, SignsIdExpiryLengthAndType) {
  ServiceUploadUrls urls("secret-key", "http://127.0.0.1:8080");
  auto url = urls.put_url(kId, 1234, "image/png", 1000);
  EXPECT_EQ(url.rfind("http://127.0.0.1:8080/uploads/" + kId +
                          "?expires=1000&length=1234&type=image/png&signature=",
                      0),
            0u);
  SignedPutQuery q{"1000", "1234", "image/png", param(url, "signature")};
  EXPECT_EQ(q.signature.size(), 64u);
  EXPECT_EQ(check(urls, kId, q, "1234", "image/png", 999).code, ErrorCode::Internal);
  EXPECT_EQ(check(urls, kId, q, "1234", "Image/PNG; charset=binary", 1000).code,
            ErrorCode::Internal);

  auto forbidden = [&](SignedPutQuery changed, const std::string& id = kId, int64_t now = 999) {
    return check(urls, id, changed, "1234", "image/png", now).code == ErrorCode::NotAuthorized;
  };
  EXPECT_TRUE(forbidden(q, kId, 1001));  // expired
  auto other = q;
  other.expires = "2000";
  EXPECT_TRUE(forbidden(other));
  other = q;
  other.length = "9999";  // a longer body, with the length changed in the URL
  EXPECT_TRUE(forbidden(other));
  other = q;
  other.type = "image/jpeg";
  EXPECT_TRUE(forbidden(other));
  EXPECT_TRUE(forbidden(q, "01J0000000000000000000000B"));
  for (auto bad : {"", "1000x", "-1"}) {
    other = q;
    other.expires = bad;
    EXPECT_TRUE(forbidden(other)) << bad;
  }
  other = q;
  other.signature = q.signature.substr(0, 63) + (q.signature[63] == '0' ? "1" : "0");
  EXPECT_TRUE(forbidden(other));
  other.signature = "";
  EXPECT_TRUE(forbidden(other));
  ServiceUploadUrls another("another-key", "http://127.0.0.1:8080");
  EXPECT_EQ(check(another, kId, q, "1234", "image/png", 999).code, ErrorCode::NotAuthorized);
}

TEST(ServiceUploadUrls, RefusesAnotherLengthOrTypeFromTheHead) {
  ServiceUploadUrls urls("secret-key", "http://h");
  auto url = urls.put_url(kId, 1234, "image/png", 1000);
  SignedPutQuery q{"1000", "1234", "image/png", param(url, "signature")};
  auto longer = check(urls, kId, q, "1235", "image/png", 0);
  EXPECT_EQ(longer.code, ErrorCode::FileTooLarge);
  EXPECT_EQ(longer.field, "contentLength");
  auto shorter = check(urls, kId, q, "1233", "image/png", 0);
  EXPECT_EQ(shorter.code, ErrorCode::ValidationFailed);
  EXPECT_EQ(shorter.field, "contentLength");
  for (std::optional<std::string_view> cl :
       {std::optional<std::string_view>{}, std::optional<std::string_view>{"12x"},
        std::optional<std::string_view>{""}}) {
    auto r = check(urls, kId, q, cl, "image/png", 0);
    EXPECT_EQ(r.code, ErrorCode::ValidationFailed);
    EXPECT_EQ(r.field, "contentLength");
  }
  for (std::optional<std::string_view> ct :
       {std::optional<std::string_view>{}, std::optional<std::string_view>{"image/jpeg"},
        std::optional<std::string_view>{"image/pngx"}, std::optional<std::string_view>{""}}) {
    auto r = check(urls, kId, q, "1234", ct, 0);
    EXPECT_EQ(r.code, ErrorCode::ValidationFailed);
    EXPECT_EQ(r.field, "contentType");
  }
  // The signature is checked before anything the client can vary in its headers.
  auto forged = q;
  forged.signature = std::string(64, '0');
  EXPECT_EQ(check(urls, kId, forged, "1", "text/plain", 0).code, ErrorCode::NotAuthorized);
}

TEST(MediaType, LowerCasedWithoutParameters) {
  EXPECT_EQ(media_type("Image/PNG"), "image/png");
  EXPECT_EQ(media_type(" image/jpeg ; q=1"), "image/jpeg");
  EXPECT_EQ(media_type(""), "");
}

}  // namespace
}  // namespace isvc::domain
