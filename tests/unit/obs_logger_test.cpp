// The asynchronous log sink: whole lines in order, nothing lost on shutdown, and a stdout that
// nobody reads costs dropped lines (counted exactly), never a blocked caller.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "obs/logger.h"

namespace isvc::obs {
namespace {

// Points stdout at a pipe for the test's lifetime; read() returns everything written so far
// once the write end is closed.
class CapturedStdout {
 public:
  CapturedStdout() {
    EXPECT_EQ(::pipe(fds_), 0);
    saved_ = ::dup(STDOUT_FILENO);
    ::dup2(fds_[1], STDOUT_FILENO);
    ::close(fds_[1]);
  }
  ~CapturedStdout() {
    restore();
    ::close(fds_[0]);
  }
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDOUT_FILENO);  // closes the pipe's last write end
    ::close(saved_);
    saved_ = -1;
  }
  int read_fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
  int saved_ = -1;
};

TEST(Logger, ALineIsOneJsonObjectWithTimestampLevelAndEventFirst) {
  CapturedStdout out;
  {
    Logger log(Level::Info, 0);
    log.warn("odd \"event\"\n", {{"n", 3}, {"event", "spoofed"}, {"s", "a\tb"}});
    log.info("bare");
    log.log_rendered(Level::Info, "rendered", R"({"a":1,"b":"x"})");
    log.log_rendered(Level::Debug, "hidden", R"({"a":1})");  // below the level
  }
  out.restore();
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = ::read(out.read_fd(), buf, sizeof buf)) > 0;)
    all.append(buf, std::size_t(n));
  auto nl = all.find('\n');
  ASSERT_NE(nl, std::string::npos) << all;
  std::string first = all.substr(0, nl), second = all.substr(nl + 1);
  EXPECT_EQ(first.rfind("{\"timestamp\":\"", 0), 0u) << first;
  EXPECT_NE(first.find(",\"level\":\"warn\",\"event\":\"odd \\\"event\\\"\\n\",\"n\":3,"),
            std::string::npos)
      << first;
  auto o = boost::json::parse(first).as_object();
  EXPECT_EQ(o.size(), 5u);  // timestamp, level, event, n, s: the spoofed "event" is dropped
  EXPECT_EQ(o.at("event").as_string(), "odd \"event\"\n");
  EXPECT_EQ(o.at("s").as_string(), "a\tb");
  EXPECT_EQ(o.at("timestamp").as_string().size(), 24u);
  auto nl2 = second.find('\n');
  ASSERT_NE(nl2, std::string::npos);
  auto b = boost::json::parse(second.substr(0, nl2)).as_object();
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.at("event").as_string(), "bare");
  std::string third = second.substr(nl2 + 1);
  ASSERT_FALSE(third.empty());
  EXPECT_EQ(third.back(), '\n');
  EXPECT_EQ(third.find('\n'), third.size() - 1);  // one line: the debug one was not written
  auto r = boost::json::parse(third).as_object();
  EXPECT_EQ(r.at("event").as_string(), "rendered");
  EXPECT_EQ(r.at("a").as_int64(), 1);
  EXPECT_EQ(r.at("b").as_string(), "x");
  EXPECT_NE(third.find(R"("event":"rendered","a":1,"b":"x"})"), std::string::npos) << third;
}

TEST(Logger, LinesFromManyThreadsArriveWholeInOrderAndShutdownDrainsThem) {
  CapturedStdout out;
  std::string all;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = ::read(out.read_fd(), buf, sizeof buf)) > 0;)
      all.append(buf, std::size_t(n));
  });
  {
    Logger log(Level::Info, 16384);
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t)
      writers.emplace_back([&, t] {
        for (int i = 0; i < 1000; ++i) log.info("line", {{"thread", t}, {"i", i}});
      });
    for (auto& w : writers) w.join();
    log.warn("last");  // logged just before the logger goes: must still arrive
    EXPECT_EQ(log.dropped(), 0u);
  }
  out.restore();
  reader.join();
  std::vector<int> next(4, 0);
  int lines = 0;
  bool last = false;
  for (std::size_t at = 0, nl; (nl = all.find('\n', at)) != std::string::npos; at = nl + 1) {
    auto v = boost::json::parse(all.substr(at, nl - at)).as_object();
    ++lines;
    if (v.at("event") == "last") {
      last = true;
      EXPECT_EQ(v.at("level"), "warn");
      continue;
    }
    auto t = v.at("thread").as_int64();
    EXPECT_EQ(v.at("i").as_int64(), next[std::size_t(t)]++);  // each thread's lines in order
  }
  EXPECT_EQ(lines, 4001);
  EXPECT_TRUE(last);
}

TEST(Logger, AReaderThatFallsBehindCostsCountedDropsNeverABlockedCaller) {
  CapturedStdout out;
  constexpr int kLines = 100000;
  uint64_t dropped = 0;
  std::string rest;
  std::thread drain;
  {
    Logger log(Level::Info, 10);
    // Nobody reads yet: the pipe fills (64 KiB), the writer blocks in write(2), the buffer holds
    // 10 lines, and every further line is dropped without the caller waiting for the pipe.
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kLines; ++i) log.info("flood", {{"i", i}});
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    dropped = log.dropped();
    EXPECT_GT(dropped, uint64_t(kLines / 2));
    drain = std::thread([&] {
      char buf[65536];
      for (ssize_t n; (n = ::read(out.read_fd(), buf, sizeof buf)) > 0;)
        rest.append(buf, std::size_t(n));
    });
  }               // the writer empties its buffer into the pipe, which is read now
  out.restore();  // EOF for the reader
  drain.join();
  auto received = std::count(rest.begin(), rest.end(), '\n');
  EXPECT_EQ(uint64_t(received) + dropped, uint64_t(kLines));  // every line arrived or was counted
}

}  // namespace
}  // namespace isvc::obs
