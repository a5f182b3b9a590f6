// The purge queue's retries and the CloudFront CreateInvalidation request.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "cdn/purge_queue.h"
#include "cdn/purge_targets.h"

namespace isvc::cdn {
namespace {

// Fails the first `failures` sends, then succeeds; records every batch it was given.
class FlakyTarget : public PurgeTarget {
 public:
  explicit FlakyTarget(int failures) : failures_(failures) {}
  std::string name() const override { return "flaky"; }
  std::string send(const std::vector<std::string>& keys) override {
    std::lock_guard lock(mu);
    ++calls;
    batches.push_back(keys);
    cv.notify_all();
    return calls <= failures_ ? "unreachable" : "";
  }
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  std::vector<std::vector<std::string>> batches;

 private:
  int failures_;
};

TEST(PurgeQueue, RetriesUntilTheTargetAcceptsTheBatch) {
  obs::Logger log(obs::Level::Error);
  auto target = std::make_unique<FlakyTarget>(3);
  auto* t = target.get();
  std::vector<std::unique_ptr<PurgeTarget>> targets;
  targets.push_back(std::move(target));
  PurgeQueue q(std::move(targets), log, PurgeQueueSettings{100, aws::RetryPolicy{5, 1, 2}});
  q.purge({"images/u/a.webp", "images/u/thumbnails/a.webp"});
  {
    std::unique_lock lock(t->mu);
    t->cv.wait(lock, [&] { return t->calls >= 4; });
  }
  while (q.succeeded() + q.failed() < 1) std::this_thread::yield();
  EXPECT_EQ(q.succeeded(), 1u);
  EXPECT_EQ(q.failed(), 0u);
  EXPECT_TRUE(q.last_ok());
  EXPECT_EQ(t->batches.back(),
            (std::vector<std::string>{"images/u/a.webp", "images/u/thumbnails/a.webp"}));
}

TEST(PurgeQueue, GivesUpAfterTheLastAttemptAndSaysSo) {
  obs::Logger log(obs::Level::Error);
  auto target = std::make_unique<FlakyTarget>(100);
  auto* t = target.get();
  std::vector<std::unique_ptr<PurgeTarget>> targets;
  targets.push_back(std::move(target));
  PurgeQueue q(std::move(targets), log, PurgeQueueSettings{100, aws::RetryPolicy{3, 1, 2}});
  q.purge({"images/u/b.webp"});
  while (q.succeeded() + q.failed() < 1) std::this_thread::yield();
  EXPECT_EQ(t->calls, 3);
  EXPECT_EQ(q.failed(), 1u);
  EXPECT_FALSE(q.last_ok());
}

TEST(CloudFront, InvalidationRequestNamesBothPathsUnderTheCdnPrefix) {
  std::string body;
  auto r =
      cloudfront_invalidation("E2QWRUHAPOMQZL", "/cdn",
                              {"images/u 1/a.webp", "images/u 1/thumbnails/a.webp"}, "ref-1", body);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/2020-05-31/distribution/E2QWRUHAPOMQZL/invalidation");
  EXPECT_EQ(body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InvalidationBatch "
            "xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Paths><Quantity>2</"
            "Quantity><Items><Path>/cdn/images/u%201/a.webp</Path><Path>/cdn/images/u%201/"
            "thumbnails/a.webp</Path></Items></Paths><CallerReference>ref-1</CallerReference></"
            "InvalidationBatch>");
  EXPECT_EQ(r.body, body);
}

}  // namespace
}  // namespace isvc::cdn
