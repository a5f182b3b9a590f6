// Structured logs: one JSON object per line on stdout (timestamp, level, event + fields), written
// through spdlog so lines from many threads never interleave. Asynchronous: a bounded buffer and
// one writer thread that writes batches (a line is on stdout within ~10 ms), so a slow reader of
// stdout never stalls a request; when the buffer is full new lines are dropped and counted.
// Secrets are never passed in here.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}  // namespace spdlog

namespace isvc::obs {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

// "debug" | "info" | "warn" | "error"; nullopt-like false when unknown.
bool parse_level(std::string_view text, Level& out);

class Logger {
 public:
  // `queue_lines`: lines that may wait for the writer before the oldest are dropped; 0 writes
  // each line in the caller's thread (tests that capture stdout).
  explicit Logger(Level min_level, std::size_t queue_lines = 16384);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  // Lines dropped because the queue was full.
  uint64_t dropped() const;
  bool enabled(Level l) const { return l >= min_; }
  void log(Level l, std::string_view event, boost::json::object fields = {}) const;
  // The same line from fields the caller has already rendered as one JSON object ("{...}", no
  // "timestamp", "level" or "event" key): the access log's path, which builds no JSON values.
  void log_rendered(Level l, std::string_view event, std::string_view fields_object) const;
  void info(std::string_view event, boost::json::object fields = {}) const {
    log(Level::Info, event, std::move(fields));
  }
  void warn(std::string_view event, boost::json::object fields = {}) const {
    log(Level::Warn, event, std::move(fields));
  }
  void error(std::string_view event, boost::json::object fields = {}) const {
    log(Level::Error, event, std::move(fields));
  }

 private:
  Level min_;
  std::shared_ptr<class BatchingStdoutSink> batching_;  // the asynchronous mode's sink
  std::shared_ptr<spdlog::logger> sink_;
};

}  // namespace isvc::obs
