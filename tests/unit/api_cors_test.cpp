#include "api/cors.h"

#include <gtest/gtest.h>

namespace isvc::api {
namespace {

CorsPolicy lego() {
  return CorsPolicy({"https://lego-moc.com", "https://*.lego-moc.com", "http://localhost:3002"});
}

TEST(Cors, ExactAndSubdomainOrigins) {
  auto p = lego();
  EXPECT_TRUE(p.allowed("https://lego-moc.com"));
  EXPECT_TRUE(p.allowed("https://www.lego-moc.com"));
  EXPECT_TRUE(p.allowed("https://a.b.lego-moc.com"));
  EXPECT_TRUE(p.allowed("http://localhost:3002"));
  EXPECT_TRUE(p.allowed("HTTPS://WWW.LEGO-MOC.COM"));
}

TEST(Cors, LookAlikesAreRefused) {
  auto p = lego();
  for (const char* o :
       {"https://lego-moc.com.evil.com", "https://evillego-moc.com", "http://lego-moc.com",
        "https://lego-moc.com:8443", "https://.lego-moc.com", "https://a..lego-moc.com",
        "https://evil.com/.lego-moc.com", "https://evil.com#.lego-moc.com", "null", "",
        "http://localhost:3003", "http://www.lego-moc.com", "https://a_b.lego-moc.com",
        "https://x.lego-moc.com.", "*"}) {
    EXPECT_FALSE(p.allowed(o)) << o;
  }
}

TEST(Cors, DecoratesOnlyAllowedOriginsAndAlwaysVaries) {
  auto p = lego();
  http::Request req;
  req.headers = {{"Origin", "https://evil.com"}};
  http::Response res;
  p.decorate(req, res);
  EXPECT_EQ(res.header("Vary"), "Origin");
  EXPECT_EQ(res.header("Access-Control-Allow-Origin"), std::nullopt);

  req.headers = {{"Origin", "https://www.lego-moc.com"},
                 {"Access-Control-Request-Method", "PATCH"}};
  auto pre = p.preflight(req);
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("Access-Control-Allow-Origin"), "https://www.lego-moc.com");
  EXPECT_EQ(pre.header("Access-Control-Allow-Methods"), "GET, POST, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(pre.header("Access-Control-Allow-Headers"),
            "Authorization, Content-Type, X-Requested-With, Idempotency-Key");
  EXPECT_EQ(pre.header("Access-Control-Max-Age"), "86400");
}

}  // namespace
}  // namespace isvc::api
