#include "journal/group_hold.h"

#include <thread>

#include "gtest/gtest.h"

namespace almanac::journal {
namespace {

std::thread::id OtherThreadId() {
  std::thread::id id;
  std::thread t([&id] { id = std::this_thread::get_id(); });
  t.join();
  return id;
}

TEST(GroupHoldTest, NothingToWaitForAtFirst) {
  GroupHold hold;
  EXPECT_TRUE(hold.AllReturned());
  EXPECT_EQ(hold.Budget(), absl::ZeroDuration());
}

TEST(GroupHoldTest, WaitsUntilEveryAnsweredCallerIsBack) {
  GroupHold hold;
  const std::thread::id me = std::this_thread::get_id();
  const std::thread::id other = OtherThreadId();
  ASSERT_NE(me, other);
  hold.Answered(me);
  hold.Answered(other);
  EXPECT_FALSE(hold.AllReturned());
  hold.Returned(me);
  EXPECT_FALSE(hold.AllReturned());
  hold.Returned(me);  // twice is once
  EXPECT_FALSE(hold.AllReturned());
  hold.Returned(other);
  EXPECT_TRUE(hold.AllReturned());
}

TEST(GroupHoldTest, ForgetDropsCallersThatDidNotComeBack) {
  GroupHold hold;
  hold.Answered(OtherThreadId());
  EXPECT_FALSE(hold.AllReturned());
  hold.Forget();
  EXPECT_TRUE(hold.AllReturned());
}

TEST(GroupHoldTest, BudgetIsAFractionOfTheLastWriteAndCapped) {
  GroupHold hold;
  hold.set_last_write(absl::Microseconds(400));
  EXPECT_EQ(hold.Budget(), absl::Microseconds(400) / GroupHold::kHoldFractionOfWrite);
  hold.set_last_write(absl::Seconds(1));  // a stalled disk does not make holds long
  EXPECT_EQ(hold.Budget(), GroupHold::kHoldMax);
}

}  // namespace
}  // namespace almanac::journal
