#include "ctl/controller.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/thread_name.h"
#include "ctl/state/projector.h"
#include "ctl/state/snapshot.h"
#include "journal/limits.h"
#include "journal/record.h"
#include "replay/seal.h"
#include "schemas/events_generated.h"

namespace almanac::ctl {
namespace {

// Records replayed between progress lines at start.
constexpr uint64_t kReplayProgressRecords = 200000;

void Log(const ControllerOptions& options, const std::string& line) {
  if (options.log) options.log(line);
}

// Replays journal records after state.last_seq() into state.
absl::Status ReplayTail(const ControllerOptions& options, journal::Journal& journal,
                        state::State& state) {
  const uint64_t last = journal.last_seq();
  uint64_t next_progress = state.last_seq() + kReplayProgressRecords;
  while (state.last_seq() < last) {
    absl::StatusOr<std::vector<journal::StoredRecord>> records =
        journal.Read(state.last_seq() + 1, journal::kReadRecordsMax);
    if (!records.ok()) return records.status();
    if (records->empty()) {
      return absl::DataLossError(
          absl::StrCat("journal ends at ", state.last_seq(), " but claims ", last));
    }
    for (const journal::StoredRecord& rec : *records) {
      const auto* record = flatbuffers::GetRoot<schema::Record>(rec.bytes.data());
      if (absl::Status s = state::Apply(state, *record, rec.chain_hash); !s.ok()) {
        return absl::DataLossError(
            absl::StrCat("replaying record ", rec.seq, " failed: ", s.message()));
      }
    }
    if (state.last_seq() >= next_progress) {
      Log(options, absl::StrCat("replayed up to record ", state.last_seq(), " of ", last));
      next_progress += kReplayProgressRecords;
    }
  }
  return absl::OkStatus();
}

}  // namespace

Controller::Controller(ControllerOptions options, HomePaths paths)
    : options_(std::move(options)), paths_(std::move(paths)) {}

absl::StatusOr<std::unique_ptr<Controller>> Controller::Open(const ControllerOptions& options) {
  std::unique_ptr<Controller> c(new Controller(options, HomePaths(options.home)));
  const HomePaths& paths = c->paths_;
  if (absl::Status s = EnsureDirectory(paths.dir); !s.ok()) return s;
  if (absl::Status s = EnsureDirectory(paths.snapshots()); !s.ok()) return s;

  absl::StatusOr<zt::Identity> identity = LoadOrCreateIdentity(paths);
  if (!identity.ok()) return identity.status();
  c->identity_ = *identity;
  absl::StatusOr<std::string> token = LoadOrCreateAuthToken(paths);
  if (!token.ok()) return token.status();
  c->auth_token_ = *token;

  absl::StatusOr<state::LoadedSnapshot> loaded = state::LoadNewestSnapshot(paths.snapshots());
  if (!loaded.ok()) return loaded.status();
  for (const std::string& skipped : loaded->skipped) {
    Log(options, absl::StrCat("skipped a damaged snapshot: ", skipped));
  }
  state::State state;
  journal::JournalOptions journal_options;
  journal_options.zeroed_log_bytes = options.zeroed_log_bytes;
  if (loaded->state.has_value()) {
    state = std::move(*loaded->state);
    journal_options.verify_from_seq = state.last_seq();
    journal_options.trusted_hash = state.chain_hash();
    Log(options, absl::StrCat("loaded snapshot ", loaded->path, " at record ",
                              state.last_seq()));
  }
  absl::StatusOr<std::unique_ptr<journal::Journal>> journal =
      journal::Journal::Open(paths.journal(), journal_options);
  if (!journal.ok()) return journal.status();
  c->journal_ = std::move(*journal);
  if (state.last_seq() > c->journal_->last_seq()) {
    return absl::DataLossError(absl::StrCat("snapshot is at record ", state.last_seq(),
                                            " but the journal ends at ",
                                            c->journal_->last_seq()));
  }
  if (absl::Status s = ReplayTail(options, *c->journal_, state); !s.ok()) return s;

  const std::string public_identity = c->identity_.ToString(/*include_secret=*/false);
  if (state.last_seq() > 0 && state.controller_identity() != public_identity) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the journal in ", paths.journal(), " belongs to controller ",
        state.controller_identity().substr(0, 10), ", not to this home's identity ",
        public_identity.substr(0, 10)));
  }
  const bool fresh = state.last_seq() == 0 && options.standby_reason.empty();
  SequencerOptions sequencer_options;
  sequencer_options.read_only_reason = options.standby_reason;
  c->sequencer_ = std::make_unique<Sequencer>(c->journal_.get(), std::move(state),
                                              sequencer_options);
  if (fresh) {
    Command init;
    init.writes = {ObjectKey::Controller()};
    init.decide = [&public_identity](const state::State&, CommandContext& ctx) {
      ctx.Emit(schema::Body::ControllerInitialized, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateControllerInitializedDirect(b, public_identity.c_str()).Union();
      });
      return absl::OkStatus();
    };
    if (absl::StatusOr<CommitResult> r = c->sequencer_->Submit(std::move(init)); !r.ok()) {
      return r.status();
    }
  }

  if (options.snapshot_interval_records > 0) {
    Controller* raw = c.get();
    c->sequencer_->AddListener([raw](const std::vector<AppliedRecord>& applied) {
      absl::MutexLock lock(&raw->snapshot_mu_);
      raw->applied_since_snapshot_ += applied.size();
    });
    c->snapshot_thread_ = std::thread([raw] {
      NameThisThread("snapshots");
      raw->SnapshotLoop();
    });
  }
  if (options.seal_interval_records > 0 || options.seal_interval_seconds > 0) {
    Controller* raw = c.get();
    c->sequencer_->AddListener([raw](const std::vector<AppliedRecord>& applied) {
      // Seals do not count: a seal of a seal proves nothing new, and counting them
      // would make the timer seal an idle journal forever.
      uint64_t unsealed = 0;
      for (const AppliedRecord& r : applied) {
        const auto* record = flatbuffers::GetRoot<schema::Record>(r.bytes.data());
        if (record->body_type() != schema::Body::Seal) ++unsealed;
      }
      if (unsealed == 0) return;
      absl::MutexLock lock(&raw->seal_mu_);
      raw->unsealed_records_ += unsealed;
    });
    c->seal_thread_ = std::thread([raw] {
      NameThisThread("seals");
      raw->SealLoop();
    });
  }
  return c;
}

Controller::~Controller() {
  {
    absl::MutexLock lock(&snapshot_mu_);
    stopping_ = true;
  }
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  {
    absl::MutexLock lock(&seal_mu_);
    seal_stopping_ = true;
  }
  if (seal_thread_.joinable()) seal_thread_.join();
  sequencer_.reset();
  journal_.reset();
}

absl::StatusOr<std::string> Controller::WriteSnapshotNow() {
  // Only serializing needs the state still (the reader lock makes the sequencer wait to
  // apply); hashing, writing and fsyncing the file happen after the lock is released.
  uint64_t seq = 0;
  const std::string payload = sequencer_->Read([&seq](const state::State& s) {
    seq = s.last_seq();
    return state::SerializeState(s);
  });
  absl::StatusOr<std::string> path =
      state::WriteSnapshotPayload(paths_.snapshots(), seq, payload);
  if (path.ok()) snapshots_written_.fetch_add(1);
  return path;
}

void Controller::SnapshotLoop() {
  while (true) {
    {
      absl::MutexLock lock(&snapshot_mu_);
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(snapshot_mu_) {
        return stopping_ || applied_since_snapshot_ >= options_.snapshot_interval_records;
      };
      snapshot_mu_.Await(absl::Condition(&due));
      if (stopping_) return;
      applied_since_snapshot_ = 0;
    }
    absl::StatusOr<std::string> path = WriteSnapshotNow();
    if (!path.ok()) {
      Log(options_, absl::StrCat("snapshot failed (will retry): ", path.status().message()));
    }
  }
}

absl::Status Controller::SealNow() {
  absl::StatusOr<CommitResult> r = sequencer_->Submit(replay::MakeSealCommand(&identity_));
  if (!r.ok()) return r.status();
  if (r->events > 0) seals_written_.fetch_add(1);
  return absl::OkStatus();
}

void Controller::SealLoop() {
  const uint64_t every_records = options_.seal_interval_records;
  const uint64_t every_seconds = options_.seal_interval_seconds;
  absl::Time last_seal = absl::Now();
  while (true) {
    {
      absl::MutexLock lock(&seal_mu_);
      auto due = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(seal_mu_) {
        if (seal_stopping_) return true;
        if (every_records > 0 && unsealed_records_ >= every_records) return true;
        return every_seconds > 0 && unsealed_records_ > 0 &&
               absl::Now() - last_seal >= absl::Seconds(every_seconds);
      };
      // Wake at least once a second so the timer trigger is checked without a clock
      // thread; the condition is re-evaluated on every listener update too.
      seal_mu_.AwaitWithTimeout(absl::Condition(&due), absl::Seconds(1));
      if (seal_stopping_) return;
      if (!due()) continue;
      unsealed_records_ = 0;
      // A standby copies its primary's seals; it seals only once promoted.
      if (sequencer_->read_only()) continue;
    }
    last_seal = absl::Now();
    if (absl::Status s = SealNow(); !s.ok()) {
      Log(options_, absl::StrCat("seal failed: ", s.message()));
    }
  }
}

}  // namespace almanac::ctl
