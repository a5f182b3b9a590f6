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
