// The CDN purger: a bounded queue drained by one background thread that sends every batch of
// object keys to each configured target (CloudFront, an HTTP PURGE endpoint), retrying each
// target with exponential backoff and full jitter until it succeeds or attempts run out.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/aws_client.h"
#include "domain/ports/purger.h"
#include "obs/logger.h"

namespace isvc::cdn {

// One CDN to purge. send() returns an empty string on success, else what went wrong.
class PurgeTarget {
 public:
  virtual ~PurgeTarget() = default;
  virtual std::string name() const = 0;
  virtual std::string send(const std::vector<std::string>& object_keys) = 0;
};

struct PurgeQueueSettings {
  std::size_t max_pending = 10000;  // batches; beyond that new purges are dropped and logged
  aws::RetryPolicy retry{8, 500, 60000};
};

class PurgeQueue final : public domain::Purger {
 public:
  PurgeQueue(std::vector<std::unique_ptr<PurgeTarget>> targets, const obs::Logger& log,
             PurgeQueueSettings s = {});
  ~PurgeQueue() override;  // stops after the batch in hand; what is still queued is logged

  void purge(std::vector<std::string> object_keys) override;

  uint64_t succeeded() const { return ok_; }
  uint64_t failed() const { return failed_; }  // batches given up after every retry
  std::size_t pending() const;
  // "up" unless the last batch to some target was given up on.
  bool last_ok() const { return last_ok_; }

 private:
  void run();

  std::vector<std::unique_ptr<PurgeTarget>> targets_;
  const obs::Logger& log_;
  PurgeQueueSettings s_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::string>> queue_;
  bool stop_ = false;
  std::atomic<uint64_t> ok_{0}, failed_{0};
  std::atomic<bool> last_ok_{true};
  std::thread worker_;
};

}  // namespace isvc::cdn
