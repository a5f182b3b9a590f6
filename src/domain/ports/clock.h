// Port: the time source, injected so tests control "now". SystemClock is the real one,
// ManualClock the tests'.
#pragma once

#include <chrono>
#include <cstdint>

namespace isvc::domain {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;
  int64_t now_s() const { return now_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t ms) : ms_(ms) {}
  int64_t now_ms() const override { return ms_; }
  void set(int64_t ms) { ms_ = ms; }
  void advance(int64_t ms) { ms_ += ms; }

 private:
  int64_t ms_;
};

}  // namespace isvc::domain
