#include "ctl/sequencer.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
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
  // Filled by the sequencer thread; read by the caller once done.
  absl::Status status;
  CommitResult result;
  bool done = false;  // guarded by queue_mu_
};

Sequencer::Sequencer(journal::Journal* journal, state::State state, SequencerOptions options)
    : journal_(journal), options_(std::move(options)), state_(std::move(state)) {
  ALMANAC_CHECK(journal_ != nullptr);
  ALMANAC_CHECK(options_.batch_commands_max > 0);
  ALMANAC_CHECK_MSG(state_.last_seq() == journal_->last_seq(),
                    "the state must hold every journal record before the sequencer starts");
  epoch_ = std::max(options_.epoch, state_.epoch());
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
  auto pending = std::make_shared<Pending>();
  pending->command = std::move(command);
  absl::MutexLock lock(&queue_mu_);
  if (stopping_) return absl::UnavailableError("the controller is stopping");
  if (!failed_.ok()) return failed_;
  if (queue_.size() >= options_.queue_commands_max) {
    return absl::ResourceExhaustedError("the controller's write queue is full; retry later");
  }
  queue_.push_back(pending);
  Pending* raw = pending.get();
  queue_mu_.Await(absl::Condition(
      +[](Pending* p) { return p->done; }, raw));
  if (!pending->status.ok()) return pending->status;
  return pending->result;
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
      if (stopping_) return;
      // Take commands in order, up to the batch limit, stopping at the first whose keys
      // conflict with an earlier one: it must decide against state that holds the
      // earlier command's events, so it waits for the next batch.
      absl::flat_hash_set<ObjectKey> read_keys;
      absl::flat_hash_set<ObjectKey> write_keys;
      while (!queue_.empty() && batch.size() < options_.batch_commands_max) {
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
    ProcessBatch(batch);
  }
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
  if (!drafts.empty()) {
    std::vector<journal::StoredRecord> stored;
    absl::StatusOr<uint64_t> last = journal_->AppendBatch(std::move(drafts), &stored);
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

  // Step 5: tell listeners, then wake the callers.
  if (write_status.ok() && !applied.empty()) {
    absl::MutexLock lock(&listeners_mu_);
    for (auto& listener : listeners_) listener(applied);
  }
  {
    absl::MutexLock lock(&counters_mu_);
    if (!applied.empty()) ++batches_written_;
    commands_refused_ += refused;
  }
  absl::MutexLock lock(&queue_mu_);
  if (!write_status.ok()) failed_ = write_status;
  uint64_t first_seq = applied.empty() ? 0 : applied.front().seq;
  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& p = *batch[i];
    if (p.status.ok() && !write_status.ok() && p.result.events > 0) p.status = write_status;
    if (p.status.ok() && p.result.events > 0) {
      p.result.last_seq = first_seq + draft_ends[i] - 1;
    }
    p.done = true;
  }
}

}  // namespace almanac::ctl
