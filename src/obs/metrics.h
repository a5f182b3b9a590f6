// In-process measurements behind GET /metrics: upload latency (running mean and a sliding window
// for P95), file-cache hits/misses, request counts. Cheap enough for every request.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace isvc::obs {

// Keeps the last N samples for percentiles and a running total for the mean.
class LatencyWindow {
 public:
  void record(double ms);
  double mean_ms() const;
  double percentile_ms(double p) const;  // p in [0,100]; 0 when empty
  uint64_t count() const;

 private:
  static constexpr std::size_t kWindow = 2048;
  mutable std::mutex mu_;
  std::vector<double> ring_;
  std::size_t next_ = 0;
  uint64_t count_ = 0;
  double total_ = 0;
};

struct ServiceMetrics {
  LatencyWindow upload_latency;
  LatencyWindow processing_latency;
  std::atomic<uint64_t> file_cache_hits{0};
  std::atomic<uint64_t> file_cache_misses{0};
  std::atomic<uint64_t> requests_total{0};
  std::atomic<uint64_t> responses_5xx{0};
  std::atomic<uint64_t> uploads_ok{0};
  std::atomic<uint64_t> uploads_failed{0};
  std::atomic<uint64_t> metadata_cache_hits{0};  // Redis metadata cache
  std::atomic<uint64_t> metadata_cache_misses{0};
  std::atomic<uint64_t> rate_limited{0};        // 429s
  std::atomic<uint64_t> idempotent_replays{0};  // answered from an Idempotency-Key
  // From the periodic consistency check (FSCK_INTERVAL_S); -1 until the first one ran.
  std::atomic<int64_t> orphaned_objects{-1};
  std::atomic<int64_t> dangling_records{-1};
  std::atomic<int64_t> last_fsck_ms{0};

  double file_cache_hit_rate() const;
};

}  // namespace isvc::obs
