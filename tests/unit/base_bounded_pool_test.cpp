#include "base/bounded_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <thread>

namespace isvc::base {
namespace {

TEST(BoundedPool, RunsAndReturnsResultsAndExceptions) {
  BoundedPool pool(2, 2);
  EXPECT_EQ(pool.run([] { return 41 + 1; }), 42);
  EXPECT_THROW(pool.run([]() -> int { throw std::runtime_error("x"); }), std::runtime_error);
}

TEST(BoundedPool, RefusesWhenWorkersAndQueueAreFull) {
  BoundedPool pool(1, 1);
  std::promise<void> release;
  auto gate = release.get_future().share();
  std::latch started(1);
  // One job occupies the worker, one waits in the queue; the third is refused at once.
  auto a = std::async(std::launch::async, [&] {
    return pool.run([&] {
      started.count_down();
      gate.wait();
      return 1;
    });
  });
  started.wait();
  std::atomic<bool> queued{false};
  auto b = std::async(std::launch::async, [&] { return pool.run([&] { return 2; }); });
  // Wait (with a deadline) until the second job is visible in the queue.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.queued() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(pool.queued(), 1);
  bool refused = false;
  try {
    pool.run([] { return 3; });
  } catch (const PoolFull&) {
    refused = true;  // ImageService answers it as 503 + Retry-After 2 (domain_image_service_test)
  }
  release.set_value();
  EXPECT_TRUE(refused);
  EXPECT_EQ(a.get(), 1);
  EXPECT_EQ(b.get(), 2);
  (void)queued;
}

}  // namespace
}  // namespace isvc::base
