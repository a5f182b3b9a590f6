// The store decorators time every call and count only real failures, rethrowing them unchanged.
#include "storage/instrumented.h"

#include <gtest/gtest.h>

#include "domain/model/error.h"

namespace isvc::storage {
namespace {

class FlakyObjects final : public domain::ObjectStore {
 public:
  domain::ErrorCode fail_with = domain::ErrorCode::Unavailable;
  bool fail = false;
  void put(const std::string&, std::string_view, const std::string&) override {
    if (fail) throw domain::Error(fail_with, "no");
  }
  std::optional<domain::ObjectInfo> head(const std::string&) override { return std::nullopt; }
  std::optional<domain::ObjectData> get(const std::string&,
                                        std::optional<domain::ByteRange>) override {
    throw std::runtime_error("boom");
  }
  void remove(const std::string&) override {}
  void list(const std::string&,
            const std::function<bool(const std::string&, const domain::ObjectInfo&)>&) override {}
  std::string name() const override { return "flaky"; }
  std::string bucket() const override { return "b"; }
  bool healthy() override { return true; }
};

TEST(InstrumentedObjectStore, TimesEveryCallAndCountsFailuresByCode) {
  obs::ServiceMetrics m;
  FlakyObjects inner;
  InstrumentedObjectStore s(inner, m);
  s.put("k", "v", "image/webp");
  EXPECT_EQ(s.head("k"), std::nullopt);
  inner.fail = true;
  EXPECT_THROW(s.put("k", "v", "image/webp"), domain::Error);
  inner.fail_with = domain::ErrorCode::ImageNotFound;  // an expected outcome, not a failure
  EXPECT_THROW(s.put("k", "v", "image/webp"), domain::Error);
  EXPECT_THROW(s.get("k"), std::runtime_error);

  auto durations = m.store_duration.snapshot();
  EXPECT_EQ((durations[{"object", "flaky", "put"}].count), 3u);
  EXPECT_EQ((durations[{"object", "flaky", "head"}].count), 1u);
  EXPECT_EQ((durations[{"object", "flaky", "get"}].count), 1u);
  auto errors = m.store_errors.snapshot();
  EXPECT_EQ(errors.size(), 2u);
  EXPECT_EQ((errors[{"object", "flaky", "put", "SERVICE_UNAVAILABLE"}]), 1u);
  EXPECT_EQ((errors[{"object", "flaky", "get", "exception"}]), 1u);
}

}  // namespace
}  // namespace isvc::storage
