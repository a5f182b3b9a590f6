#include "base/bounded_pool.h"

namespace isvc::base {

BoundedPool::BoundedPool(int threads, int queue_capacity) : capacity_(queue_capacity) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { loop(); });
}

BoundedPool::~BoundedPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void BoundedPool::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    // Outstanding work = running + waiting; at most one job per worker plus the queue capacity.
    int outstanding = busy_ + static_cast<int>(queue_.size());
    if (outstanding >= static_cast<int>(workers_.size()) + capacity_ || stopping_) {
      throw PoolFull();
    }
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void BoundedPool::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    job();  // packaged_task captures exceptions; nothing escapes
    std::lock_guard lock(mu_);
    --busy_;
  }
}

int BoundedPool::queued() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size());
}

int BoundedPool::busy() const {
  std::lock_guard lock(mu_);
  return busy_;
}

}  // namespace isvc::base
