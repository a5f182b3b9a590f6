// A fixed-size CPU pool with a bounded queue for image processing. When every worker is busy and
// the queue is full, run() refuses at once with PoolFull instead of letting memory grow.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include <stdexcept>

namespace isvc::base {

// Thrown by BoundedPool::run when every thread is busy and the queue is full.
struct PoolFull : std::runtime_error {
  PoolFull() : std::runtime_error("the pool is at capacity") {}
};

class BoundedPool {
 public:
  BoundedPool(int threads, int queue_capacity);
  ~BoundedPool();
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  // Runs `fn` on a pool thread and waits for its result (exceptions are re-thrown here).
  template <class F>
  auto run(F&& fn) -> std::invoke_result_t<F> {
    using R = std::invoke_result_t<F>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(fn));
    auto fut = task->get_future();
    submit([task] { (*task)(); });
    return fut.get();
  }

  int queued() const;
  int busy() const;
  int threads() const { return static_cast<int>(workers_.size()); }

 private:
  void submit(std::function<void()> job);  // throws PoolFull when full
  void loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> workers_;
  int capacity_;
  int busy_ = 0;
  bool stopping_ = false;
};

}  // namespace isvc::base
