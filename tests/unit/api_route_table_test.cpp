// The route table: literal segments win over parameters, "{x+}" takes the rest, HEAD follows
// GET, content rules split one method and path, and a known path with another method yields
// its Allow header.
#include "api/route_table.h"

#include <gtest/gtest.h>

namespace isvc::api {
namespace {

RouteTable table() {
  RouteTable t;
  auto add = [&](const char* m, const char* p, ContentRule c = ContentRule::Any) {
    Route r;
    r.method = m;
    r.pattern = p;
    r.content = c;
    t.add(std::move(r));
  };
  add("POST", "/images", ContentRule::NotJson);        // 0
  add("POST", "/images", ContentRule::Json);           // 1
  add("GET", "/images");                               // 2
  add("POST", "/images/uploads");                      // 3
  add("POST", "/images/uploads/{uploadId}/complete");  // 4
  add("GET", "/images/{id}");                          // 5
  add("DELETE", "/images/{id}");                       // 6
  add("GET", "/files/{key+}");                         // 7
  add("GET", "/");                                     // 8
  return t;
}

TEST(RouteTable, MatchesMethodPathAndContent) {
  auto t = table();
  EXPECT_EQ(t.match("POST", "/images", "multipart/form-data; boundary=x").index, 0);
  EXPECT_EQ(t.match("POST", "/images", "application/json; charset=utf-8").index, 1);
  EXPECT_EQ(t.match("GET", "/images", "").index, 2);
  EXPECT_EQ(t.match("HEAD", "/images", "").index, 2);
  EXPECT_EQ(t.match("GET", "/", "").index, 8);
  auto m = t.match("GET", "/images/01ABC", "");
  EXPECT_EQ(m.index, 5);
  EXPECT_EQ(m.params, std::vector<std::string>{"01ABC"});
  auto c = t.match("POST", "/images/uploads/U1/complete", "");
  EXPECT_EQ(c.index, 4);
  EXPECT_EQ(c.params, std::vector<std::string>{"U1"});
  auto f = t.match("GET", "/files/images/u/thumbnails/x.webp", "");
  EXPECT_EQ(f.index, 7);
  EXPECT_EQ(f.params, std::vector<std::string>{"images/u/thumbnails/x.webp"});
  EXPECT_EQ(t.at(7).label, "/files/{key}");
}

TEST(RouteTable, LiteralsOwnTheirPathAndAllowListsItsMethods) {
  auto t = table();
  auto m = t.match("GET", "/images/uploads", "");  // not GET /images/{id} with id "uploads"
  EXPECT_EQ(m.index, -1);
  EXPECT_EQ(m.allow, "POST, OPTIONS");
  auto p = t.match("PATCH", "/images/01ABC", "");
  EXPECT_EQ(p.index, -1);
  EXPECT_EQ(p.allow, "GET, HEAD, DELETE, OPTIONS");
}

TEST(RouteTable, UnknownPathsAndEmptySegmentsMatchNothing) {
  auto t = table();
  for (const char* path : {"/nope", "/images/", "/images//x", "/images/a/b", "/files/",
                           "/files/a//b", "/images/uploads//complete"}) {
    auto m = t.match("GET", path, "");
    EXPECT_EQ(m.index, -1) << path;
    EXPECT_EQ(m.allow, "") << path;
  }
}

}  // namespace
}  // namespace isvc::api
