// GLib messages become JSON lines attributed to the processing job that emitted them
// (imaging/vips_log.h), from the job's own threads exactly and from libvips workers by elimination.
#include <glib.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <boost/json/parse.hpp>
#include <future>
#include <sstream>
#include <thread>

#include "imaging/vips_log.h"
#include "obs/log_context.h"

namespace isvc::imaging {
namespace {

std::vector<boost::json::object> lines_of(const std::string& out) {
  std::vector<boost::json::object> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(boost::json::parse(line).as_object());
  return v;
}

class VipsLog : public ::testing::Test {
 protected:
  obs::Logger log{obs::Level::Debug, 0};  // synchronous: the test captures stdout
  GlibLogRoute route{log};

  // Every line written while `f` runs, each parsed (so each must be one JSON object).
  template <class F>
  std::vector<boost::json::object> capture(F f) {
    testing::internal::CaptureStdout();
    f();
    return lines_of(testing::internal::GetCapturedStdout());
  }
  // A warning from a thread named like libvips' pool threads.
  static void warn_from_worker(const char* name) {
    std::thread t([name] {
      pthread_setname_np(pthread_self(), name);
      g_warning("from a worker");
    });
    t.join();
  }
};

TEST_F(VipsLog, AMessageIsOneJsonLineWithItsLevelAndDomain) {
  auto lines = capture([] { g_log("VIPS", G_LOG_LEVEL_WARNING, "bad \"tile\"\n\xff"); });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["event"], "vips_message");
  EXPECT_EQ(lines[0]["level"], "warn");
  EXPECT_EQ(lines[0]["glibLevel"], "warning");
  EXPECT_EQ(lines[0]["domain"], "VIPS");
  EXPECT_EQ(lines[0]["message"], "bad \"tile\"\n\xEF\xBF\xBD");  // invalid UTF-8 replaced
  EXPECT_FALSE(lines[0].contains("requestId"));
  lines = capture([] { g_log("VIPS", G_LOG_LEVEL_CRITICAL, "worse"); });
  EXPECT_EQ(lines.at(0)["level"], "error");
  EXPECT_EQ(lines.at(0)["glibLevel"], "critical");
}

TEST_F(VipsLog, DebugMessagesStayOffAsWithGlibsOwnWriter) {
  EXPECT_TRUE(capture([] { g_log("VIPS", G_LOG_LEVEL_DEBUG, "noise"); }).empty());
}

TEST_F(VipsLog, TheJobsOwnThreadsCarryItsRequestId) {
  ProcessingJob other("req-other");
  auto lines = capture([] {
    ProcessingJob job("req-1");
    g_warning("on the job's thread");
    std::thread helper([&] {
      ProcessingJob::Thread bound(job);
      g_warning("on a helper thread");
    });
    helper.join();
  });
  ASSERT_EQ(lines.size(), 2u);
  for (auto& l : lines) EXPECT_EQ(l["requestId"], "req-1");
}

TEST_F(VipsLog, ARequestsOwnThreadCarriesItsId) {
  // Another upload is being processed on another thread meanwhile.
  std::promise<void> started, done;
  std::thread other([&] {
    ProcessingJob elsewhere("req-other");
    started.set_value();
    done.get_future().wait();
  });
  started.get_future().wait();
  auto lines = capture([] {
    obs::LogContext request("req-http");
    g_warning("while probing the header");
  });
  done.set_value();
  other.join();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["requestId"], "req-http");
}

TEST_F(VipsLog, WorkerMessagesAreAttributedOnlyWhenOneJobIsInFlight) {
  auto none = capture([] { warn_from_worker("libvips worker"); });
  ASSERT_EQ(none.size(), 1u);
  EXPECT_FALSE(none[0].contains("requestId"));
  EXPECT_FALSE(none[0].contains("requestIdCandidates"));

  ProcessingJob a("req-a");
  auto one = capture([] { warn_from_worker("libvips worker"); });
  EXPECT_EQ(one.at(0)["requestId"], "req-a");

  ProcessingJob b("req-b");
  auto two = capture([] { warn_from_worker("libvips worker"); });
  EXPECT_FALSE(two.at(0).contains("requestId"));
  EXPECT_EQ(two.at(0)["requestIdCandidates"], (boost::json::array{"req-a", "req-b"}));
}

TEST_F(VipsLog, OtherThreadsAreNeverGuessed) {
  ProcessingJob a("req-a");
  auto lines = capture([] { warn_from_worker("image-service"); });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].contains("requestId"));
  EXPECT_FALSE(lines[0].contains("requestIdCandidates"));
}

TEST_F(VipsLog, TheAdaptersOwnEventsAreAttributedToo) {
  auto lines = capture([] {
    ProcessingJob job("req-9");
    log_imaging_event(obs::Level::Warn, "icc_profile_ignored", {{"reason", "corrupt"}});
  });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["event"], "icc_profile_ignored");
  EXPECT_EQ(lines[0]["reason"], "corrupt");
  EXPECT_EQ(lines[0]["requestId"], "req-9");
}

}  // namespace
}  // namespace isvc::imaging
