// ThreadSanitizer annotations for Debian's prebuilt Abseil synchronization library.
//
// Why: TSan learns about a lock from the code that takes it. libabsl_synchronization.so is
// built without -fsanitize=thread, so TSan sees neither absl::Mutex's atomics nor its
// futex waits, finds no happens-before edge between two critical sections, and reports
// every pair of accesses guarded by an absl::Mutex as a race.
//
// How: only in `--config=tsan` (see .bazelrc), this library is linked into every binary,
// and its linkopts pass `-Wl,--wrap=<symbol>` for each exported entry point that takes,
// releases or waits (the list in BUILD.bazel, symbols from `nm -D` on the Debian .so
// files). The linker then sends our calls to __wrap_<symbol> below, which tells TSan what
// happens with the annotation interface (sanitizer/tsan_interface.h) around the real call,
// __real_<symbol>. The annotations mirror what Abseil itself does when it is built with
// TSan (absl/synchronization/mutex.cc). Inline helpers in the headers (MutexLock,
// ReaderMutexLock, WriterMutexLock, MutexLockMaybe) call the exported Lock/Unlock and so
// are covered. NOT covered, because they are inline or lock inside the library where no
// wrap reaches: Notification::HasBeenNotified() (an atomic load that TSan cannot pair with
// the library's store: wait with WaitForNotification*() instead), ReleasableMutexLock,
// Barrier and BlockingCounter (Almanac uses none of them).
//
// One more Debian library hands memory between threads with atomics TSan cannot see:
// absl::Status's shared message (Status::UnrefNonInlined, at the end of this file).
//
// Conditions: Abseil evaluates a waiter's Condition with the mutex held, but possibly on
// another thread, inside that thread's Unlock. Every wrapper that passes a Condition to
// Abseil passes instead one that calls back into EvalAnnotated(), which tells TSan that
// the evaluating thread holds the mutex for the duration of the evaluation (the same
// "annotation dance" as Abseil's EvalConditionAnnotated()).
//
// This file is built without -fsanitize=thread (BUILD.bazel): it is the annotation, and its
// own bookkeeping must not be checked as if it were application code.

#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

// Abseil's mutex word: kMuWriter (absl/synchronization/mutex.cc) is set while the mutex is
// held exclusively. Await and CondVar::Wait release and retake the mutex in the mode the
// caller holds it; Abseil reads this bit for the same purpose (Mutex::AwaitCommon).
// tsan_probe's "await_reader" case fails if a future Abseil moves it.
constexpr intptr_t kMuWriter = 0x0008;

unsigned ModeFlags(const absl::Mutex* mu) {
  static_assert(sizeof(absl::Mutex) == sizeof(std::atomic<intptr_t>),
                "absl::Mutex is no longer a single word: revisit kMuWriter");
  const auto* word = reinterpret_cast<const std::atomic<intptr_t>*>(mu);
  return (word->load(std::memory_order_relaxed) & kMuWriter) != 0 ? 0 : __tsan_mutex_read_lock;
}

// What this thread is doing inside the real Abseil call, which decides how a Condition
// evaluated there is annotated. kLocking: TSan was told pre_lock and not yet post_lock.
// kUnlocking: TSan was told pre_unlock (the mutex is released in its view) and not yet
// post_unlock. In both, TSan ignores this thread's memory accesses until the post_*.
enum class Phase { kNone, kLocking, kUnlocking };

struct Op {
  Phase phase;
  unsigned flags;  // 0 (exclusive) or __tsan_mutex_read_lock
};

thread_local Op current_op = {Phase::kNone, 0};

class OpScope {
 public:
  OpScope(Phase phase, unsigned flags) : saved_(current_op) { current_op = {phase, flags}; }
  ~OpScope() { current_op = saved_; }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  Op saved_;
};

// A caller's Condition and the mutex it is evaluated under.
struct Guarded {
  const absl::Condition* cond;
  absl::Mutex* mu;
};

bool EvalAnnotated(Guarded* guarded) {
  absl::Mutex* mu = guarded->mu;
  const Op op = current_op;
  bool result = false;
  switch (op.phase) {
    case Phase::kLocking:
      // Pretend the lock is taken, evaluate, then undo it and restart the lock, so that
      // TSan's state matches the wrapper's coming post_lock.
      __tsan_mutex_post_lock(mu, op.flags, 0);
      result = guarded->cond->Eval();
      __tsan_mutex_pre_unlock(mu, op.flags);
      __tsan_mutex_post_unlock(mu, op.flags);
      __tsan_mutex_pre_lock(mu, op.flags);
      break;
    case Phase::kUnlocking:
      // Pretend the unlock is over, take the lock, evaluate, and restart the unlock.
      __tsan_mutex_post_unlock(mu, op.flags);
      __tsan_mutex_pre_lock(mu, op.flags);
      __tsan_mutex_post_lock(mu, op.flags, 0);
      result = guarded->cond->Eval();
      __tsan_mutex_pre_unlock(mu, op.flags);
      break;
    case Phase::kNone:
      // Not inside a wrapped call: TSan already sees whatever this thread holds.
      result = guarded->cond->Eval();
      break;
  }
  return result;
}

}  // namespace

// Each wrapper is declared with the C++ function's mangled name and the same argument
// list, `this` first (the Itanium C++ ABI passes it as the first argument).
#define WRAP(name) __wrap__ZN4absl7debian3##name
#define REAL(name) __real__ZN4absl7debian3##name

extern "C" {

// ---- absl::Mutex: taking and releasing ----

void REAL(5Mutex4LockEv)(absl::Mutex* mu);
void WRAP(5Mutex4LockEv)(absl::Mutex* mu) {
  __tsan_mutex_pre_lock(mu, 0);
  {
    OpScope scope(Phase::kLocking, 0);
    REAL(5Mutex4LockEv)(mu);
  }
  __tsan_mutex_post_lock(mu, 0, 0);
}

void REAL(5Mutex10ReaderLockEv)(absl::Mutex* mu);
void WRAP(5Mutex10ReaderLockEv)(absl::Mutex* mu) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_read_lock);
  {
    OpScope scope(Phase::kLocking, __tsan_mutex_read_lock);
    REAL(5Mutex10ReaderLockEv)(mu);
  }
  __tsan_mutex_post_lock(mu, __tsan_mutex_read_lock, 0);
}

bool REAL(5Mutex7TryLockEv)(absl::Mutex* mu);
bool WRAP(5Mutex7TryLockEv)(absl::Mutex* mu) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_try_lock);
  bool locked;
  {
    OpScope scope(Phase::kLocking, 0);
    locked = REAL(5Mutex7TryLockEv)(mu);
  }
  __tsan_mutex_post_lock(mu, locked ? __tsan_mutex_try_lock : __tsan_mutex_try_lock_failed, 0);
  return locked;
}

bool REAL(5Mutex13ReaderTryLockEv)(absl::Mutex* mu);
bool WRAP(5Mutex13ReaderTryLockEv)(absl::Mutex* mu) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_try_read_lock);
  bool locked;
  {
    OpScope scope(Phase::kLocking, __tsan_mutex_read_lock);
    locked = REAL(5Mutex13ReaderTryLockEv)(mu);
  }
  __tsan_mutex_post_lock(
      mu, locked ? __tsan_mutex_try_read_lock : __tsan_mutex_try_read_lock_failed, 0);
  return locked;
}

// Unlock may evaluate other threads' Conditions (Phase::kUnlocking).
void REAL(5Mutex6UnlockEv)(absl::Mutex* mu);
void WRAP(5Mutex6UnlockEv)(absl::Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, 0);
  {
    OpScope scope(Phase::kUnlocking, 0);
    REAL(5Mutex6UnlockEv)(mu);
  }
  __tsan_mutex_post_unlock(mu, 0);
}

void REAL(5Mutex12ReaderUnlockEv)(absl::Mutex* mu);
void WRAP(5Mutex12ReaderUnlockEv)(absl::Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, __tsan_mutex_read_lock);
  {
    OpScope scope(Phase::kUnlocking, __tsan_mutex_read_lock);
    REAL(5Mutex12ReaderUnlockEv)(mu);
  }
  __tsan_mutex_post_unlock(mu, __tsan_mutex_read_lock);
}

// A mutex built by the (inline, instrumented) constructor was announced to TSan with
// __tsan_mutex_not_static; forget it before its memory is reused.
void REAL(5MutexD1Ev)(absl::Mutex* mu);
void WRAP(5MutexD1Ev)(absl::Mutex* mu) {
  __tsan_mutex_destroy(mu, __tsan_mutex_not_static);
  REAL(5MutexD1Ev)(mu);
}

void REAL(5MutexD2Ev)(absl::Mutex* mu);
void WRAP(5MutexD2Ev)(absl::Mutex* mu) {
  __tsan_mutex_destroy(mu, __tsan_mutex_not_static);
  REAL(5MutexD2Ev)(mu);
}

// ---- absl::Mutex: locking when a Condition holds ----

// The timed LockWhen variants: `limit` is the Duration or Time argument.
#define LOCK_WHEN(symbol, read, limit)                               \
  {                                                                  \
    const unsigned flags = (read) ? __tsan_mutex_read_lock : 0u;     \
    Guarded guarded = {&cond, mu};                                   \
    const absl::Condition annotated(&EvalAnnotated, &guarded);       \
    __tsan_mutex_pre_lock(mu, flags);                                \
    bool result;                                                     \
    {                                                                \
      OpScope scope(Phase::kLocking, flags);                         \
      result = REAL(symbol)(mu, annotated, limit);                   \
    }                                                                \
    __tsan_mutex_post_lock(mu, flags, 0);                            \
    return result;                                                   \
  }

void REAL(5Mutex8LockWhenERKNS0_9ConditionE)(absl::Mutex* mu, const absl::Condition& cond);
void WRAP(5Mutex8LockWhenERKNS0_9ConditionE)(absl::Mutex* mu, const absl::Condition& cond) {
  Guarded guarded = {&cond, mu};
  const absl::Condition annotated(&EvalAnnotated, &guarded);
  __tsan_mutex_pre_lock(mu, 0);
  {
    OpScope scope(Phase::kLocking, 0);
    REAL(5Mutex8LockWhenERKNS0_9ConditionE)(mu, annotated);
  }
  __tsan_mutex_post_lock(mu, 0, 0);
}

void REAL(5Mutex14ReaderLockWhenERKNS0_9ConditionE)(absl::Mutex* mu,
                                                      const absl::Condition& cond);
void WRAP(5Mutex14ReaderLockWhenERKNS0_9ConditionE)(absl::Mutex* mu,
                                                      const absl::Condition& cond) {
  Guarded guarded = {&cond, mu};
  const absl::Condition annotated(&EvalAnnotated, &guarded);
  __tsan_mutex_pre_lock(mu, __tsan_mutex_read_lock);
  {
    OpScope scope(Phase::kLocking, __tsan_mutex_read_lock);
    REAL(5Mutex14ReaderLockWhenERKNS0_9ConditionE)(mu, annotated);
  }
  __tsan_mutex_post_lock(mu, __tsan_mutex_read_lock, 0);
}

bool REAL(5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Duration timeout);
bool WRAP(5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Duration timeout)
    LOCK_WHEN(5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE, false, timeout)

bool REAL(5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Time deadline);
bool WRAP(5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Time deadline)
    LOCK_WHEN(5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE, false, deadline)

bool REAL(5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Duration timeout);
bool WRAP(5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Duration timeout)
    LOCK_WHEN(5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE, true, timeout)

bool REAL(5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Time deadline);
bool WRAP(5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Time deadline)
    LOCK_WHEN(5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE, true, deadline)

#undef LOCK_WHEN

// ---- absl::Mutex::Await* and absl::CondVar::Wait*: release, wait, take again ----
// The caller holds the mutex. In TSan's view it is released here and taken again after
// the real call; Conditions evaluated inside (this thread's own, or other waiters' while
// Abseil hands the mutex on) run under Phase::kUnlocking.

#define RELEASE_WAIT_RETAKE(call)                 \
  const unsigned flags = ModeFlags(mu);           \
  __tsan_mutex_pre_unlock(mu, flags);             \
  bool result;                                    \
  {                                               \
    OpScope scope(Phase::kUnlocking, flags);      \
    result = (call);                              \
  }                                               \
  __tsan_mutex_post_unlock(mu, flags);            \
  __tsan_mutex_pre_lock(mu, flags);               \
  __tsan_mutex_post_lock(mu, flags, 0);

void REAL(5Mutex5AwaitERKNS0_9ConditionE)(absl::Mutex* mu, const absl::Condition& cond);
void WRAP(5Mutex5AwaitERKNS0_9ConditionE)(absl::Mutex* mu, const absl::Condition& cond) {
  Guarded guarded = {&cond, mu};
  const absl::Condition annotated(&EvalAnnotated, &guarded);
  RELEASE_WAIT_RETAKE((REAL(5Mutex5AwaitERKNS0_9ConditionE)(mu, annotated), true));
  (void)result;
}

bool REAL(5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Duration timeout);
bool WRAP(5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Duration timeout) {
  Guarded guarded = {&cond, mu};
  const absl::Condition annotated(&EvalAnnotated, &guarded);
  RELEASE_WAIT_RETAKE(
      REAL(5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(mu, annotated, timeout));
  return result;
}

bool REAL(5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Time deadline);
bool WRAP(5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    absl::Mutex* mu, const absl::Condition& cond, absl::Time deadline) {
  Guarded guarded = {&cond, mu};
  const absl::Condition annotated(&EvalAnnotated, &guarded);
  RELEASE_WAIT_RETAKE(
      REAL(5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(mu, annotated, deadline));
  return result;
}

void REAL(7CondVar4WaitEPNS0_5MutexE)(absl::CondVar* cv, absl::Mutex* mu);
void WRAP(7CondVar4WaitEPNS0_5MutexE)(absl::CondVar* cv, absl::Mutex* mu) {
  RELEASE_WAIT_RETAKE((REAL(7CondVar4WaitEPNS0_5MutexE)(cv, mu), true));
  (void)result;
}

bool REAL(7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(absl::CondVar* cv,
                                                                   absl::Mutex* mu,
                                                                   absl::Duration timeout);
bool WRAP(7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(absl::CondVar* cv,
                                                                   absl::Mutex* mu,
                                                                   absl::Duration timeout) {
  RELEASE_WAIT_RETAKE(REAL(7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(cv, mu, timeout));
  return result;
}

bool REAL(7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)(absl::CondVar* cv, absl::Mutex* mu,
                                                                absl::Time deadline);
bool WRAP(7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)(absl::CondVar* cv, absl::Mutex* mu,
                                                                absl::Time deadline) {
  RELEASE_WAIT_RETAKE(
      REAL(7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)(cv, mu, deadline));
  return result;
}

#undef RELEASE_WAIT_RETAKE

// ---- absl::Notification ----
// Its mutex and flag live inside the library, so the edge is drawn on the object itself:
// Notify() releases, a wait that saw the notification acquires.

void REAL(12Notification6NotifyEv)(absl::Notification* n);
void WRAP(12Notification6NotifyEv)(absl::Notification* n) {
  __tsan_release(n);
  REAL(12Notification6NotifyEv)(n);
}

void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(const absl::Notification* n);
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(const absl::Notification* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  __tsan_acquire(const_cast<absl::Notification*>(n));
}

bool __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const absl::Notification* n, absl::Duration timeout);
bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const absl::Notification* n, absl::Duration timeout) {
  const bool notified =
      __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
          n, timeout);
  if (notified) __tsan_acquire(const_cast<absl::Notification*>(n));
  return notified;
}

bool __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const absl::Notification* n, absl::Time deadline);
bool __wrap__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const absl::Notification* n, absl::Time deadline) {
  const bool notified =
      __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
          n, deadline);
  if (notified) __tsan_acquire(const_cast<absl::Notification*>(n));
  return notified;
}

// Drop the release/acquire history kept for this address before the memory is reused.
void REAL(12NotificationD1Ev)(absl::Notification* n);
void WRAP(12NotificationD1Ev)(absl::Notification* n) {
  REAL(12NotificationD1Ev)(n);
  __tsan_mutex_destroy(n, 0);
}

void REAL(12NotificationD2Ev)(absl::Notification* n);
void WRAP(12NotificationD2Ev)(absl::Notification* n) {
  REAL(12NotificationD2Ev)(n);
  __tsan_mutex_destroy(n, 0);
}

// ---- absl::Status ----
// A Status with a message shares one StatusRep between its copies, counted by an atomic
// that the library decrements and frees (Status::UnrefNonInlined). TSan cannot see that
// count, so the thread that drops the last copy frees memory that, to TSan, other threads
// were still reading. Here every release first publishes this thread's accesses; the copy
// that is not the last is counted down here, and the last one acquires them all before
// the library frees the StatusRep (the library frees without decrementing when the count is
// 1, absl/status/status.cc). Copies (Ref) are inline, so TSan sees their increments.

void REAL(6Status15UnrefNonInlinedEm)(uintptr_t rep);
void WRAP(6Status15UnrefNonInlinedEm)(uintptr_t rep) {
  // Status::RepToPointer (status.h, inline): a non-inlined rep is the pointer plus 1.
  auto* status_rep = reinterpret_cast<absl::status_internal::StatusRep*>(rep - 1);
  std::atomic<int32_t>& ref = status_rep->ref;
  __tsan_release(status_rep);
  int32_t count = ref.load(std::memory_order_acquire);
  while (count > 1) {
    if (ref.compare_exchange_weak(count, count - 1, std::memory_order_acq_rel,
                                  std::memory_order_acquire)) {
      return;
    }
  }
  __tsan_acquire(status_rep);
  REAL(6Status15UnrefNonInlinedEm)(rep);
}

}  // extern "C"
