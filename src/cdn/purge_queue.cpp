#include "cdn/purge_queue.h"

#include <random>

namespace isvc::cdn {

PurgeQueue::PurgeQueue(std::vector<std::unique_ptr<PurgeTarget>> targets, const obs::Logger& log,
                       PurgeQueueSettings s)
    : targets_(std::move(targets)), log_(log), s_(s), worker_([this] { run(); }) {}

PurgeQueue::~PurgeQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
  for (const auto& keys : queue_)
    for (const auto& k : keys) log_.warn("cdn_purge_dropped", {{"key", k}, {"reason", "shutdown"}});
}

void PurgeQueue::purge(std::vector<std::string> object_keys) {
  if (targets_.empty() || object_keys.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= s_.max_pending) {
      failed_.fetch_add(1);
      log_.warn("cdn_purge_dropped", {{"key", object_keys.front()}, {"reason", "queue full"}});
      return;
    }
    queue_.push_back(std::move(object_keys));
  }
  cv_.notify_one();
}

std::size_t PurgeQueue::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void PurgeQueue::run() {
  std::mt19937_64 rng{std::random_device{}()};
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    auto keys = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    bool all_ok = true;
    for (auto& target : targets_) {
      std::string error;
      for (int attempt = 0; attempt < s_.retry.max_attempts; ++attempt) {
        if (attempt > 0) {
          // Back off, but wake at once for shutdown.
          std::unique_lock wait(mu_);
          if (cv_.wait_for(wait,
                           std::chrono::milliseconds(aws::backoff_ms(s_.retry, attempt - 1, rng)),
                           [this] { return stop_; }))
            return;
        }
        try {
          error = target->send(keys);
        } catch (const std::exception& e) {
          error = e.what();
        }
        if (error.empty()) break;
      }
      if (!error.empty()) {
        all_ok = false;
        log_.error("cdn_purge_failed",
                   {{"target", target->name()}, {"key", keys.front()}, {"error", error}});
      }
    }
    // last_ok_ first: whoever sees the count move (tests, /health after a purge) sees the
    // outcome that moved it.
    last_ok_ = all_ok;
    (all_ok ? ok_ : failed_).fetch_add(1);
    lock.lock();
  }
}

}  // namespace isvc::cdn
