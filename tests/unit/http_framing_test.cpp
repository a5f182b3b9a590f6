// The RFC 9112/9110 framing rules on request heads: transfer codings, Host, repeated fields and
// request-target forms.
#include "http/framing.h"

#include <gtest/gtest.h>

namespace isvc::http {
namespace {

Request head(std::vector<std::pair<std::string, std::string>> headers, int version = 11) {
  Request r;
  r.method = "POST";
  r.target = r.path = "/x";
  r.version = version;
  r.headers = {{"Host", "h"}};
  for (auto& h : headers) r.headers.push_back(h);
  return r;
}

std::optional<domain::ErrorCode> verdict(const Request& r) {
  auto e = check_framing(r);
  if (!e) return std::nullopt;
  return e->code();
}

TEST(Framing, OnlyChunkedAloneIsAcceptedAsTransferCoding) {
  using C = domain::ErrorCode;
  EXPECT_EQ(verdict(head({{"Transfer-Encoding", "chunked"}})), std::nullopt);
  EXPECT_EQ(verdict(head({{"Transfer-Encoding", "Chunked"}})), std::nullopt);
  EXPECT_EQ(verdict(head({{"Transfer-Encoding", " chunked ,"}})), std::nullopt);
  for (const char* te :
       {"chunked, identity", "identity", "xchunked", "chunked, chunked", "", "chunked;a=b", "gzip"})
    EXPECT_EQ(verdict(head({{"Transfer-Encoding", te}})), C::BadRequest) << te;
  EXPECT_EQ(verdict(head({{"Transfer-Encoding", "gzip, chunked"}})), C::NotImplemented);
  EXPECT_EQ(verdict(head({{"Transfer-Encoding", "x-custom, chunked"}})), C::NotImplemented);
  EXPECT_EQ(verdict(head({{"Transfer-Encoding", "g zip, chunked"}})), C::BadRequest);
  EXPECT_EQ(verdict(head({{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}})),
            C::BadRequest);
  EXPECT_EQ(verdict(head({{"Transfer-Encoding", "chunked"}, {"Content-Length", "3"}})),
            C::BadRequest);
  EXPECT_EQ(verdict(head({{"Transfer-Encoding", "chunked"}}, 10)), C::BadRequest);
}

TEST(Framing, HostAndSingletonFields) {
  Request no_host = head({});
  no_host.headers.clear();
  EXPECT_EQ(verdict(no_host), domain::ErrorCode::BadRequest);
  no_host.version = 10;
  EXPECT_EQ(verdict(no_host), std::nullopt);
  EXPECT_EQ(verdict(head({{"host", "other"}})), domain::ErrorCode::BadRequest);
  for (const char* name :
       {"Authorization", "Content-Type", "Content-Length", "Idempotency-Key", "Range"}) {
    EXPECT_EQ(verdict(head({{name, "a"}})), std::nullopt) << name;
    EXPECT_EQ(verdict(head({{name, "a"}, {name, "a"}})), domain::ErrorCode::BadRequest) << name;
  }
  EXPECT_EQ(verdict(head({{"Accept", "a"}, {"Accept", "b"}})), std::nullopt);
}

TEST(Framing, RequestTargetForms) {
  EXPECT_EQ(origin_form("/images?x=1", "GET"), "/images?x=1");
  EXPECT_EQ(origin_form("http://example.com/images/1?x", "GET"), "/images/1?x");
  EXPECT_EQ(origin_form("HTTPS://example.com:8443", "GET"), "/");
  EXPECT_EQ(origin_form("http://example.com?q", "GET"), "/?q");
  EXPECT_EQ(origin_form("*", "OPTIONS"), "*");
  EXPECT_EQ(origin_form("*", "GET"), std::nullopt);
  EXPECT_EQ(origin_form("example.com:443", "CONNECT"), std::nullopt);
  EXPECT_EQ(origin_form("images", "GET"), std::nullopt);
  EXPECT_EQ(origin_form("ftp://x/y", "GET"), std::nullopt);
  EXPECT_EQ(origin_form("http:///y", "GET"), std::nullopt);
  EXPECT_EQ(origin_form("http://user@x/y", "GET"), std::nullopt);
  EXPECT_EQ(origin_form(std::string("/a\x01", 3), "GET"), std::nullopt);
}

}  // namespace
}  // namespace isvc::http
