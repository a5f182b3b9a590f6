// A wall-clock deadline for one image's libvips work: every image about to be computed is watched
// through libvips' "eval" progress signal, and once the deadline has passed every watched image
// is killed, so the running sink fails at its next tile and its threads go back to the pool.
#pragma once

#include <vips/vips8>

#include <atomic>
#include <chrono>
#include <mutex>
#include <utility>
#include <vector>

namespace isvc::imaging {

class VipsDeadline {
 public:
  explicit VipsDeadline(int timeout_ms);  // 0: never expires
  ~VipsDeadline();                        // disconnects from every watched image
  VipsDeadline(const VipsDeadline&) = delete;
  VipsDeadline& operator=(const VipsDeadline&) = delete;

  // Call before computing `img` (copy_memory, a save): its evaluation, and that of everything
  // derived from it, now reports progress here. Throws the timeout error if already expired.
  void watch(const vips::VImage& img);
  // Throws domain::Error INVALID_IMAGE (reason processing_timeout) once the deadline has passed.
  void check();
  // True once the deadline was found passed (a libvips failure after this is the timeout).
  bool fired() const { return fired_.load(); }
  int timeout_ms() const { return timeout_ms_; }

 private:
  static void on_eval(VipsImage* image, VipsProgress* progress, void* self);
  bool expired() const;
  void kill_all();

  int timeout_ms_;
  std::chrono::steady_clock::time_point at_;
  std::atomic<bool> fired_{false};
  std::mutex mu_;
  std::vector<std::pair<VipsImage*, gulong>> watched_;  // each holds a reference
};

}  // namespace isvc::imaging
