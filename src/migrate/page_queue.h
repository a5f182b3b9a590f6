// The hand-over between the migration's reader (legacy pages, mapped) and its writer: a queue
// bounded in rows, so that reading and mapping run on another core than the store's writes
// without holding more than about two batches in memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

namespace isvc::migrate {

template <class Page>
class PageQueue {
 public:
  explicit PageQueue(int64_t max_rows) : max_rows_(max_rows) {}

  // Waits while the queue holds max_rows rows or more. False once the consumer has stopped.
  bool push(Page page, int64_t rows) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopped_ || queued_rows_ < max_rows_; });
    if (stopped_) return false;
    queued_rows_ += rows;
    pages_.emplace_back(std::move(page), rows);
    cv_.notify_all();
    return true;
  }

  // The producer is done (error: why it stopped; pop() rethrows it once the queue is empty).
  void close(std::exception_ptr error = nullptr) {
    std::lock_guard lock(mu_);
    closed_ = true;
    error_ = error;
    cv_.notify_all();
  }

  // The consumer gives up: the producer's next push returns false.
  void stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }

  // The pages queued now, oldest first, as many as fit in `rows` (always at least one); waits for
  // the first. Empty when the producer has closed the queue and it is drained.
  std::vector<Page> pop(int64_t rows) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !pages_.empty(); });
    if (pages_.empty() && error_) std::rethrow_exception(error_);
    std::vector<Page> out;
    int64_t taken = 0;
    while (!pages_.empty() && (out.empty() || taken + pages_.front().second <= rows)) {
      taken += pages_.front().second;
      out.push_back(std::move(pages_.front().first));
      pages_.pop_front();
    }
    queued_rows_ -= taken;
    cv_.notify_all();
    return out;
  }

 private:
  int64_t max_rows_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Page, int64_t>> pages_;
  int64_t queued_rows_ = 0;
  bool closed_ = false, stopped_ = false;
  std::exception_ptr error_;
};

}  // namespace isvc::migrate
