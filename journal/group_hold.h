// GroupHold: when a group-committing writer should wait before starting its next group.
//
// Why: a group commit answers every caller of a group at once, and most of them come
// straight back with their next change. A writer that starts the next group as soon as
// the first caller is back splits the callers into two halves that take turns: one half
// waits on an fsync while the other half's answers go out, so each fsync carries only
// half of the callers (measured: 64 writers, exactly 32 records per fsync). Holding the
// next group until the callers just answered are back puts all of them in one fsync.
//
// The hold is bounded, so a caller that does not come back (a one-off writer, a client
// that went away) costs at most one bounded wait:
//   - it only starts when some caller answered by the last group has not submitted
//     again (a lone caller never waits);
//   - it lasts at most the last group's write time / kHoldFractionOfWrite, and never
//     more than kHoldMax (a slow disk must not turn into long holds);
//   - it ends as soon as every answered caller is back, or the group is full.
// Callers are recognized by their thread: a thread that was answered and submits again
// is "back". After each hold the writer forgets who it was waiting for.
//
// Not thread-safe: only the writer thread (the journal's writer, the sequencer) uses it:
// Answered when it answers a group, Returned for each caller's item it takes from its
// CommitQueue (journal/commit_queue.h), Hold before it closes the next group (the
// sequencer: before it takes it; the journal's writer, which writes what comes back while
// it holds: before it syncs it).
#ifndef ALMANAC_JOURNAL_GROUP_HOLD_H_
#define ALMANAC_JOURNAL_GROUP_HOLD_H_

#include <algorithm>
#include <functional>
#include <limits>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace almanac::journal {

class GroupHold {
 public:
  // At most the last write's time: a caller coming back later than that gains less than
  // the hold costs the callers already waiting. Measured with almanac-bench api (8
  // connections, each answer a round trip through HTTP): half the write time ended the
  // hold before most answered clients were back (5.4 of 8 changes per fsync, 6,800/s);
  // the whole write time gathers 7.8 (7,800/s).
  static constexpr int kHoldFractionOfWrite = 1;  // hold <= write time / this
  static constexpr absl::Duration kHoldMax = absl::Milliseconds(2);

  // The writer answered a caller running on `caller`'s thread.
  void Answered(std::thread::id caller) { answered_.insert(caller); }

  // A caller on `caller`'s thread submitted again.
  void Returned(std::thread::id caller) { answered_.erase(caller); }

  // Whether every caller answered by the last group is back (or there were none).
  bool AllReturned() const { return answered_.empty(); }

  // How many callers answered by the last group are not back yet.
  size_t missing() const { return answered_.size(); }

  // Called by the writer once the hold is over, whatever ended it: callers still missing
  // are not waited for again.
  void Forget() { answered_.clear(); }

  // The last group's write time, measured by the writer.
  void set_last_write(absl::Duration d) { last_write_ = d; }

  // How long the writer may hold a non-empty queue while !AllReturned().
  absl::Duration Budget() const {
    return std::min(last_write_ / kHoldFractionOfWrite, kHoldMax);
  }

  // WaitForMore's `more` when the writer wants to hear only once all are back.
  static constexpr size_t kAllReturns = std::numeric_limits<size_t>::max();

  // The hold itself, run by the writer before it syncs its next group: waits on `queue`
  // (a CommitQueue, or anything with its WaitForMore) for the callers the last group
  // answered, waking after every `returns_per_wake` of them (kAllReturns: only when all
  // are back) to call take_queued() (which must call Returned for what it takes), until
  // every one is back, keep_holding() turns false (stopping, a full group), or Budget()
  // has passed. Then Forget()s.
  template <typename Queue, typename TakeQueued, typename KeepHolding>
  void Hold(Queue& queue, size_t returns_per_wake, TakeQueued take_queued,
            KeepHolding keep_holding) {
    const absl::Time deadline = absl::Now() + Budget();
    while (!AllReturned() && keep_holding() && absl::Now() < deadline) {
      queue.WaitForMore(std::min(missing(), std::max<size_t>(returns_per_wake, 1)), deadline);
      take_queued();
    }
    Forget();
  }

 private:
  absl::flat_hash_set<std::thread::id, std::hash<std::thread::id>> answered_;
  absl::Duration last_write_ = absl::ZeroDuration();
};

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_GROUP_HOLD_H_
