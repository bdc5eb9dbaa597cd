// The sequencer: Almanac's one writer.
//
// Every change to the controller (an admin request, a member joining, a seal) is a
// Command. Commands are submitted from any thread; a single sequencer thread runs them
// in the order of raft's Ready loop (shared/docs/style.md §3):
//   1. take up to `batch_commands_max` commands from a bounded queue (after waiting a
//      bounded moment for the callers the last batch answered: journal/group_hold.h);
//   2. each command decides against the applied state and emits event drafts, or fails
//      with a Status (nothing is written for it). A command whose keys conflict with an
//      earlier command of the same batch waits for the next batch, so every decision is
//      made against state that already holds every earlier event;
//   3. append the batch's drafts to the journal in one synced write (group commit);
//   4. apply each record with the projector, under the state's writer lock;
//   5. only now reply to the callers and tell listeners (netconf pushes, consumers,
//      the standby). Nothing about an event leaves the process before step 3 succeeds.
// If step 3 fails the journal is in a failed state: every pending and later command gets
// that error, since a failed fsync cannot be retried safely.
//
// Readers never wait for an fsync: they take the state's reader lock, which the
// sequencer holds as a writer only while applying already-durable records.
//
// Thread safety: Submit and Read may be called from any thread. Listeners run on the
// sequencer thread and must not call Submit (it would deadlock waiting on itself).
#ifndef ALMANAC_CTL_SEQUENCER_H_
#define ALMANAC_CTL_SEQUENCER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ctl/state/state.h"
#include "journal/commit_queue.h"
#include "journal/group_hold.h"
#include "journal/journal.h"
#include "schemas/events_generated.h"

namespace almanac::ctl {

// What a command reads or writes, so independent commands share one fsync.
struct ObjectKey {
  enum class Kind : uint8_t {
    kController,  // the set of networks (create with a random id, delete), epoch, seals
    kNetwork,     // a network's config
    kNetworkIps,  // the addresses taken in a network (pool assignment reads all of them)
    kMember,
  };
  Kind kind;
  uint64_t nwid = 0;
  uint64_t address = 0;

  bool operator==(const ObjectKey& o) const {
    return kind == o.kind && nwid == o.nwid && address == o.address;
  }
  template <typename H>
  friend H AbslHashValue(H h, const ObjectKey& k) {
    return H::combine(std::move(h), k.kind, k.nwid, k.address);
  }

  static ObjectKey Controller() { return {Kind::kController, 0, 0}; }
  static ObjectKey Network(uint64_t nwid) { return {Kind::kNetwork, nwid, 0}; }
  static ObjectKey NetworkIps(uint64_t nwid) { return {Kind::kNetworkIps, nwid, 0}; }
  static ObjectKey Member(uint64_t nwid, uint64_t address) {
    return {Kind::kMember, nwid, address};
  }
};

struct Actor {
  schema::ActorKind kind = schema::ActorKind::System;
  std::string id;      // token id, node address, user
  std::string source;  // "127.0.0.1:53412", "10.0.0.2/9993"
};

// Handed to a command's decide function: the time, epoch and randomness it may use (all
// recorded in the events it writes), and the way to emit events.
class CommandContext {
 public:
  CommandContext(int64_t now_ms, uint64_t epoch, absl::BitGenRef rng, const Actor* actor,
                 std::vector<std::string>* drafts)
      : now_ms_(now_ms), epoch_(epoch), rng_(rng), actor_(actor), drafts_(drafts) {}

  int64_t now_ms() const { return now_ms_; }
  uint64_t epoch() const { return epoch_; }
  absl::BitGenRef rng() const { return rng_; }
  const Actor& actor() const { return *actor_; }

  // Emits one event with this context's time, epoch and actor. build_body builds the
  // body table in the given builder and returns its offset.
  void Emit(schema::Body body_type,
            const std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>&
                build_body);

  size_t emitted() const { return drafts_->size(); }

 private:
  int64_t now_ms_;
  uint64_t epoch_;
  absl::BitGenRef rng_;
  const Actor* actor_;
  std::vector<std::string>* drafts_;
};

// A change to decide. decide runs on the sequencer thread against the applied state; it
// emits zero or more events through the context (zero: nothing changes, nothing is
// written) or returns a non-OK Status (nothing is written, the caller gets the Status).
// decide must be deterministic given (state, context) and must not block.
struct Command {
  std::vector<ObjectKey> reads;
  std::vector<ObjectKey> writes;
  Actor actor;
  std::function<absl::Status(const state::State&, CommandContext&)> decide;
  // Runs even while the sequencer is read-only (promotion's EpochStarted).
  bool allowed_read_only = false;
};

struct CommitResult {
  uint64_t last_seq = 0;  // seq of the command's last event; 0 when it wrote none
  size_t events = 0;
};

// A record that is durable and applied, as listeners see it.
struct AppliedRecord {
  uint64_t seq;
  std::string bytes;  // the verified FlatBuffers Record
};

// Where the sequencer thread's time went, summed over every batch since it started. One
// batch's cycle is these stages back to back, so over a busy interval they add up to the
// interval, and their shares say what bounds the write rate: a disk-bound sequencer spends
// its time writing; one bound by its callers (the admin API's HTTP round trips) waits and
// holds.
struct SequencerStageTimes {
  uint64_t batches = 0;      // batches run, also those whose commands wrote nothing
  absl::Duration waiting;    // nothing queued: from the last answer to the next command
  absl::Duration holding;    // the GroupHold: for the rest of the callers just answered
  absl::Duration deciding;   // the commands' decide functions
  absl::Duration writing;    // the journal's synced write (group commit)
  absl::Duration applying;   // projector, listeners, commit gate
  absl::Duration answering;  // waking the callers (counted with the next batch)

  // Sums (a total over batches) and differences (what happened between two readings).
  SequencerStageTimes& operator+=(const SequencerStageTimes& other);
  friend SequencerStageTimes operator-(SequencerStageTimes a, const SequencerStageTimes& b);
};

// The stages in cycle order, by name, for reports (/metrics, almanac-bench).
struct SequencerStage {
  const char* name;
  absl::Duration SequencerStageTimes::*time;
};
inline constexpr SequencerStage kSequencerStages[] = {
    {"waiting", &SequencerStageTimes::waiting},
    {"holding", &SequencerStageTimes::holding},
    {"deciding", &SequencerStageTimes::deciding},
    {"writing", &SequencerStageTimes::writing},
    {"applying", &SequencerStageTimes::applying},
    {"answering", &SequencerStageTimes::answering},
};

struct SequencerOptions {
  size_t queue_commands_max = 16384;  // Submit past this gets ResourceExhausted at once
  size_t batch_commands_max = 1024;   // commands decided per journal write
  uint64_t epoch = 1;
  std::function<int64_t()> clock_ms;  // injected clock; defaults to the wall clock
  // Non-empty: start read-only (a standby) with this as the refusal message.
  std::string read_only_reason;
};

class Sequencer {
 public:
  // Takes ownership of the state, which must already hold every record of the journal
  // (state.last_seq() == journal->last_seq()). The journal must outlive the sequencer.
  Sequencer(journal::Journal* journal, state::State state, SequencerOptions options);
  ~Sequencer();  // stops the thread; pending commands get Unavailable
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Runs a command and blocks until its events are durable and applied (or it failed).
  // Returns the command's own Status if it refused; ResourceExhausted when the queue is
  // full; the journal's error when the write failed; Unavailable once stopping.
  absl::StatusOr<CommitResult> Submit(Command command);

  // Read-only mode (a standby): Submit of a command without allowed_read_only returns
  // Unavailable with `reason` at once. Empty reason: writable again (promotion).
  void SetReadOnly(const std::string& reason);
  bool read_only() const;

  // Appends records another controller already sequenced (a standby copying its
  // primary; Journal::AppendRecords), applies them and tells listeners, on the
  // sequencer thread in a batch of their own, so they are ordered with every command.
  // Blocks until durable and applied; returns the last seq. Errors: the journal's
  // (FailedPrecondition when they do not continue the chain, DataLoss for a record that
  // does not verify); DataLoss when the projector refuses a record (it is durable then,
  // and the sequencer stops writing: the copy is not a faithful replay); Unavailable
  // once stopping.
  absl::StatusOr<uint64_t> AppendReplicated(std::vector<std::string> records);

  // A gate every batch that wrote records passes before its callers are answered,
  // called on the sequencer thread with the batch's last seq (sync standby: wait until
  // the standby has it durably). A non-OK answer is given to every command of the batch
  // that wrote events (they are durable here but not acknowledged). Replicated batches
  // skip it. Set before writes start, or accept that batches in flight may miss it.
  void SetCommitGate(std::function<absl::Status(uint64_t last_seq)> gate);

  // Runs f with the applied state under the reader lock. f must not call Submit.
  template <typename F>
  auto Read(F&& f) const {
    absl::ReaderMutexLock lock(&state_mu_);
    return f(state_);
  }

  // Listeners are called on the sequencer thread after each batch is applied, before the
  // callers are woken. May be added at any time; a listener sees the batches applied
  // after it was added.
  void AddListener(std::function<void(const std::vector<AppliedRecord>&)> listener);

  // The journal the sequencer appends to, for readers that follow it (GET /events):
  // its Read, WaitForAfter and last_seq are safe from any thread.
  const journal::Journal* journal() const { return journal_; }

  uint64_t epoch() const;
  // Changes the epoch stamped on later events (promotion). Only ever grows.
  void SetEpoch(uint64_t epoch);

  // Counters for /metrics.
  uint64_t batches_written() const;
  uint64_t commands_refused() const;
  // Includes the batch of every Submit that returned (but its answering only once the
  // next batch ran).
  SequencerStageTimes stage_times() const;

  // Commands waiting for the sequencer thread (tests make batching deterministic with it).
  size_t queued_for_test() const;

 private:
  struct Pending;
  void Run();
  // Queues `pending` for the sequencer thread and blocks until it is answered, unless
  // the sequencer is stopping, failed or full (then returns that error at once).
  absl::Status Enqueue(Pending* pending);
  // Sequencer thread: moves what callers pushed into waiting_, noting who came back.
  void TakeQueued();
  // Sequencer thread: the GroupHold wait (journal/group_hold.h).
  void HoldForReturningCallers();
  // Sequencer thread: the next batch from waiting_ (see Run), counted out of
  // queued_commands_.
  std::vector<Pending*> NextBatch();
  // Both add their deciding, writing and applying time to *stages.
  void ProcessBatch(const std::vector<Pending*>& batch, SequencerStageTimes* stages);
  void ProcessReplicated(Pending& pending, SequencerStageTimes* stages);
  // Sequencer thread: enters the failed state (the first error stays).
  void SetFailed(const absl::Status& status);
  // Sequencer thread: adds one batch's stages to stage_times_.
  void AddStageTimes(const SequencerStageTimes& stages);
  // Sequencer thread: answers `batch`.
  void Answer(const std::vector<Pending*>& batch);

  journal::Journal* const journal_;
  const SequencerOptions options_;

  mutable absl::Mutex state_mu_;
  state::State state_ ABSL_GUARDED_BY(state_mu_);

  // Callers' commands on their way to the sequencer thread (journal/commit_queue.h).
  journal::CommitQueue<Pending> queue_;
  std::atomic<size_t> queued_commands_{0};  // submitted and not yet taken into a batch
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex failed_mu_;
  absl::Status failed_ ABSL_GUARDED_BY(failed_mu_);
  std::atomic<bool> failed_flag_{false};  // failed_ is set (read without failed_mu_)

  // Sequencer thread only.
  std::deque<Pending*> waiting_;  // taken from queue_, oldest first, not yet in a batch
  // Holds the next batch briefly for the callers the last one answered, so clients
  // that take turns share one fsync instead of alternating (journal/group_hold.h).
  journal::GroupHold hold_;

  mutable absl::Mutex listeners_mu_;
  std::vector<std::function<void(const std::vector<AppliedRecord>&)>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);

  mutable absl::Mutex counters_mu_;
  uint64_t epoch_ ABSL_GUARDED_BY(counters_mu_);
  std::string read_only_reason_ ABSL_GUARDED_BY(counters_mu_);
  std::function<absl::Status(uint64_t)> commit_gate_ ABSL_GUARDED_BY(counters_mu_);
  uint64_t batches_written_ ABSL_GUARDED_BY(counters_mu_) = 0;
  uint64_t commands_refused_ ABSL_GUARDED_BY(counters_mu_) = 0;
  SequencerStageTimes stage_times_ ABSL_GUARDED_BY(counters_mu_);

  std::thread thread_;
};

}  // namespace almanac::ctl

#endif  // ALMANAC_CTL_SEQUENCER_H_
