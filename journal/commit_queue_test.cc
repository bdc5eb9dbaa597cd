#include "journal/commit_queue.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace almanac::journal {
namespace {

struct Item {
  int producer = 0;
  int index = 0;
  int answer = 0;  // written by the consumer before answering
  Item* queue_next = nullptr;
  uint64_t queue_ticket = 0;
  std::atomic<bool> answered{false};
};

TEST(CommitQueueTest, TakeAllReturnsItemsInPushOrder) {
  CommitQueue<Item> queue;
  EXPECT_TRUE(queue.Empty());
  std::vector<Item> items(5);
  for (Item& item : items) queue.Push(&item);
  EXPECT_FALSE(queue.Empty());
  std::vector<Item*> taken;
  EXPECT_EQ(queue.TakeAll(&taken), 5u);
  ASSERT_EQ(taken.size(), 5u);
  for (size_t i = 0; i < taken.size(); ++i) EXPECT_EQ(taken[i], &items[i]);
  EXPECT_TRUE(queue.Empty());
  EXPECT_EQ(queue.TakeAll(&taken), 0u);
}

TEST(CommitQueueTest, WaitForMoreReturnsAtOnceWhenEnoughWerePushed) {
  CommitQueue<Item> queue;
  Item a, b;
  queue.Push(&a);
  queue.Push(&b);
  // Nothing taken yet: two pushes satisfy a wait for two; no deadline needed.
  queue.WaitForMore(2, absl::InfiniteFuture());
  std::vector<Item*> taken;
  EXPECT_EQ(queue.TakeAll(&taken), 2u);
}

TEST(CommitQueueTest, WaitForMoreEndsAtTheDeadlineWithoutPushes) {
  CommitQueue<Item> queue;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(20);
  queue.WaitForMore(1, deadline);
  // It may return early (spuriously) but then the caller loops; here nothing was pushed,
  // so looping until the deadline must end.
  while (absl::Now() < deadline) queue.WaitForMore(1, deadline);
  EXPECT_TRUE(queue.Empty());
}

TEST(CommitQueueTest, PushFromAnotherThreadWakesTheConsumer) {
  CommitQueue<Item> queue;
  Item item;
  std::thread producer([&] {
    absl::SleepFor(absl::Milliseconds(5));
    queue.Push(&item);
  });
  std::vector<Item*> taken;
  while (taken.empty()) {
    queue.WaitForMore(1, absl::InfiniteFuture());  // a lost wake-up hangs here
    queue.TakeAll(&taken);
  }
  producer.join();
  EXPECT_EQ(taken.front(), &item);
}

TEST(CommitQueueTest, WakeEndsAWaitWithNoDeadline) {
  CommitQueue<Item> queue;
  std::atomic<bool> stop{false};
  std::thread waker([&] {
    absl::SleepFor(absl::Milliseconds(5));
    stop = true;
    queue.Wake();
  });
  while (!stop.load()) queue.WaitForMore(1, absl::InfiniteFuture());
  waker.join();
}

// The consumer checks its stop flag, then waits: a Wake() that comes between the two must
// not be slept through (the journal's destructor hung on exactly that).
TEST(CommitQueueTest, WakeBeforeTheWaitIsNotLost) {
  CommitQueue<Item> queue;
  queue.Wake();
  queue.WaitForMore(1, absl::InfiniteFuture());  // hangs (test timeout) if lost
}

// The way the journal and the sequencer use it: producers push and wait for their answer,
// one consumer takes groups and answers them. Every item is answered exactly once, with
// what the consumer wrote, and each producer's items arrive in its order.
TEST(CommitQueueTest, ManyProducersOneConsumerEveryItemAnsweredOnce) {
  constexpr int kProducers = 8;
  constexpr int kItemsEach = 2000;
  CommitQueue<Item> queue;
  std::atomic<bool> done{false};
  std::vector<int> next_index(kProducers, 0);
  int answers = 0;
  bool in_order = true;
  std::thread consumer([&] {
    std::vector<Item*> group;
    while (!done.load()) {
      group.clear();
      if (queue.TakeAll(&group) == 0) {
        queue.WaitForMore(1, absl::Now() + absl::Milliseconds(100));
        continue;
      }
      for (Item* item : group) {
        in_order &= item->index == next_index[item->producer]++;
        item->answer = ++answers;
      }
      queue.AnswerAll(group);
    }
  });
  std::vector<std::thread> producers;
  std::atomic<int> answered{0};
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kItemsEach; ++i) {
        Item item;
        item.producer = p;
        item.index = i;
        queue.Push(&item);
        queue.AwaitAnswer(&item);
        if (item.answer > 0) answered.fetch_add(1);
      }
    });
  }
  for (std::thread& t : producers) t.join();
  done = true;
  queue.Wake();
  consumer.join();
  EXPECT_EQ(answered.load(), kProducers * kItemsEach);
  EXPECT_EQ(answers, kProducers * kItemsEach);
  EXPECT_TRUE(in_order);
}

// One answer for 64 sleeping callers: their tickets span 16 wake bits, so the consumer
// wakes half of them and leaves the rest to the first caller back (the relay). Every
// caller must come back; a lost relay would leave half of them asleep for good.
TEST(CommitQueueTest, OneAnswerWakesEveryCallerOfALargeGroup) {
  constexpr int kCallers = 64;
  CommitQueue<Item> queue;
  std::vector<Item> items(kCallers);
  std::atomic<int> back{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      queue.Push(&items[i]);
      queue.AwaitAnswer(&items[i]);
      back.fetch_add(1);
    });
  }
  queue.WaitForMore(kCallers, absl::InfiniteFuture());
  std::vector<Item*> group;
  ASSERT_EQ(queue.TakeAll(&group), static_cast<size_t>(kCallers));
  absl::SleepFor(absl::Milliseconds(50));  // let them fall asleep
  queue.AnswerAll(group);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (back.load() < kCallers && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  if (back.load() < kCallers) {
    // Joining would hang: report and stop here.
    std::fprintf(stderr, "only %d of %d callers came back\n", back.load(), kCallers);
    std::_Exit(1);
  }
  for (std::thread& t : callers) t.join();
}

}  // namespace
}  // namespace almanac::journal
