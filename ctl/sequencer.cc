#include "ctl/sequencer.h"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/check.h"
#include "ctl/state/projector.h"
#include "journal/record.h"

namespace almanac::ctl {

void CommandContext::Emit(
    schema::Body body_type,
    const std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>& build_body) {
  drafts_->push_back(journal::BuildRecordDraft(now_ms_, epoch_, actor_->kind, actor_->id,
                                               actor_->source, body_type, build_body));
}

struct Sequencer::Pending {
  Command command;
  // AppendReplicated: records to copy as they are (command is unused then).
  std::vector<std::string> replicated;
  bool is_replicated = false;
  // Filled by the sequencer thread; read by the caller once done.
  absl::Status status;
  CommitResult result;
  bool done = false;  // guarded by queue_mu_
  std::thread::id caller;  // the submitting thread, for hold_
};

Sequencer::Sequencer(journal::Journal* journal, state::State state, SequencerOptions options)
    : journal_(journal), options_(std::move(options)), state_(std::move(state)) {
  ALMANAC_CHECK(journal_ != nullptr);
  ALMANAC_CHECK(options_.batch_commands_max > 0);
  ALMANAC_CHECK_MSG(state_.last_seq() == journal_->last_seq(),
                    "the state must hold every journal record before the sequencer starts");
  epoch_ = std::max(options_.epoch, state_.epoch());
  read_only_reason_ = options_.read_only_reason;
  thread_ = std::thread([this] { Run(); });
}

Sequencer::~Sequencer() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  thread_.join();
  absl::MutexLock lock(&queue_mu_);
  for (auto& pending : queue_) {
    pending->status = absl::UnavailableError("the controller is stopping");
    pending->done = true;
  }
  queue_.clear();
}

void Sequencer::AddListener(std::function<void(const std::vector<AppliedRecord>&)> listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.push_back(std::move(listener));
}

uint64_t Sequencer::epoch() const {
  absl::MutexLock lock(&counters_mu_);
  return epoch_;
}

void Sequencer::SetEpoch(uint64_t epoch) {
  absl::MutexLock lock(&counters_mu_);
  ALMANAC_CHECK_MSG(epoch >= epoch_, "epochs never go down");
  epoch_ = epoch;
}

void Sequencer::SetReadOnly(const std::string& reason) {
  absl::MutexLock lock(&counters_mu_);
  read_only_reason_ = reason;
}

bool Sequencer::read_only() const {
  absl::MutexLock lock(&counters_mu_);
  return !read_only_reason_.empty();
}

void Sequencer::SetCommitGate(std::function<absl::Status(uint64_t last_seq)> gate) {
  absl::MutexLock lock(&counters_mu_);
  commit_gate_ = std::move(gate);
}

absl::StatusOr<uint64_t> Sequencer::AppendReplicated(std::vector<std::string> records) {
  if (records.empty()) return absl::InvalidArgumentError("no records to append");
  auto pending = std::make_shared<Pending>();
  pending->replicated = std::move(records);
  pending->is_replicated = true;
  absl::MutexLock lock(&queue_mu_);
  if (stopping_) return absl::UnavailableError("the controller is stopping");
  if (!failed_.ok()) return failed_;
  Enqueue(pending);
  if (!pending->status.ok()) return pending->status;
  return pending->result.last_seq;
}

uint64_t Sequencer::batches_written() const {
  absl::MutexLock lock(&counters_mu_);
  return batches_written_;
}

uint64_t Sequencer::commands_refused() const {
  absl::MutexLock lock(&counters_mu_);
  return commands_refused_;
}

size_t Sequencer::queued_for_test() const {
  absl::MutexLock lock(&queue_mu_);
  return queue_.size();
}

absl::StatusOr<CommitResult> Sequencer::Submit(Command command) {
  if (!command.allowed_read_only) {
    absl::MutexLock lock(&counters_mu_);
    if (!read_only_reason_.empty()) return absl::UnavailableError(read_only_reason_);
  }
  auto pending = std::make_shared<Pending>();
  pending->command = std::move(command);
  absl::MutexLock lock(&queue_mu_);
  if (stopping_) return absl::UnavailableError("the controller is stopping");
  if (!failed_.ok()) return failed_;
  if (queue_.size() >= options_.queue_commands_max) {
    return absl::ResourceExhaustedError("the controller's write queue is full; retry later");
  }
  Enqueue(pending);
  if (!pending->status.ok()) return pending->status;
  return pending->result;
}

void Sequencer::Enqueue(const std::shared_ptr<Pending>& pending) {
  pending->caller = std::this_thread::get_id();
  hold_.Returned(pending->caller);
  queue_.push_back(pending);
  Pending* raw = pending.get();
  queue_mu_.Await(absl::Condition(
      +[](Pending* p) { return p->done; }, raw));
}

void Sequencer::Run() {
  const auto has_work_or_stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    return stopping_ || !queue_.empty();
  };
  while (true) {
    std::vector<std::shared_ptr<Pending>> batch;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(&has_work_or_stopping));
      if (!stopping_ && !hold_.AllReturned()) {
        const auto hold_is_over = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
          return stopping_ || hold_.AllReturned() ||
                 queue_.size() >= options_.batch_commands_max;
        };
        queue_mu_.AwaitWithTimeout(absl::Condition(&hold_is_over), hold_.Budget());
      }
      hold_.Forget();
      if (stopping_) return;
      // Take commands in order, up to the batch limit, stopping at the first whose keys
      // conflict with an earlier one: it must decide against state that holds the
      // earlier command's events, so it waits for the next batch.
      absl::flat_hash_set<ObjectKey> read_keys;
      absl::flat_hash_set<ObjectKey> write_keys;
      while (!queue_.empty() && batch.size() < options_.batch_commands_max) {
        // Replicated records go in a batch of their own.
        if (queue_.front()->is_replicated) {
          if (batch.empty()) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
          }
          break;
        }
        const Command& cmd = queue_.front()->command;
        bool conflict = false;
        for (const ObjectKey& k : cmd.writes) {
          conflict |= write_keys.contains(k) || read_keys.contains(k);
        }
        for (const ObjectKey& k : cmd.reads) conflict |= write_keys.contains(k);
        if (conflict && !batch.empty()) break;
        read_keys.insert(cmd.reads.begin(), cmd.reads.end());
        write_keys.insert(cmd.writes.begin(), cmd.writes.end());
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.size() == 1 && batch.front()->is_replicated) {
      ProcessReplicated(*batch.front());
    } else {
      ProcessBatch(batch);
    }
  }
}

void Sequencer::ProcessReplicated(Pending& pending) {
  std::vector<journal::StoredRecord> stored;
  absl::StatusOr<uint64_t> last = journal_->AppendRecords(std::move(pending.replicated), &stored);
  std::vector<AppliedRecord> applied;
  uint64_t state_epoch = 0;
  absl::Status status = last.status();
  if (last.ok()) {
    absl::MutexLock lock(&state_mu_);
    for (const journal::StoredRecord& rec : stored) {
      const auto* record = flatbuffers::GetRoot<schema::Record>(rec.bytes.data());
      absl::Status s = state::Apply(state_, *record, rec.chain_hash);
      if (!s.ok()) {
        // Durable but not applied: the state no longer equals a replay of the journal.
        // Stop writing (like a failed write); a restart replays and reports it.
        status = absl::DataLossError(absl::StrCat(
            "replicated record ", rec.seq, " does not apply: ", s.message()));
        break;
      }
      applied.push_back(AppliedRecord{rec.seq, rec.bytes});
    }
    state_epoch = state_.epoch();
  }
  if (!applied.empty()) {
    absl::MutexLock lock(&listeners_mu_);
    for (auto& listener : listeners_) listener(applied);
  }
  if (!applied.empty()) {
    absl::MutexLock lock(&counters_mu_);
    ++batches_written_;
    // An EpochStarted of the primary raises the epoch this copy would write under.
    epoch_ = std::max(epoch_, state_epoch);
  }
  absl::MutexLock lock(&queue_mu_);
  if (status.code() == absl::StatusCode::kDataLoss && last.ok()) failed_ = status;
  pending.status = status;
  if (status.ok()) pending.result.last_seq = *last;
  pending.done = true;
}

void Sequencer::ProcessBatch(std::vector<std::shared_ptr<Pending>>& batch) {
  // Step 2: decide. Only this thread writes the state, so reading it under the reader
  // lock is enough; readers proceed in parallel.
  const int64_t now_ms =
      options_.clock_ms ? options_.clock_ms() : absl::ToUnixMillis(absl::Now());
  const uint64_t epoch = this->epoch();
  absl::BitGen rng;
  std::vector<std::string> drafts;
  std::vector<size_t> draft_ends;  // per pending, the end index in drafts
  uint64_t refused = 0;
  {
    absl::ReaderMutexLock lock(&state_mu_);
    for (auto& pending : batch) {
      std::vector<std::string> own;
      CommandContext ctx(now_ms, epoch, rng, &pending->command.actor, &own);
      pending->status = pending->command.decide(state_, ctx);
      if (!pending->status.ok()) {
        ++refused;
        own.clear();
      }
      pending->result.events = own.size();
      for (auto& d : own) drafts.push_back(std::move(d));
      draft_ends.push_back(drafts.size());
    }
  }

  // Step 3: one synced write for the whole batch.
  std::vector<AppliedRecord> applied;
  absl::Status write_status;
  std::optional<absl::Duration> write_time;
  if (!drafts.empty()) {
    std::vector<journal::StoredRecord> stored;
    const absl::Time write_start = absl::Now();
    absl::StatusOr<uint64_t> last = journal_->AppendBatch(std::move(drafts), &stored);
    write_time = absl::Now() - write_start;
    if (!last.ok()) {
      write_status = last.status();
    } else {
      // Step 4: apply, in order, under the writer lock.
      absl::MutexLock lock(&state_mu_);
      // The sequencer is the journal's only writer: the batch follows the state's tip.
      ALMANAC_CHECK(stored.front().seq == state_.last_seq() + 1);
      for (const journal::StoredRecord& rec : stored) {
        const auto* record = flatbuffers::GetRoot<schema::Record>(rec.bytes.data());
        absl::Status applied_status = state::Apply(state_, *record, rec.chain_hash);
        // The command decided against this very state: an event it emitted that the
        // projector refuses is a bug, and the journal already holds it. Stop rather
        // than serve a state that differs from a replay.
        ALMANAC_CHECK_MSG(applied_status.ok(), applied_status.ToString().c_str());
        applied.push_back(AppliedRecord{rec.seq, rec.bytes});
      }
    }
  }

  // Step 5: tell listeners, pass the commit gate (sync standby), then wake the callers.
  absl::Status gate_status;
  if (write_status.ok() && !applied.empty()) {
    {
      absl::MutexLock lock(&listeners_mu_);
      for (auto& listener : listeners_) listener(applied);
    }
    std::function<absl::Status(uint64_t)> gate;
    {
      absl::MutexLock lock(&counters_mu_);
      gate = commit_gate_;
    }
    if (gate) gate_status = gate(applied.back().seq);
  }
  {
    absl::MutexLock lock(&counters_mu_);
    if (!applied.empty()) ++batches_written_;
    commands_refused_ += refused;
  }
  absl::MutexLock lock(&queue_mu_);
  if (!write_status.ok()) failed_ = write_status;
  if (write_time) hold_.set_last_write(*write_time);
  uint64_t first_seq = applied.empty() ? 0 : applied.front().seq;
  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& p = *batch[i];
    if (p.status.ok() && !write_status.ok() && p.result.events > 0) p.status = write_status;
    if (p.status.ok() && !gate_status.ok() && p.result.events > 0) p.status = gate_status;
    if (p.status.ok() && p.result.events > 0) {
      p.result.last_seq = first_seq + draft_ends[i] - 1;
    }
    hold_.Answered(p.caller);
    p.done = true;
  }
}

}  // namespace almanac::ctl
