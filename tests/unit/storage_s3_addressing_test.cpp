// S3 addressing: virtual-hosted (default), path-style and Transfer Acceleration URLs, and the
// XML reading of S3's answers.
#include <gtest/gtest.h>

#include "aws/xml.h"
#include "storage/s3_object_store.h"

namespace isvc::storage {
namespace {

std::string presigned(bool path_style, bool accelerate, const std::string& endpoint = "") {
  static aws::HttpClient http;
  S3Settings s;
  s.bucket = "my-images";
  s.region = "eu-west-1";
  s.endpoint = endpoint;
  s.force_path_style = path_style;
  s.use_accelerate = accelerate;
  s.credentials = {"AKIDEXAMPLE", "secret", ""};
  return S3ObjectStore(http, s).presign_put("temp/01J00000000000000000000000", 900);
}

TEST(S3Addressing, VirtualHostedPathStyleAndAccelerate) {
  EXPECT_EQ(
      presigned(false, false)
          .rfind("https://my-images.s3.eu-west-1.amazonaws.com/temp/01J00000000000000000000000?"
                 "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F",
                 0),
      0u);
  EXPECT_EQ(
      presigned(true, false)
          .rfind("https://s3.eu-west-1.amazonaws.com/my-images/temp/01J00000000000000000000000?",
                 0),
      0u);
  EXPECT_EQ(
      presigned(false, true)
          .rfind("https://my-images.s3-accelerate.amazonaws.com/temp/01J00000000000000000000000?",
                 0),
      0u);
  EXPECT_EQ(presigned(true, false, "http://127.0.0.1:9000")
                .rfind("http://127.0.0.1:9000/my-images/temp/01J00000000000000000000000?", 0),
            0u);
  auto url = presigned(false, false);
  EXPECT_NE(url.find("X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="),
            std::string::npos);
  EXPECT_NE(url.find("%2Feu-west-1%2Fs3%2Faws4_request"), std::string::npos);
}

TEST(S3Xml, TextsAreDecoded) {
  std::string xml =
      "<ListBucketResult><Contents><Key>images/a&amp;b/&lt;x&gt;.webp</Key><Size>12</Size>"
      "</Contents><Contents><Key>caf&#233; &#x1F600;</Key></Contents>"
      "<IsTruncated>false</IsTruncated></ListBucketResult>";
  auto keys = aws::xml_texts(xml, "Key");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], "images/a&b/<x>.webp");
  EXPECT_EQ(keys[1], "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(aws::xml_texts(xml, "Size"), std::vector<std::string>{"12"});
  EXPECT_TRUE(aws::xml_texts(xml, "Missing").empty());
  EXPECT_TRUE(aws::xml_texts("<Key>unterminated", "Key").empty());
  EXPECT_EQ(aws::xml_escape("a<b>&\"c"), "a&lt;b&gt;&amp;&quot;c");
}

}  // namespace
}  // namespace isvc::storage
