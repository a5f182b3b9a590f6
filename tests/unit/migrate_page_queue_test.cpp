// The queue between the migration's reader and its writer: batches of whole pages within a row
// budget, a reader held back once a batch is queued, its error handed to the writer after the
// pages before it, and a reader released when the writer stops.
#include "migrate/page_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

namespace isvc::migrate {
namespace {

TEST(PageQueue, PopTakesWholePagesWithinTheRowBudgetAndAtLeastOne) {
  PageQueue<int> q(100);
  ASSERT_TRUE(q.push(1, 30));
  ASSERT_TRUE(q.push(2, 30));
  ASSERT_TRUE(q.push(3, 30));
  ASSERT_TRUE(q.push(4, 30));  // 90 queued < 100: still taken
  EXPECT_EQ(q.pop(70), (std::vector<int>{1, 2}));
  EXPECT_EQ(q.pop(10), (std::vector<int>{3}));  // a page larger than the budget goes alone
  q.close();
  EXPECT_EQ(q.pop(100), (std::vector<int>{4}));
  EXPECT_TRUE(q.pop(100).empty());
}

TEST(PageQueue, TheReaderWaitsWhileABatchIsQueuedAndStopReleasesIt) {
  PageQueue<int> q(50);
  ASSERT_TRUE(q.push(1, 50));
  std::atomic<int> pushed{-1};
  std::thread reader([&] { pushed = q.push(2, 10) ? 1 : 0; });
  EXPECT_EQ(q.pop(1000), (std::vector<int>{1}));  // makes room: the reader's push goes through
  EXPECT_EQ(q.pop(1000), (std::vector<int>{2}));
  reader.join();
  EXPECT_EQ(pushed, 1);
  ASSERT_TRUE(q.push(3, 60));
  std::thread blocked([&] { pushed = q.push(4, 10) ? 1 : 0; });
  q.stop();  // the writer failed: the reader must not wait for it forever
  blocked.join();
  EXPECT_EQ(pushed, 0);
}

TEST(PageQueue, TheReadersErrorComesAfterThePagesBeforeIt) {
  PageQueue<int> q(100);
  ASSERT_TRUE(q.push(1, 10));
  q.close(std::make_exception_ptr(std::runtime_error("legacy connection lost")));
  EXPECT_EQ(q.pop(100), (std::vector<int>{1}));
  EXPECT_THROW(q.pop(100), std::runtime_error);
}

}  // namespace
}  // namespace isvc::migrate
