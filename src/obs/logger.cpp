#include "obs/logger.h"

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/time_format.h"

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
  return base::format_iso8601_ms(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::atomic<int> g_instance{0};

}  // namespace

// The asynchronous sink: callers append their line to a buffer (a mutex, a copy, no system
// call); one writer thread takes the whole buffer at a time and writes it with one write(2). It
// is woken when the buffer stops being empty, then lets lines gather for kBatch (or until a
// warning, or 64 KiB), so that under load a request costs neither a wake-up of the writer nor a
// system call of its own, and a line still reaches stdout within ~10 ms. When `max_lines` wait
// already, new lines are dropped and counted: a stdout reader that falls behind never stalls a
// request, and memory stays bounded.
class BatchingStdoutSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  static constexpr auto kBatch = std::chrono::milliseconds(10);
  static constexpr std::size_t kEagerBytes = 64 << 10;
  static constexpr std::size_t kMaxBytes = 32 << 20;

  explicit BatchingStdoutSink(std::size_t max_lines)
      : max_lines_(max_lines), writer_([this] { run(); }) {}
  ~BatchingStdoutSink() override {
    {
      std::lock_guard l(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    writer_.join();  // drains what is buffered first
  }
  uint64_t dropped() const { return dropped_.load(); }

 protected:
  // spdlog's own sink mutex is a null one: the buffer's mutex is ours, in this (instrumented) code,
  // so that ThreadSanitizer sees every lock of it.
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::lock_guard lock(mu_);
    if (lines_ >= max_lines_ || buf_.size() + msg.payload.size() + 1 > kMaxBytes) {
      dropped_.fetch_add(1);
      return;
    }
    bool was_empty = buf_.empty();
    buf_.append(msg.payload.data(), msg.payload.size());
    buf_ += '\n';
    ++lines_;
    if (msg.level >= spdlog::level::warn) urgent_ = true;
    if (was_empty || urgent_ || buf_.size() >= kEagerBytes) cv_.notify_one();
  }
  void flush_() override {}

 private:
  void run() {
    std::string out;
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !buf_.empty(); });
      if (buf_.empty() && stop_) return;
      cv_.wait_for(lock, kBatch, [&] { return stop_ || urgent_ || buf_.size() >= kEagerBytes; });
      out.swap(buf_);
      lines_ = 0;
      urgent_ = false;
      lock.unlock();
      write_all(out);
      out.clear();
      lock.lock();
    }
  }
  static void write_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // stdout closed or broken: the lines are lost, the service goes on
      data.remove_prefix(std::size_t(n));
    }
  }

  const std::size_t max_lines_;
  std::mutex mu_;  // guards everything below but the thread
  std::condition_variable cv_;
  std::string buf_;
  std::size_t lines_ = 0;
  bool urgent_ = false;
  bool stop_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread writer_;  // last: started once the rest is built
};

namespace {}  // namespace

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
  auto name = "isvc-" + std::to_string(g_instance++);
  if (queue_lines == 0) {
    sink_ =
        std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stdout_sink_mt>());
    sink_->flush_on(spdlog::level::trace);  // each line in the caller's thread, at once
  } else {
    batching_ = std::make_shared<BatchingStdoutSink>(queue_lines);
    sink_ = std::make_shared<spdlog::logger>(name, batching_);
  }
  sink_->set_pattern("%v");
  sink_->set_level(spdlog::level::trace);
}

Logger::~Logger() {
  sink_.reset();
  batching_.reset();  // the writer drains what is buffered, then stops
}

uint64_t Logger::dropped() const {
  return batching_ ? batching_->dropped() : 0;
}

void Logger::log(Level l, std::string_view event, boost::json::object fields) const {
  if (!enabled(l)) return;
  for (const char* reserved : {"timestamp", "level", "event"}) fields.erase(reserved);
  log_rendered(l, event, fields.empty() ? std::string("{}") : boost::json::serialize(fields));
}

void Logger::log_rendered(Level l, std::string_view event, std::string_view fields_object) const {
  if (!enabled(l)) return;
  // The line is written as text around the rendered fields rather than built as a second
  // object (one allocation per line instead of one per field); the three leading keys are ours.
  std::string line;
  line.reserve(96 + event.size() + fields_object.size());
  line += "{\"timestamp\":\"";
  line += timestamp_now();
  line += "\",\"level\":\"";
  line += level_name(l);
  line += "\",\"event\":";
  line += boost::json::serialize(boost::json::string_view(event.data(), event.size()));
  if (fields_object.size() > 2) {
    line += ',';
    line.append(fields_object.substr(1));  // without its opening brace
  } else {
    line += '}';
  }
  sink_->log(l >= Level::Warn ? spdlog::level::warn : spdlog::level::info, line);
}

}  // namespace isvc::obs
