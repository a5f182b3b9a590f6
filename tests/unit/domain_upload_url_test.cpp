// The embedded mode's signed upload URLs: bound to the upload id and expiry, and expiring.
#include <gtest/gtest.h>

#include "domain/direct_upload.h"

namespace isvc::domain {
namespace {

std::string param(const std::string& url, const std::string& name) {
  auto p = url.find(name + "=");
  if (p == std::string::npos) return "";
  auto start = p + name.size() + 1;
  return url.substr(start, url.find('&', start) - start);
}

TEST(ServiceUploadUrls, SignsIdAndExpiryAndChecksBoth) {
  ServiceUploadUrls urls("secret-key", "http://127.0.0.1:8080");
  std::string id = "01J0000000000000000000000A";
  auto url = urls.put_url(id, 1000);
  EXPECT_EQ(url.rfind("http://127.0.0.1:8080/uploads/" + id + "?expires=1000&signature=", 0), 0u);
  auto sig = param(url, "signature");
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE(urls.verify(id, "1000", sig, 999));
  EXPECT_TRUE(urls.verify(id, "1000", sig, 1000));
  EXPECT_FALSE(urls.verify(id, "1000", sig, 1001));                           // expired
  EXPECT_FALSE(urls.verify(id, "2000", sig, 999));                            // expiry changed
  EXPECT_FALSE(urls.verify("01J0000000000000000000000B", "1000", sig, 999));  // other upload
  EXPECT_FALSE(urls.verify(id, "1000", "", 999));
  EXPECT_FALSE(urls.verify(id, "", sig, 999));
  EXPECT_FALSE(urls.verify(id, "1000x", sig, 999));
  EXPECT_FALSE(urls.verify(id, "1000", sig.substr(0, 63) + (sig[63] == '0' ? "1" : "0"), 999));
  ServiceUploadUrls other("another-key", "http://127.0.0.1:8080");
  EXPECT_FALSE(other.verify(id, "1000", sig, 999));
}

}  // namespace
}  // namespace isvc::domain
