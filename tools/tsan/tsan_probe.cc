// Proves, under --config=tsan, that TSan sees Abseil's synchronization through
// absl_sync_annotations: each case either shares data correctly through one absl primitive
// (TSan must stay silent) or races on purpose (TSan must report). tsan_probe_test.sh runs
// every case in its own process and checks TSan's verdict; a case's exit status is TSan's
// (66 after a report, see TSAN_OPTIONS exitcode), since a report does not stop the run.
//
// Usage: tsan_probe <case>   (no argument: list the cases)
//
// Happens-before, not timing, decides a TSan report: threads started one after the other
// from main are concurrent to TSan unless something it can see orders them, so every case
// gives the same verdict on every run.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace {

constexpr int kThreads = 4;
constexpr int kIterations = 1000;

void RunThreads(int count, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) threads.emplace_back(body, i);
  for (std::thread& t : threads) t.join();
}

// A value written by one thread and read by another, plus a flag saying it is there.
struct Handoff {
  absl::Mutex mu;
  bool ready = false;  // guarded by mu
  int payload = 0;     // written before ready, read after it
};

bool IsReady(Handoff* h) { return h->ready; }

int Fail(const char* what) {
  std::fprintf(stderr, "tsan_probe: %s\n", what);
  return 1;
}

// ---- Deliberate races: TSan must report each ----

// Two threads increment a plain int with no lock.
int Race() {
  int counter = 0;
  RunThreads(2, [&](int) {
    for (int i = 0; i < kIterations; ++i) ++counter;
  });
  std::printf("counter %d\n", counter);
  return 0;
}

// Writers hold the mutex, one reader does not: the mutex must not order that read.
int UnlockedRead() {
  absl::Mutex mu;
  int counter = 0;
  int seen = 0;
  RunThreads(2, [&](int id) {
    for (int i = 0; i < kIterations; ++i) {
      if (id == 0) {
        absl::MutexLock lock(&mu);
        ++counter;
      } else {
        seen += counter;
      }
    }
  });
  std::printf("seen %d\n", seen);
  return 0;
}

// A Condition that reads a value another thread writes without the lock: the evaluation
// is annotated as happening under the mutex, and the unlocked write races with it. (The
// writer takes no lock, so nothing wakes the waiter: it polls with a timeout, and Abseil
// evaluates the Condition again each time.)
int RaceInCondition() {
  Handoff h;
  std::thread writer([&] { h.ready = true; });
  {
    absl::MutexLock lock(&h.mu);
    while (!h.mu.AwaitWithTimeout(absl::Condition(&IsReady, &h), absl::Milliseconds(1))) {
    }
  }
  writer.join();
  return 0;
}

// ---- Correct sharing: TSan must stay silent ----

int MutexCounter() {
  absl::Mutex mu;
  int counter = 0;
  RunThreads(kThreads, [&](int) {
    for (int i = 0; i < kIterations; ++i) {
      absl::MutexLock lock(&mu);
      ++counter;
    }
  });
  return counter == kThreads * kIterations ? 0 : Fail("lost increments");
}

int ReaderLock() {
  absl::Mutex mu;
  int value = 0;
  RunThreads(kThreads, [&](int id) {
    for (int i = 0; i < kIterations; ++i) {
      if (id == 0) {
        absl::MutexLock lock(&mu);
        ++value;
      } else {
        absl::ReaderMutexLock lock(&mu);
        if (value < 0 || value > kIterations) std::abort();
      }
    }
  });
  return value == kIterations ? 0 : Fail("lost increments");
}

int TryLock() {
  absl::Mutex mu;
  int counter = 0;
  RunThreads(kThreads, [&](int id) {
    for (int i = 0; i < kIterations; ++i) {
      if (id % 2 == 0) {
        while (!mu.TryLock()) std::this_thread::yield();
        ++counter;
        mu.Unlock();
      } else {
        while (!mu.ReaderTryLock()) std::this_thread::yield();
        if (counter < 0) std::abort();
        mu.ReaderUnlock();
      }
    }
  });
  return counter == (kThreads / 2) * kIterations ? 0 : Fail("lost increments");
}

// The producer writes payload and sets ready under the lock; the consumer waits for ready
// with `wait`, which returns holding the lock, then reads payload.
int Handoffs(const std::function<void(Handoff&)>& wait, bool consumer_holds_reader = false) {
  Handoff h;
  int got = 0;
  std::thread consumer([&] {
    wait(h);
    got = h.payload;
    if (consumer_holds_reader) {
      h.mu.ReaderUnlock();
    } else {
      h.mu.Unlock();
    }
  });
  {
    absl::MutexLock lock(&h.mu);
    h.payload = 42;
    h.ready = true;
  }
  consumer.join();
  return got == 42 ? 0 : Fail("payload lost");
}

int Await() {
  return Handoffs([](Handoff& h) {
    h.mu.Lock();
    h.mu.Await(absl::Condition(&IsReady, &h));
  });
}

int AwaitReader() {
  return Handoffs(
      [](Handoff& h) {
        h.mu.ReaderLock();
        h.mu.Await(absl::Condition(&IsReady, &h));
      },
      /*consumer_holds_reader=*/true);
}

int AwaitWithTimeout() {
  return Handoffs([](Handoff& h) {
    h.mu.Lock();
    while (!h.mu.AwaitWithTimeout(absl::Condition(&IsReady, &h), absl::Milliseconds(1))) {
    }
  });
}

int AwaitWithDeadline() {
  return Handoffs([](Handoff& h) {
    h.mu.Lock();
    while (!h.mu.AwaitWithDeadline(absl::Condition(&IsReady, &h),
                                   absl::Now() + absl::Milliseconds(1))) {
    }
  });
}

int LockWhen() {
  return Handoffs([](Handoff& h) { h.mu.LockWhen(absl::Condition(&IsReady, &h)); });
}

int LockWhenWithTimeout() {
  return Handoffs([](Handoff& h) {
    while (!h.mu.LockWhenWithTimeout(absl::Condition(&IsReady, &h), absl::Milliseconds(1))) {
      h.mu.Unlock();
    }
  });
}

int ReaderLockWhen() {
  return Handoffs([](Handoff& h) { h.mu.ReaderLockWhen(absl::Condition(&IsReady, &h)); },
                  /*consumer_holds_reader=*/true);
}

int CondVarWait() {
  Handoff h;
  absl::CondVar cv;
  int got = 0;
  std::thread consumer([&] {
    absl::MutexLock lock(&h.mu);
    while (!h.ready) cv.Wait(&h.mu);
    got = h.payload;
  });
  {
    absl::MutexLock lock(&h.mu);
    h.payload = 42;
    h.ready = true;
    cv.Signal();
  }
  consumer.join();
  return got == 42 ? 0 : Fail("payload lost");
}

int CondVarWaitWithTimeout() {
  Handoff h;
  absl::CondVar cv;
  int got = 0;
  std::thread consumer([&] {
    absl::MutexLock lock(&h.mu);
    while (!h.ready) cv.WaitWithTimeout(&h.mu, absl::Milliseconds(1));
    got = h.payload;
  });
  {
    absl::MutexLock lock(&h.mu);
    h.payload = 42;
    h.ready = true;
    cv.SignalAll();
  }
  consumer.join();
  return got == 42 ? 0 : Fail("payload lost");
}

// Many waiters with different Conditions on one mutex: Abseil evaluates them inside other
// threads' Unlock, which is where the annotation matters most.
int ManyWaiters() {
  absl::Mutex mu;
  int turn = 0;  // guarded by mu
  std::vector<int> order;
  struct Waiter {
    int* turn;
    int id;
  };
  RunThreads(kThreads, [&](int id) {
    Waiter w = {&turn, id};
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(+[](Waiter* w) { return *w->turn == w->id; }, &w));
    order.push_back(id);
    ++turn;
  });
  for (int i = 0; i < kThreads; ++i) {
    if (order[i] != i) return Fail("wrong order");
  }
  return 0;
}

// Notify publishes data written before it with no lock at all.
int Notification() {
  absl::Notification done;
  int payload = 0;
  std::thread producer([&] {
    payload = 42;
    done.Notify();
  });
  done.WaitForNotification();
  const int got = payload;
  producer.join();
  return got == 42 ? 0 : Fail("payload lost");
}

int NotificationWithTimeout() {
  absl::Notification done;
  int payload = 0;
  std::thread producer([&] {
    payload = 42;
    done.Notify();
  });
  while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(1))) {
  }
  const int got = payload;
  producer.join();
  return got == 42 ? 0 : Fail("payload lost");
}

// A mutex on the stack, destroyed and another built in the same place, many times over:
// a stale lock state from a destroyed mutex would show up as a TSan mutex report.
int MutexReuse() {
  for (int round = 0; round < 100; ++round) {
    absl::Mutex mu;
    int counter = 0;
    RunThreads(2, [&](int) {
      absl::MutexLock lock(&mu);
      ++counter;
    });
    if (counter != 2) return Fail("lost increments");
  }
  return 0;
}

// Copies of one Status with a message share its storage; whichever thread drops the last
// copy frees it, after the others have read the message.
int StatusCopies() {
  absl::Status original = absl::InternalError("a message long enough to need its own storage");
  std::vector<std::thread> threads;
  size_t total = 0;  // written by main only, after the joins
  std::vector<size_t> sizes(kThreads, 0);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([copy = original, &sizes, i]() mutable {
      sizes[i] = copy.message().size();
      copy = absl::OkStatus();  // drops this thread's reference, maybe the last one
    });
  }
  original = absl::OkStatus();
  for (std::thread& t : threads) t.join();
  for (size_t size : sizes) total += size;
  return total > 0 ? 0 : Fail("no message");
}

struct Case {
  const char* name;
  int (*run)();
};

constexpr Case kCases[] = {
    {"race", Race},
    {"unlocked_read", UnlockedRead},
    {"race_in_condition", RaceInCondition},
    {"mutex", MutexCounter},
    {"reader_lock", ReaderLock},
    {"try_lock", TryLock},
    {"await", Await},
    {"await_reader", AwaitReader},
    {"await_with_timeout", AwaitWithTimeout},
    {"await_with_deadline", AwaitWithDeadline},
    {"lock_when", LockWhen},
    {"lock_when_with_timeout", LockWhenWithTimeout},
    {"reader_lock_when", ReaderLockWhen},
    {"condvar", CondVarWait},
    {"condvar_with_timeout", CondVarWaitWithTimeout},
    {"many_waiters", ManyWaiters},
    {"notification", Notification},
    {"notification_with_timeout", NotificationWithTimeout},
    {"mutex_reuse", MutexReuse},
    {"status_copies", StatusCopies},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    for (const Case& c : kCases) std::printf("%s\n", c.name);
    return 0;
  }
  for (const Case& c : kCases) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run();
  }
  std::fprintf(stderr, "tsan_probe: no case '%s'\n", argv[1]);
  return 2;
}
