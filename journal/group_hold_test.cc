#include "journal/group_hold.h"

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

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

// Stands in for the writer's CommitQueue: each WaitForMore runs the next scripted
// "push" (or, past the script, sleeps to the deadline as a queue nobody pushes to).
struct ScriptedQueue {
  std::vector<std::function<void()>> pushes;
  std::vector<uint64_t> waited_for;  // WaitForMore's `more`, per call
  size_t next = 0;
  void WaitForMore(uint64_t more, absl::Time deadline) {
    waited_for.push_back(more);
    if (next < pushes.size()) {
      pushes[next++]();
    } else {
      absl::SleepFor(deadline - absl::Now());
    }
  }
};

// Two callers answered, back one after the other: runs a Hold waking every
// `returns_per_wake` returns; gives WaitForMore's `more` per call and the takes.
struct TwoReturns {
  std::vector<uint64_t> waited_for;
  int takes = 0;
  bool all_returned = false;
  absl::Duration took;
};
TwoReturns HoldForTwoReturns(size_t returns_per_wake) {
  GroupHold hold;
  const std::thread::id me = std::this_thread::get_id();
  const std::thread::id other = OtherThreadId();
  hold.set_last_write(absl::Seconds(10));  // budget kHoldMax: never reached here
  hold.Answered(me);
  hold.Answered(other);
  ScriptedQueue queue;
  std::vector<std::thread::id> pushed;
  queue.pushes = {[&] { pushed.push_back(me); }, [&] { pushed.push_back(other); }};
  TwoReturns result;
  const absl::Time start = absl::Now();
  hold.Hold(queue, returns_per_wake, [&] {
    ++result.takes;
    for (std::thread::id id : pushed) hold.Returned(id);
    pushed.clear();
  }, [] { return true; });
  result.took = absl::Now() - start;
  result.waited_for = queue.waited_for;
  result.all_returned = hold.AllReturned();
  return result;
}

TEST(GroupHoldTest, HoldEndsWhenEveryAnsweredCallerIsBack) {
  const TwoReturns r = HoldForTwoReturns(GroupHold::kAllReturns);
  EXPECT_LT(r.took, GroupHold::kHoldMax);
  EXPECT_EQ(r.takes, 2);
  EXPECT_EQ(r.waited_for, (std::vector<uint64_t>{2, 1}));  // waits for the missing
  EXPECT_TRUE(r.all_returned);
}

TEST(GroupHoldTest, HoldWakesAfterEveryFewReturnsWhenAskedTo) {
  const TwoReturns r = HoldForTwoReturns(/*returns_per_wake=*/1);
  EXPECT_EQ(r.takes, 2);
  // Wakes for the first return although two are missing.
  EXPECT_EQ(r.waited_for, (std::vector<uint64_t>{1, 1}));
  EXPECT_TRUE(r.all_returned);
}

TEST(GroupHoldTest, HoldEndsAtItsBudgetAndForgetsWhoDidNotComeBack) {
  GroupHold hold;
  hold.set_last_write(absl::Milliseconds(1));
  ASSERT_EQ(hold.Budget(), absl::Milliseconds(1));
  hold.Answered(OtherThreadId());
  ScriptedQueue queue;  // nobody pushes
  const absl::Time start = absl::Now();
  hold.Hold(queue, GroupHold::kAllReturns, [] {}, [] { return true; });
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(1));
  EXPECT_FALSE(queue.waited_for.empty());
  EXPECT_TRUE(hold.AllReturned());  // not waited for again
}

TEST(GroupHoldTest, HoldDoesNotWaitWhenTheWriterMustNotHold) {
  GroupHold hold;
  hold.set_last_write(absl::Seconds(10));
  hold.Answered(OtherThreadId());
  ScriptedQueue queue;
  hold.Hold(queue, GroupHold::kAllReturns, [] {}, [] { return false; });  // stopping, or the group is full
  EXPECT_TRUE(queue.waited_for.empty());
  EXPECT_TRUE(hold.AllReturned());
}

}  // namespace
}  // namespace almanac::journal
