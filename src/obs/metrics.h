// In-process measurements behind GET /metrics: upload latency (running mean and a sliding window
// for P95), file-cache hits/misses, request counts. Cheap enough for every request.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "obs/prometheus.h"

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

  // For the Prometheus exposition.
  CounterFamily http_requests{"isvc_http_requests_total",
                              "HTTP requests by route template, method and status.",
                              {"route", "method", "status"}};
  HistogramFamily http_duration{
      "isvc_http_request_duration_seconds",
      "Time from reading the request to writing the response, by route template and method.",
      {"route", "method"},
      latency_buckets()};
  CounterFamily upload_outcomes{
      "isvc_uploads_total",
      "Uploads (multipart and direct-upload completes) by outcome: created, replayed, or the "
      "error code.",
      {"outcome"}};
  HistogramFamily processing_seconds{"isvc_image_processing_seconds",
                                     "Decode, resize and WebP encoding of one upload.",
                                     {},
                                     latency_buckets()};
  HistogramFamily store_duration{"isvc_store_call_duration_seconds",
                                 "Calls into the metadata and object stores, by store, backend and "
                                 "operation.",
                                 {"store", "backend", "operation"},
                                 latency_buckets()};
  CounterFamily store_errors{"isvc_store_errors_total",
                             "Store calls that failed (SERVICE_UNAVAILABLE: throttled or down "
                             "after retries; STORAGE_FAILED; exception), by store, backend and "
                             "operation.",
                             {"store", "backend", "operation", "code"}};
  CounterFamily refused_requests{
      "isvc_requests_refused_total",
      "Requests refused from their head or while their body was read, by reason: upload_slots, "
      "memory (admission), too_large, slow_body (idle or below the minimum rate), framing "
      "(malformed or ambiguous HTTP), connections (no seat left).",
      {"reason"}};
  CounterFamily variant_generations{
      "isvc_variant_generations_total",
      "Responsive variants encoded (each on its first request), by format.",
      {"format"}};
  CounterFamily variant_requests{
      "isvc_variant_requests_total",
      "Variant deliveries by format and how the bytes were found: hit (stored already, or in the "
      "hot cache), generated (encoded for this request), shared (waited for another request's "
      "encode), stored (made meanwhile by another instance).",
      {"format", "result"}};
  CounterFamily variant_bytes{"isvc_variant_bytes_total",
                              "Bytes of variants sent in 200 and 206 responses, by format.",
                              {"format"}};
  int64_t started_at_s = 0;  // process start, Unix seconds

  double file_cache_hit_rate() const;
};

}  // namespace isvc::obs
