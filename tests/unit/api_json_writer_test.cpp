#include "api/json_writer.h"

#include <gtest/gtest.h>

#include "api/render.h"

namespace isvc::api {
namespace {

TEST(JsonWriter, WritesNestedValuesAndEscapes) {
  JsonWriter w;
  w.begin_object().field("a", std::string_view("x\"y\\z\n\x01")).key("b").begin_array();
  w.value(int64_t(1)).value(true).null().end_array();
  w.key("r").value_double(1.5, 3).key("q").value_double(1.0 / 3.0, 3).key("z").value_double(2.0, 3);
  w.end_object();
  EXPECT_EQ(w.str(), R"({"a":"x\"y\\z\n\u0001","b":[1,true,null],"r":1.5,"q":0.333,"z":2})");
}

TEST(JsonWriter, DoublesAreFixedWithTrailingZerosTrimmed) {
  JsonWriter w;
  w.begin_array().value_double(-0.0001, 3).value_double(1e20, 2).value_double(1.335, 2);
  w.value_double(0.5, 0).value_double(-2.25, 1).value_double(4.0 / 3.0, 6).end_array();
  EXPECT_EQ(w.str(), "[0,100000000000000000000,1.33,0,-2.2,1.333333]");
}

TEST(JsonWriter, EscapesInsideLongRunsOfPlainText) {
  std::string out;
  append_json_string(out,
                     "images/user/01ABC.webp\\x\"y\x7f"
                     "z");
  EXPECT_EQ(out, "\"images/user/01ABC.webp\\\\x\\\"y\\u007fz\"");
}

TEST(JsonWriter, KeepsWellFormedUtf8AndReplacesEverythingElse) {
  auto q = [](std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
  };
  EXPECT_EQ(q("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7\"");
  EXPECT_EQ(q("a\xc7"
              "1"),
            "\"a\\ufffd1\"");                                 // lead byte without continuation
  EXPECT_EQ(q("\xc0\xaf"), "\"\\ufffd\\ufffd\"");             // overlong '/'
  EXPECT_EQ(q("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(q("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
  EXPECT_EQ(q("\xf5\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
  EXPECT_EQ(q("\xe2\x82"), "\"\\ufffd\\ufffd\"");  // truncated at the end
  EXPECT_EQ(q("\xff"), "\"\\ufffd\"");
}

TEST(RenderError, HasTheSpecFields) {
  domain::Error e(domain::ErrorCode::VersionMismatch, "stale");
  e.current_version = 3;
  EXPECT_EQ(
      render_error(e, "req-1"),
      R"({"error":"Conflict","message":"stale","code":"VERSION_MISMATCH","details":{},"currentVersion":3,"requestId":"req-1"})");
}

TEST(HumanBytes, UsesBinaryUnitsWithOneDecimal) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1536), "1.5 KB");
  EXPECT_EQ(human_bytes(int64_t(45.6 * 1024 * 1024 * 1024)), "45.6 GB");
}

}  // namespace
}  // namespace isvc::api
