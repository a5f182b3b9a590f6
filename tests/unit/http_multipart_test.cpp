#include "http/multipart.h"

#include <gtest/gtest.h>

#include <random>

#include "domain/model/error.h"

namespace isvc::http {
namespace {

const std::string kCurlBody =
    "--------------------------d74496d66958873e\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Castle\r\n"
    "--------------------------d74496d66958873e\r\n"
    "Content-Disposition: form-data; name=\"tags\"\r\n"
    "\r\n"
    "a\r\n"
    "--------------------------d74496d66958873e\r\n"
    "Content-Disposition: form-data; name=\"tags\"\r\n"
    "\r\n"
    "b\r\n"
    "--------------------------d74496d66958873e\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".jpg\"\r\n"
    "Content-Type: image/jpeg\r\n"
    "\r\n"
    "\xFF\xD8\xFF\r\n--not-the-boundary\r\n-------------------------d74496d66958873e\r\n"
    "--------------------------d74496d66958873e--\r\n";
const std::string kBoundary = "------------------------d74496d66958873e";

TEST(MultipartBoundary, ParsesTheContentTypeParameter) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b;c\""), "a b;c");
  EXPECT_EQ(multipart_boundary("multipart/mixed; boundary=abc"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary="), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')),
            std::nullopt);
  EXPECT_EQ(multipart_boundary("application/json"), std::nullopt);
}

TEST(ParseMultipart, ReadsACurlBody) {
  auto parts = parse_multipart(kCurlBody, kBoundary);
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0].name, "title");
  EXPECT_EQ(parts[0].data, "Castle");
  EXPECT_EQ(parts[0].filename, std::nullopt);
  EXPECT_EQ(parts[2].data, "b");
  EXPECT_EQ(parts[3].name, "file");
  EXPECT_EQ(parts[3].filename, "a \"b\".jpg");
  EXPECT_EQ(parts[3].content_type, "image/jpeg");
  EXPECT_EQ(parts[3].data,
            "\xFF\xD8\xFF\r\n--not-the-boundary\r\n-------------------------d74496d66958873e");
}

TEST(ParseMultipart, PreambleEpilogueEmptyPartsAndExtendedFilenames) {
  std::string body =
      "preamble\r\n--B\r\n"
      "content-disposition: form-data; name=file; filename*=UTF-8''%E2%9C%93.png\r\n\r\n"
      "\r\n--B\r\n"
      "Content-Disposition: form-data; name=\"x\"\r\n\r\n"
      "1\r\n--B--\r\nepilogue";
  auto parts = parse_multipart(body, "B");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].filename, "\xE2\x9C\x93.png");
  EXPECT_EQ(parts[0].data, "");
  EXPECT_EQ(parts[1].data, "1");
}

TEST(ParseMultipart, MalformedBodiesAreBadRequests) {
  for (const std::string& body :
       {std::string(""), std::string("--B\r\n\r\nno disposition\r\n--B--"),
        std::string("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"),
        std::string("--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--B--"),
        std::string("--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--"),
        std::string("--B\r\nBroken header\r\n\r\nx\r\n--B--"), std::string("--Bjunk\r\n")}) {
    try {
      parse_multipart(body, "B");
      ADD_FAILURE() << "accepted: " << body;
    } catch (const domain::Error& e) {
      EXPECT_EQ(e.code(), domain::ErrorCode::BadRequest);
    }
  }
}

TEST(ParseMultipart, LimitsPartsAndHeaderSize) {
  std::string many;
  for (int i = 0; i < 70; ++i)
    many += "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n";
  many += "--B--";
  EXPECT_THROW(parse_multipart(many, "B"), domain::Error);
  std::string big =
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nX: " + std::string(9000, 'h') +
      "\r\n\r\nx\r\n--B--";
  EXPECT_THROW(parse_multipart(big, "B"), domain::Error);
}

TEST(ParseMultipart, RandomMutationsEitherParseOrThrowDomainErrors) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string body = kCurlBody;
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t pos = rng() % body.size();
      switch (rng() % 3) {
        case 0:
          body[pos] = char(rng());
          break;
        case 1:
          body.erase(pos, 1 + rng() % 8);
          break;
        default:
          body.resize(pos);
          break;
      }
      if (body.empty()) break;
    }
    try {
      auto parts = parse_multipart(body, kBoundary);
      for (auto& p : parts) {
        ASSERT_GE(p.data.data(), body.data());
        ASSERT_LE(p.data.data() + p.data.size(), body.data() + body.size());
      }
    } catch (const domain::Error& e) {
      ASSERT_EQ(e.code(), domain::ErrorCode::BadRequest);
    }
  }
}

}  // namespace
}  // namespace isvc::http
