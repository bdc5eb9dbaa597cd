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
#include "base/thread_name.h"
#include "ctl/state/projector.h"
#include "journal/record.h"

namespace almanac::ctl {

SequencerStageTimes& SequencerStageTimes::operator+=(const SequencerStageTimes& other) {
  batches += other.batches;
  for (const SequencerStage& stage : kSequencerStages) this->*stage.time += other.*stage.time;
  return *this;
}

SequencerStageTimes operator-(SequencerStageTimes a, const SequencerStageTimes& b) {
  a.batches -= b.batches;
  for (const SequencerStage& stage : kSequencerStages) a.*stage.time -= b.*stage.time;
  return a;
}

void CommandContext::Emit(
    schema::Body body_type,
    const std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>& build_body) {
  drafts_->push_back(journal::BuildRecordDraft(now_ms_, epoch_, actor_->kind, actor_->id,
                                               actor_->source, body_type, build_body));
}

// One caller's command (or replicated records), on the caller's stack until answered.
struct Sequencer::Pending {
  Command command;
  // AppendReplicated: records to copy as they are (command is unused then).
  std::vector<std::string> replicated;
  bool is_replicated = false;
  // Filled by the sequencer thread; read by the caller once answered.
  absl::Status status;
  CommitResult result;
  std::thread::id caller;  // the submitting thread, for hold_
  Pending* queue_next = nullptr;     // CommitQueue's link
  uint64_t queue_ticket = 0;
  std::atomic<bool> answered{false};  // CommitQueue's answer
};

Sequencer::Sequencer(journal::Journal* journal, state::State state, SequencerOptions options)
    : journal_(journal), options_(std::move(options)), state_(std::move(state)) {
  ALMANAC_CHECK(journal_ != nullptr);
  ALMANAC_CHECK(options_.batch_commands_max > 0);
  ALMANAC_CHECK_MSG(state_.last_seq() == journal_->last_seq(),
                    "the state must hold every journal record before the sequencer starts");
  epoch_ = std::max(options_.epoch, state_.epoch());
  read_only_reason_ = options_.read_only_reason;
  thread_ = std::thread([this] {
    NameThisThread("sequencer");
    Run();
  });
}

Sequencer::~Sequencer() {
  stopping_ = true;
  queue_.Wake();
  thread_.join();
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
  Pending pending;
  pending.replicated = std::move(records);
  pending.is_replicated = true;
  if (absl::Status s = Enqueue(&pending); !s.ok()) return s;
  if (!pending.status.ok()) return pending.status;
  return pending.result.last_seq;
}

uint64_t Sequencer::batches_written() const {
  absl::MutexLock lock(&counters_mu_);
  return batches_written_;
}

uint64_t Sequencer::commands_refused() const {
  absl::MutexLock lock(&counters_mu_);
  return commands_refused_;
}

size_t Sequencer::queued_for_test() const { return queued_commands_.load(); }

absl::StatusOr<CommitResult> Sequencer::Submit(Command command) {
  if (!command.allowed_read_only) {
    absl::MutexLock lock(&counters_mu_);
    if (!read_only_reason_.empty()) return absl::UnavailableError(read_only_reason_);
  }
  Pending pending;
  pending.command = std::move(command);
  if (absl::Status s = Enqueue(&pending); !s.ok()) return s;
  if (!pending.status.ok()) return pending.status;
  return pending.result;
}

absl::Status Sequencer::Enqueue(Pending* pending) {
  if (stopping_.load()) return absl::UnavailableError("the controller is stopping");
  if (failed_flag_.load()) {
    absl::MutexLock lock(&failed_mu_);
    return failed_;
  }
  if (queued_commands_.fetch_add(1) >= options_.queue_commands_max) {
    queued_commands_.fetch_sub(1);
    return absl::ResourceExhaustedError("the controller's write queue is full; retry later");
  }
  // Checked again after counting in: Run stops only once it saw stopping_ and then
  // queued_commands_ == 0, so either it waits for this command or this sees stopping_.
  if (stopping_.load()) {
    queued_commands_.fetch_sub(1);
    return absl::UnavailableError("the controller is stopping");
  }
  pending->caller = std::this_thread::get_id();
  queue_.Push(pending);
  queue_.AwaitAnswer(pending);
  return absl::OkStatus();
}

void Sequencer::SetFailed(const absl::Status& status) {
  absl::MutexLock lock(&failed_mu_);
  if (failed_.ok()) failed_ = status;
  failed_flag_ = true;
}

void Sequencer::TakeQueued() {
  std::vector<Pending*> taken;
  queue_.TakeAll(&taken);
  for (Pending* p : taken) {
    hold_.Returned(p->caller);
    waiting_.push_back(p);
  }
}

void Sequencer::HoldForReturningCallers() {
  hold_.Hold(queue_, journal::GroupHold::kAllReturns, [this] { TakeQueued(); }, [this] {
    return !stopping_.load() && waiting_.size() < options_.batch_commands_max;
  });
}

std::vector<Sequencer::Pending*> Sequencer::NextBatch() {
  // Take commands in order, up to the batch limit, stopping at the first whose keys
  // conflict with an earlier one: it must decide against state that holds the earlier
  // command's events, so it waits for the next batch.
  std::vector<Pending*> batch;
  absl::flat_hash_set<ObjectKey> read_keys;
  absl::flat_hash_set<ObjectKey> write_keys;
  while (!waiting_.empty() && batch.size() < options_.batch_commands_max) {
    // Replicated records go in a batch of their own.
    if (waiting_.front()->is_replicated) {
      if (batch.empty()) {
        batch.push_back(waiting_.front());
        waiting_.pop_front();
      }
      break;
    }
    const Command& cmd = waiting_.front()->command;
    bool conflict = false;
    for (const ObjectKey& k : cmd.writes) {
      conflict |= write_keys.contains(k) || read_keys.contains(k);
    }
    for (const ObjectKey& k : cmd.reads) conflict |= write_keys.contains(k);
    if (conflict && !batch.empty()) break;
    read_keys.insert(cmd.reads.begin(), cmd.reads.end());
    write_keys.insert(cmd.writes.begin(), cmd.writes.end());
    batch.push_back(waiting_.front());
    waiting_.pop_front();
  }
  queued_commands_.fetch_sub(batch.size());
  return batch;
}

void Sequencer::Answer(const std::vector<Pending*>& batch) {
  for (Pending* p : batch) hold_.Answered(p->caller);
  // Last: a caller may return (and free its Pending) as soon as it is answered.
  queue_.AnswerAll(batch);
}

void Sequencer::Run() {
  absl::Time last_answered = absl::Now();
  absl::Duration last_answering;
  for (;;) {
    TakeQueued();
    if (stopping_.load()) {
      // Everything still queued is refused; callers that come later are refused by
      // Enqueue. A Push racing with this drain is caught by the next loop.
      std::vector<Pending*> refused(waiting_.begin(), waiting_.end());
      waiting_.clear();
      for (Pending* p : refused) p->status = absl::UnavailableError("the controller is stopping");
      queued_commands_.fetch_sub(refused.size());
      Answer(refused);
      if (queued_commands_.load() == 0) return;
      queue_.WaitForMore(1, absl::Now() + absl::Milliseconds(10));
      continue;
    }
    if (waiting_.empty()) {
      queue_.WaitForMore(1, absl::InfiniteFuture());
      continue;
    }
    SequencerStageTimes stages;
    stages.batches = 1;
    const absl::Time hold_start = absl::Now();
    stages.waiting = hold_start - last_answered;
    HoldForReturningCallers();
    std::vector<Pending*> batch = NextBatch();
    ALMANAC_CHECK(!batch.empty());  // waiting_ was not empty, and the hold only adds
    const absl::Time batch_start = absl::Now();
    stages.holding = batch_start - hold_start;
    if (batch.size() == 1 && batch.front()->is_replicated) {
      ProcessReplicated(*batch.front(), &stages);
    } else {
      ProcessBatch(batch, &stages);
    }
    // Counted before the callers are woken, so a caller sees its own batch in
    // stage_times() as soon as Submit returns; the answering is this batch's to measure
    // and is counted with the next one.
    stages.answering = last_answering;
    AddStageTimes(stages);
    const absl::Time answer_start = absl::Now();
    Answer(batch);
    last_answered = absl::Now();
    last_answering = last_answered - answer_start;
  }
}

void Sequencer::AddStageTimes(const SequencerStageTimes& stages) {
  absl::MutexLock lock(&counters_mu_);
  stage_times_ += stages;
}

SequencerStageTimes Sequencer::stage_times() const {
  absl::MutexLock lock(&counters_mu_);
  return stage_times_;
}

void Sequencer::ProcessReplicated(Pending& pending, SequencerStageTimes* stages) {
  std::vector<journal::StoredRecord> stored;
  const absl::Time write_start = absl::Now();
  absl::StatusOr<uint64_t> last = journal_->AppendRecords(std::move(pending.replicated), &stored);
  const absl::Time apply_start = absl::Now();
  stages->writing = apply_start - write_start;
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
  if (status.code() == absl::StatusCode::kDataLoss && last.ok()) SetFailed(status);
  stages->applying = absl::Now() - apply_start;
  pending.status = status;
  if (status.ok()) pending.result.last_seq = *last;
}

void Sequencer::ProcessBatch(const std::vector<Pending*>& batch, SequencerStageTimes* stages) {
  // Step 2: decide. Only this thread writes the state, so reading it under the reader
  // lock is enough; readers proceed in parallel.
  const absl::Time decide_start = absl::Now();
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
  const absl::Time write_start = absl::Now();
  stages->deciding = write_start - decide_start;
  std::vector<AppliedRecord> applied;
  absl::Status write_status;
  std::optional<absl::Duration> write_time;
  if (!drafts.empty()) {
    std::vector<journal::StoredRecord> stored;
    absl::StatusOr<uint64_t> last = journal_->AppendBatch(std::move(drafts), &stored);
    write_time = absl::Now() - write_start;
    stages->writing = *write_time;
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
  if (!write_status.ok()) SetFailed(write_status);
  if (write_time) hold_.set_last_write(*write_time);
  stages->applying = absl::Now() - write_start - stages->writing;
  uint64_t first_seq = applied.empty() ? 0 : applied.front().seq;
  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& p = *batch[i];
    if (p.status.ok() && !write_status.ok() && p.result.events > 0) p.status = write_status;
    if (p.status.ok() && !gate_status.ok() && p.result.events > 0) p.status = gate_status;
    if (p.status.ok() && p.result.events > 0) {
      p.result.last_seq = first_seq + draft_ends[i] - 1;
    }
  }
}

}  // namespace almanac::ctl
