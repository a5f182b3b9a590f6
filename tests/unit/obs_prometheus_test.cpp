// The Prometheus text exposition: exact output for counters, histograms and gauges, label
// escaping and number formatting.
#include "obs/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>

namespace isvc::obs {
namespace {

TEST(Prometheus, CountersAndGaugesRenderWithHelpTypeAndEscapedLabels) {
  CounterFamily c("x_requests_total", "Requests.", {"route", "status"});
  c.inc({"/images", "200"});
  c.inc({"/images", "200"}, 2);
  c.inc({"a\"b\\c\nd", "404"});
  TextWriter w;
  w.counter(c);
  w.gauge("x_queue_depth", "Waiting.", 3);
  EXPECT_EQ(w.take(),
            "# HELP x_requests_total Requests.\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{route=\"/images\",status=\"200\"} 3\n"
            "x_requests_total{route=\"a\\\"b\\\\c\\nd\",status=\"404\"} 1\n"
            "# HELP x_queue_depth Waiting.\n"
            "# TYPE x_queue_depth gauge\n"
            "x_queue_depth 3\n");
}

TEST(Prometheus, UpdatesByViewsAndByStringsShareTheirRow) {
  CounterFamily c("x_total", "X.", {"a", "b"});
  c.inc(LabelValues{"ab", "1"});
  std::string a = "ab", b = "1";
  c.inc({std::string_view(a), std::string_view(b)}, 2);
  c.inc({std::string_view("a"), std::string_view("b1")});  // not the same as ("ab", "1")
  auto rows = c.snapshot();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.at(LabelValues{"ab", "1"}), 3u);
  EXPECT_EQ(rows.at(LabelValues{"a", "b1"}), 1u);
  HistogramFamily h("x_seconds", "X.", {"r"}, {1});
  h.observe(LabelValues{"r"}, 0.5);
  h.observe({std::string_view("r")}, 2);
  EXPECT_EQ(h.snapshot().at(LabelValues{"r"}).count, 2u);
}

TEST(Prometheus, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  HistogramFamily h("x_seconds", "Latency.", {"route"}, {0.1, 1});
  h.observe({"r"}, 0.05);
  h.observe({"r"}, 0.5);
  h.observe({"r"}, 7);
  TextWriter w;
  w.histogram(h);
  EXPECT_EQ(w.take(),
            "# HELP x_seconds Latency.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{route=\"r\",le=\"0.1\"} 1\n"
            "x_seconds_bucket{route=\"r\",le=\"1\"} 2\n"
            "x_seconds_bucket{route=\"r\",le=\"+Inf\"} 3\n"
            "x_seconds_sum{route=\"r\"} 7.55\n"
            "x_seconds_count{route=\"r\"} 3\n");
}

TEST(Prometheus, NumbersRoundTripAndSpecialValuesAreSpelledOut) {
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(1795690099), "1795690099");
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_value(NAN), "NaN");
  EXPECT_EQ(escape_label_value("plain"), "plain");
}

}  // namespace
}  // namespace isvc::obs
