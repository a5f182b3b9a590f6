// Admission control: slots and bytes are taken together or not at all, and given back by the
// ticket.
#include "base/admission.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace isvc::base {
namespace {

TEST(Admission, SlotsAndBytesAreTakenTogetherAndGivenBack) {
  AdmissionControl a(2, 100);
  AdmissionControl::Refusal why;
  auto t1 = a.try_take(true, 60, &why);
  ASSERT_TRUE(t1);
  EXPECT_EQ(why, AdmissionControl::Refusal::None);
  EXPECT_FALSE(a.try_take(true, 50, &why));  // bytes short: no slot taken either
  EXPECT_EQ(why, AdmissionControl::Refusal::Memory);
  EXPECT_EQ(a.slots_in_use(), 1);
  auto t2 = a.try_take(true, 40);
  ASSERT_TRUE(t2);
  EXPECT_FALSE(a.try_take(true, 0, &why));
  EXPECT_EQ(why, AdmissionControl::Refusal::Slots);
  EXPECT_FALSE(a.try_take(false, 1, &why));
  EXPECT_EQ(why, AdmissionControl::Refusal::Memory);
  t1.reset();
  EXPECT_EQ(a.bytes_in_use(), 40);
  EXPECT_EQ(a.slots_in_use(), 1);
  EXPECT_TRUE(a.try_take(false, 60));  // a temporary: given back at once
  EXPECT_EQ(a.bytes_in_use(), 40);
}

TEST(Admission, NeverOverCommitsUnderContention) {
  AdmissionControl a(5, 1000);
  std::atomic<int> peak_slots{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 2000; ++j) {
        auto t = a.try_take(true, 150);
        if (!t) continue;
        int s = a.slots_in_use();
        int p = peak_slots.load();
        while (s > p && !peak_slots.compare_exchange_weak(p, s)) {
        }
        EXPECT_LE(a.bytes_in_use(), 1000);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(peak_slots.load(), 5);
  EXPECT_EQ(a.slots_in_use(), 0);
  EXPECT_EQ(a.bytes_in_use(), 0);
}

}  // namespace
}  // namespace isvc::base
