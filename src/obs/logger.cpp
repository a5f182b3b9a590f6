#include "obs/logger.h"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>

namespace isvc::obs {

namespace {
const char* level_name(Level l) {
  switch (l) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warn";
    case Level::Error:
      return "error";
  }
  return "info";
}

std::string timestamp_now() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
  return buf;
}

std::atomic<int> g_instance{0};
}  // namespace

bool parse_level(std::string_view text, Level& out) {
  if (text == "debug")
    out = Level::Debug;
  else if (text == "info")
    out = Level::Info;
  else if (text == "warn" || text == "warning")
    out = Level::Warn;
  else if (text == "error")
    out = Level::Error;
  else
    return false;
  return true;
}

Logger::Logger(Level min_level, std::size_t queue_lines) : min_(min_level) {
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto name = "isvc-" + std::to_string(g_instance++);
  if (queue_lines == 0) {
    sink_ = std::make_shared<spdlog::logger>(name, sink);
  } else {
    pool_ = std::make_shared<spdlog::details::thread_pool>(queue_lines, 1);
    sink_ = std::make_shared<spdlog::async_logger>(name, sink, pool_,
                                                   spdlog::async_overflow_policy::overrun_oldest);
  }
  sink_->set_pattern("%v");
  sink_->set_level(spdlog::level::trace);
  // Each line reaches the pipe when the writer takes it (readers such as log shippers and the
  // tests see lines at once); the writer, not the caller, waits for the pipe.
  sink_->flush_on(spdlog::level::trace);
}

Logger::~Logger() {
  // The writer thread drains what is queued when the pool goes; the logger must go first.
  sink_.reset();
  pool_.reset();
}

uint64_t Logger::dropped() const {
  return pool_ ? pool_->overrun_counter() : 0;
}

void Logger::log(Level l, std::string_view event, boost::json::object fields) const {
  if (!enabled(l)) return;
  boost::json::object line;
  line["timestamp"] = timestamp_now();
  line["level"] = level_name(l);
  line["event"] = event;
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  sink_->info(boost::json::serialize(line));
}

}  // namespace isvc::obs
