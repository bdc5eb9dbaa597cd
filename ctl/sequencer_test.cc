// Goal: the sequencer batches independent commands into one journal write, makes a
// command that depends on an earlier one of the same batch wait for the next batch,
// writes nothing for refused or no-op commands, bounds its queue, and lets readers see
// a change as soon as Submit returns.
// Method: a real journal in $TEST_TMPDIR. A "gate" command whose decide blocks until the
// test has queued the commands it wants in one batch makes batching deterministic.
#include "ctl/sequencer.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/testing.h"
#include "gtest/gtest.h"
#include "journal/journal.h"
#include "schemas/events_generated.h"

namespace almanac::ctl {
namespace {

constexpr uint64_t kNwid = 0x8056c2e21c000001ULL;

class SequencerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sequencer");
    auto journal = journal::Journal::Open(dir_ + "/journal", journal::JournalOptions{});
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = std::move(*journal);
    SequencerOptions options;
    options.clock_ms = [] { return int64_t{1795818880722}; };
    options.queue_commands_max = 64;
    sequencer_ = std::make_unique<Sequencer>(journal_.get(), state::State{}, options);
    ASSERT_TRUE(sequencer_->Submit(Init()).ok());
    ASSERT_TRUE(sequencer_->Submit(CreateNetwork()).ok());
  }

  static Command Init() {
    Command c;
    c.writes = {ObjectKey::Controller()};
    c.decide = [](const state::State&, CommandContext& ctx) {
      ctx.Emit(schema::Body::ControllerInitialized, [](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateControllerInitializedDirect(b, "8056c2e21c:0:00").Union();
      });
      return absl::OkStatus();
    };
    return c;
  }

  static Command CreateNetwork() {
    Command c;
    c.writes = {ObjectKey::Controller(), ObjectKey::Network(kNwid)};
    c.decide = [](const state::State&, CommandContext& ctx) {
      ctx.Emit(schema::Body::NetworkCreated, [](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateNetworkCreated(b, kNwid).Union();
      });
      return absl::OkStatus();
    };
    return c;
  }

  // Creates member `address`; refuses if it exists.
  static Command CreateMember(uint64_t address) {
    Command c;
    c.reads = {ObjectKey::Network(kNwid)};
    c.writes = {ObjectKey::Member(kNwid, address)};
    c.decide = [address](const state::State& s, CommandContext& ctx) {
      if (s.FindMember(kNwid, address) != nullptr) {
        return absl::AlreadyExistsError("member exists");
      }
      ctx.Emit(schema::Body::MemberCreated, [address](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateMemberCreated(b, kNwid, address).Union();
      });
      return absl::OkStatus();
    };
    return c;
  }

  // Authorizes member `address`; refuses unless it already exists.
  static Command AuthorizeMember(uint64_t address) {
    Command c;
    c.reads = {ObjectKey::Network(kNwid)};
    c.writes = {ObjectKey::Member(kNwid, address)};
    c.decide = [address](const state::State& s, CommandContext& ctx) {
      if (s.FindMember(kNwid, address) == nullptr) return absl::NotFoundError("no member");
      ctx.Emit(schema::Body::MemberAuthorized, [address](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateMemberAuthorizedDirect(b, kNwid, address, "api").Union();
      });
      return absl::OkStatus();
    };
    return c;
  }

  // A command that holds the sequencer thread until released, so that the commands the
  // test queues meanwhile are all waiting when the next batch is taken.
  Command Gate() {
    Command c;
    c.writes = {ObjectKey::Controller()};
    c.decide = [this](const state::State&, CommandContext&) {
      gate_entered_.Notify();
      gate_release_.WaitForNotification();
      return absl::OkStatus();
    };
    return c;
  }

  // Runs `commands` on threads while the gate holds the sequencer; returns their results.
  std::vector<absl::StatusOr<CommitResult>> RunBehindGate(std::vector<Command> commands,
                                                          size_t expect_queued) {
    std::thread gate([this] { ASSERT_TRUE(sequencer_->Submit(Gate()).ok()); });
    gate_entered_.WaitForNotification();
    std::vector<absl::StatusOr<CommitResult>> results(commands.size(),
                                                      absl::UnknownError("not run"));
    std::vector<std::thread> threads;
    for (size_t i = 0; i < commands.size(); ++i) {
      threads.emplace_back([&, i] { results[i] = sequencer_->Submit(std::move(commands[i])); });
      // Submit order must be the vector's order: wait until this one is queued.
      while (QueuedForTest() < std::min(i + 1, expect_queued)) std::this_thread::yield();
    }
    gate_release_.Notify();
    gate.join();
    for (auto& t : threads) t.join();
    return results;
  }

  size_t QueuedForTest() { return sequencer_->queued_for_test(); }

  std::string dir_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<Sequencer> sequencer_;
  absl::Notification gate_entered_;
  absl::Notification gate_release_;
};

TEST_F(SequencerTest, IndependentCommandsShareOneWrite) {
  const uint64_t batches_before = sequencer_->batches_written();
  std::vector<Command> commands;
  for (uint64_t a = 1; a <= 16; ++a) commands.push_back(CreateMember(0x1000000000ULL + a));
  auto results = RunBehindGate(std::move(commands), 16);
  for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.status();
  // The gate wrote nothing; the 16 members went in one journal write.
  EXPECT_EQ(sequencer_->batches_written(), batches_before + 1);
  EXPECT_EQ(journal_->last_seq(), 2u + 16u);
  sequencer_->Read([](const state::State& s) { EXPECT_EQ(s.member_count(), 16u); });
}

TEST_F(SequencerTest, DependentCommandWaitsForTheNextBatch) {
  const uint64_t member = 0x2000000001ULL;
  std::vector<Command> commands;
  commands.push_back(CreateMember(member));
  commands.push_back(AuthorizeMember(member));  // refuses unless it sees the creation
  auto results = RunBehindGate(std::move(commands), 2);
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_EQ(results[1]->last_seq, results[0]->last_seq + 1);
  sequencer_->Read([&](const state::State& s) {
    const state::Member* m = s.FindMember(kNwid, member);
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(m->config.authorized);
  });
}

TEST_F(SequencerTest, RefusedAndNoOpCommandsWriteNothing) {
  const uint64_t before = journal_->last_seq();
  absl::StatusOr<CommitResult> refused = sequencer_->Submit(AuthorizeMember(0x3000000001ULL));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  Command noop;
  noop.decide = [](const state::State&, CommandContext&) { return absl::OkStatus(); };
  absl::StatusOr<CommitResult> nothing = sequencer_->Submit(std::move(noop));
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->events, 0u);
  EXPECT_EQ(nothing->last_seq, 0u);
  EXPECT_EQ(journal_->last_seq(), before);
  EXPECT_EQ(sequencer_->commands_refused(), 1u);
}

TEST_F(SequencerTest, ReaderSeesChangeAsSoonAsSubmitReturns) {
  const uint64_t member = 0x4000000001ULL;
  absl::StatusOr<CommitResult> r = sequencer_->Submit(CreateMember(member));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->last_seq, journal_->last_seq());
  sequencer_->Read([&](const state::State& s) {
    EXPECT_NE(s.FindMember(kNwid, member), nullptr);
    EXPECT_EQ(s.last_seq(), r->last_seq);
  });
}

TEST_F(SequencerTest, StageTimesSayWhereTheThreadSpentABatch) {
  const SequencerStageTimes before = sequencer_->stage_times();
  absl::SleepFor(absl::Milliseconds(40));  // nothing queued: the sequencer waits
  Command slow = CreateMember(0x6000000001ULL);
  slow.decide = [decide = slow.decide](const state::State& s, CommandContext& ctx) {
    absl::SleepFor(absl::Milliseconds(40));
    return decide(s, ctx);
  };
  const absl::Time submitted = absl::Now();
  ASSERT_TRUE(sequencer_->Submit(std::move(slow)).ok());
  const absl::Duration submit_time = absl::Now() - submitted;
  const SequencerStageTimes batch = sequencer_->stage_times() - before;
  EXPECT_EQ(batch.batches, 1u);
  EXPECT_GE(batch.waiting, absl::Milliseconds(40));
  EXPECT_GE(batch.deciding, absl::Milliseconds(40));
  EXPECT_GT(batch.writing, absl::ZeroDuration());
  EXPECT_GT(batch.applying, absl::ZeroDuration());
  // A lone caller is not held for; deciding, writing and applying happen inside Submit.
  EXPECT_LT(batch.holding, absl::Milliseconds(5));
  EXPECT_LE(batch.deciding + batch.writing + batch.applying, submit_time);
  // Sums and differences go stage by stage.
  SequencerStageTimes twice = batch;
  twice += batch;
  EXPECT_EQ(twice.batches, 2u);
  EXPECT_EQ(twice.deciding, 2 * batch.deciding);
  EXPECT_EQ((twice - batch).writing, batch.writing);
}

TEST_F(SequencerTest, FullQueueAnswersResourceExhausted) {
  std::thread gate([this] { ASSERT_TRUE(sequencer_->Submit(Gate()).ok()); });
  gate_entered_.WaitForNotification();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (uint64_t a = 1; a <= 64; ++a) {
    threads.emplace_back([&, a] { ok += sequencer_->Submit(CreateMember(0x5000000000ULL + a)).ok(); });
  }
  while (QueuedForTest() < 64) std::this_thread::yield();
  absl::StatusOr<CommitResult> over = sequencer_->Submit(CreateMember(0x5000000100ULL));
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  gate_release_.Notify();
  gate.join();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 64);
}

}  // namespace
}  // namespace almanac::ctl
