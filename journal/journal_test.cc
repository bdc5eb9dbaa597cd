// Goal: Journal appends durably with gap-free seqs, batches concurrent appends into
// shared sync writes, shows a record only once it is synced, fails a whole group whose
// sync failed, reads back verified records, wakes followers, and answers
// ResourceExhausted at each named limit. Method: real RocksDB under $TEST_TMPDIR.
#include "journal/journal.h"

#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/testing.h"
#include "gtest/gtest.h"
#include "journal/journal_testing.h"
#include "journal/limits.h"
#include "journal/record.h"
#include "journal/verify.h"
#include "journal/zeroed_log.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace almanac::journal {
namespace {

std::unique_ptr<Journal> OpenOrDie(const std::string& dir, const JournalOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir, options);
  EXPECT_TRUE(journal.ok()) << journal.status();
  return journal.ok() ? std::move(*journal) : nullptr;
}

TEST(JournalTest, AppendReadRoundTripAndReopen) {
  const std::string dir = testing::MakeTempDir("journal");
  std::vector<ChainHash> hashes;
  {
    std::unique_ptr<Journal> journal = OpenOrDie(dir);
    ASSERT_NE(journal, nullptr);
    EXPECT_EQ(journal->last_seq(), 0u);
    EXPECT_EQ(journal->last_hash(), kZeroChainHash);
    for (uint64_t i = 1; i <= 3; ++i) {
      absl::StatusOr<uint64_t> seq = journal->Append(SampleDraft(i, "t" + std::to_string(i)));
      ASSERT_TRUE(seq.ok()) << seq.status();
      EXPECT_EQ(*seq, i);
      hashes.push_back(journal->last_hash());
    }
    absl::StatusOr<std::vector<StoredRecord>> records = journal->Read(1, 10);
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_EQ(records->size(), 3u);
    ChainHash prev = kZeroChainHash;
    for (size_t i = 0; i < 3; ++i) {
      const StoredRecord& r = (*records)[i];
      EXPECT_EQ(r.seq, i + 1);
      const schema::Record* record = schema::GetRecord(r.bytes.data());
      EXPECT_EQ(record->seq(), i + 1);
      EXPECT_EQ(record->actor()->id()->str(), "t" + std::to_string(i + 1));
      EXPECT_TRUE(std::equal(prev.begin(), prev.end(), record->prev_hash()->begin()));
      EXPECT_EQ(r.chain_hash, ComputeChainHash(prev, r.bytes));
      EXPECT_EQ(r.chain_hash, hashes[i]);
      prev = r.chain_hash;
    }
    absl::StatusOr<std::vector<StoredRecord>> middle = journal->Read(2, 1);
    ASSERT_TRUE(middle.ok()) << middle.status();
    ASSERT_EQ(middle->size(), 1u);
    EXPECT_EQ((*middle)[0].seq, 2u);
    EXPECT_TRUE(journal->Read(4, 10)->empty());
    EXPECT_EQ(journal->Read(0, 10).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(journal->Read(1, 0).status().code(), absl::StatusCode::kInvalidArgument);
  }
  std::unique_ptr<Journal> journal = OpenOrDie(dir);
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->last_seq(), 3u);
  EXPECT_EQ(journal->last_hash(), hashes[2]);
  absl::StatusOr<uint64_t> seq = journal->Append(SampleDraft(4));
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_EQ(*seq, 4u);
}

TEST(JournalTest, AppendBatchGivesConsecutiveSeqsInOneWrite) {
  std::unique_ptr<Journal> journal = OpenOrDie(testing::MakeTempDir("journal"));
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(journal->Append(SampleDraft(0)).ok());
  const uint64_t writes_before = journal->sync_writes();
  std::vector<std::string> drafts;
  for (int i = 0; i < 5; ++i) drafts.push_back(SampleDraft(i));
  absl::StatusOr<uint64_t> last = journal->AppendBatch(std::move(drafts));
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, 6u);
  EXPECT_EQ(journal->sync_writes(), writes_before + 1);
  EXPECT_EQ(journal->Read(1, 100)->size(), 6u);
  EXPECT_EQ(journal->AppendBatch({}).status().code(), absl::StatusCode::kInvalidArgument);
}

// The sequencer applies what AppendBatch hands back instead of reading it again: it
// must be exactly what a later Read returns.
TEST(JournalTest, AppendBatchHandsBackTheStoredRecords) {
  std::unique_ptr<Journal> journal = OpenOrDie(testing::MakeTempDir("journal"));
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(journal->Append(SampleDraft(0)).ok());
  std::vector<std::string> drafts;
  for (int i = 1; i <= 3; ++i) drafts.push_back(SampleDraft(i));
  std::vector<StoredRecord> appended;
  absl::StatusOr<uint64_t> last = journal->AppendBatch(std::move(drafts), &appended);
  ASSERT_TRUE(last.ok()) << last.status();
  absl::StatusOr<std::vector<StoredRecord>> read = journal->Read(2, 10);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(appended.size(), 3u);
  ASSERT_EQ(read->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(appended[i].seq, 2 + i);
    EXPECT_EQ(appended[i].seq, (*read)[i].seq);
    EXPECT_EQ(appended[i].bytes, (*read)[i].bytes);
    EXPECT_EQ(appended[i].chain_hash, (*read)[i].chain_hash);
  }
  EXPECT_EQ(appended.back().chain_hash, journal->last_hash());
}

TEST(JournalTest, BadDraftIsRefusedAndUsesNoSeq) {
  std::unique_ptr<Journal> journal = OpenOrDie(testing::MakeTempDir("journal"));
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->Append(std::string(64, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string patched = SampleDraft(1);
  PatchDraft(&patched, 9, kZeroChainHash);
  EXPECT_EQ(journal->Append(patched).status().code(), absl::StatusCode::kInvalidArgument);
  // A batch with one bad draft is refused whole.
  std::vector<std::string> drafts = {SampleDraft(1), "junk"};
  EXPECT_FALSE(journal->AppendBatch(std::move(drafts)).ok());
  EXPECT_EQ(*journal->Append(SampleDraft(1)), 1u);
}

// 16 threads append concurrently; the writer thread must put several of them in each
// sync write. Each thread blocks until its record is durable, so while one write is in
// flight the others queue up: far fewer sync writes than records.
TEST(JournalTest, GroupCommitBatchesConcurrentAppends) {
  std::unique_ptr<Journal> journal = OpenOrDie(testing::MakeTempDir("journal"));
  ASSERT_NE(journal, nullptr);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 100;
  absl::Mutex mu;
  std::set<uint64_t> seqs;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<uint64_t> seq = journal->Append(SampleDraft(t * 1000 + i));
        ASSERT_TRUE(seq.ok()) << seq.status();
        absl::MutexLock lock(&mu);
        EXPECT_TRUE(seqs.insert(*seq).second);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  constexpr uint64_t kTotal = kThreads * kPerThread;
  ASSERT_EQ(seqs.size(), kTotal);
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), kTotal);
  EXPECT_EQ(journal->last_seq(), kTotal);
  std::printf("%llu records in %llu sync writes\n",
              static_cast<unsigned long long>(kTotal),
              static_cast<unsigned long long>(journal->sync_writes()));
  // One sync write per record would be no batching at all; expect at least 4 per write.
  EXPECT_LE(journal->sync_writes(), kTotal / 4);
}

TEST(JournalTest, WaitForAfterWakesOnAppendAndTimesOut) {
  std::unique_ptr<Journal> journal = OpenOrDie(testing::MakeTempDir("journal"));
  ASSERT_NE(journal, nullptr);
  EXPECT_FALSE(journal->WaitForAfter(0, absl::Milliseconds(5)));
  bool woke = false;
  std::thread follower([&] { woke = journal->WaitForAfter(0, absl::Seconds(60)); });
  ASSERT_TRUE(journal->Append(SampleDraft(1)).ok());
  follower.join();
  EXPECT_TRUE(woke);
  EXPECT_TRUE(journal->WaitForAfter(0, absl::ZeroDuration()));
  EXPECT_FALSE(journal->WaitForAfter(1, absl::Milliseconds(5)));
}

TEST(JournalTest, LimitsGiveResourceExhausted) {
  std::unique_ptr<Journal> journal = OpenOrDie(testing::MakeTempDir("journal"));
  ASSERT_NE(journal, nullptr);
  std::vector<std::string> too_many(kBatchRecordsMax + 1, SampleDraft(1));
  EXPECT_EQ(journal->AppendBatch(std::move(too_many)).status().code(),
            absl::StatusCode::kResourceExhausted);
  std::string big = BuildRecordDraft(
      1, 1, schema::ActorKind::System, std::string(kRecordBytesMax, 'a'), "",
      schema::Body::EpochStarted,
      [](flatbuffers::FlatBufferBuilder& fbb) { return schema::CreateEpochStarted(fbb, 2).Union(); });
  EXPECT_EQ(journal->Append(std::move(big)).status().code(),
            absl::StatusCode::kResourceExhausted);

  // Fill the queue with the writer paused: full batches from several threads.
  journal->PauseWriterForTest(true);
  constexpr size_t kFillers = kQueueDraftsMax / kBatchRecordsMax;
  static_assert(kFillers * kBatchRecordsMax == kQueueDraftsMax, "exact fill");
  std::vector<std::thread> fillers;
  for (size_t t = 0; t < kFillers; ++t) {
    fillers.emplace_back([&journal] {
      std::vector<std::string> drafts(kBatchRecordsMax, SampleDraft(2));
      EXPECT_TRUE(journal->AppendBatch(std::move(drafts)).ok());
    });
  }
  journal->WaitQueuedDraftsForTest(kQueueDraftsMax);
  EXPECT_EQ(journal->Append(SampleDraft(3)).status().code(),
            absl::StatusCode::kResourceExhausted);
  journal->PauseWriterForTest(false);
  for (std::thread& t : fillers) t.join();
  EXPECT_EQ(journal->last_seq(), kQueueDraftsMax);
  EXPECT_EQ(*journal->Append(SampleDraft(3)), kQueueDraftsMax + 1);
  // Read returns bounded pieces.
  EXPECT_EQ(journal->Read(1, 1000000)->size(), kReadRecordsMax);
}

TEST(JournalTest, VerifyFromTrustedSnapshotPoint) {
  const std::string dir = testing::MakeTempDir("journal");
  ChainHash hash_at_3;
  {
    std::unique_ptr<Journal> journal = OpenOrDie(dir);
    ASSERT_NE(journal, nullptr);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(journal->Append(SampleDraft(i)).ok());
      if (journal->last_seq() == 3) hash_at_3 = journal->last_hash();
    }
  }
  JournalOptions options;
  options.verify_from_seq = 3;
  options.trusted_hash = hash_at_3;
  std::unique_ptr<Journal> journal = OpenOrDie(dir, options);
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->last_seq(), 5u);
  journal.reset();
  options.trusted_hash[0] ^= 1;
  absl::StatusOr<std::unique_ptr<Journal>> bad = Journal::Open(dir, options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("journal record 3:"), std::string::npos)
      << bad.status();
  options.verify_from_seq = 6;
  EXPECT_EQ(Journal::Open(dir, options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JournalTest, CheckpointOpensAsJournalAndVerifyJournalWalksLive) {
  const std::string dir = testing::MakeTempDir("journal");
  std::unique_ptr<Journal> journal = OpenOrDie(dir);
  ASSERT_NE(journal, nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(journal->Append(SampleDraft(i)).ok());
  const std::string copy = testing::MakeTempDir("checkpoint") + "/copy";
  ASSERT_TRUE(journal->CreateCheckpoint(copy).ok());
  // Read-only walk while the journal is open and writable in this process.
  uint64_t visited = 0;
  absl::StatusOr<ChainTip> tip = VerifyJournal(dir, [&](const VerifiedRecord& r) {
    EXPECT_EQ(r.seq, ++visited);
    return absl::OkStatus();
  });
  ASSERT_TRUE(tip.ok()) << tip.status();
  EXPECT_EQ(tip->seq, 10u);
  EXPECT_EQ(tip->hash, journal->last_hash());
  std::unique_ptr<Journal> restored = OpenOrDie(copy);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->last_seq(), 10u);
  EXPECT_EQ(restored->last_hash(), journal->last_hash());
  EXPECT_EQ(VerifyJournal(testing::MakeTempDir("empty") + "/none",
                          [](const VerifiedRecord&) { return absl::OkStatus(); })
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

// What LogSyncFs does to the syncs of log files: fail them while `fail` is set (as a
// dying disk would), and hold them while the gate is closed.
struct LogSyncControl {
  std::atomic<bool> fail{false};
  absl::Mutex mu;
  bool gate_open ABSL_GUARDED_BY(mu) = true;
  int held ABSL_GUARDED_BY(mu) = 0;  // syncs waiting at the closed gate

  void SetGate(bool open) {
    absl::MutexLock lock(&mu);
    gate_open = open;
  }
  // Blocks until a sync waits at the closed gate.
  void AwaitHeldSync() {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(+[](int* n) { return *n > 0; }, &held));
  }
  void Pass() {
    absl::MutexLock lock(&mu);
    ++held;
    mu.Await(absl::Condition(&gate_open));
    --held;
  }
};

// A file system whose log files' Sync and Fsync go through a LogSyncControl.
class LogSyncFs : public rocksdb::FileSystemWrapper {
 public:
  explicit LogSyncFs(LogSyncControl* control)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), control_(control) {}
  const char* Name() const override { return "LogSyncFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name,
                                    const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
    if (s.ok() && name.size() > 4 && name.substr(name.size() - 4) == ".log") {
      *file = std::make_unique<File>(std::move(*file), control_);
    }
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> target, LogSyncControl* control)
        : FSWritableFileOwnerWrapper(std::move(target)), control_(control) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      control_->Pass();
      if (control_->fail.load()) return rocksdb::IOStatus::IOError("injected fdatasync failure");
      return FSWritableFileOwnerWrapper::Sync(o, d);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      control_->Pass();
      if (control_->fail.load()) return rocksdb::IOStatus::IOError("injected fsync failure");
      return FSWritableFileOwnerWrapper::Fsync(o, d);
    }

   private:
    LogSyncControl* control_;
  };

  LogSyncControl* control_;
};

// Tests on a journal whose log syncs go through `control` (LogSyncFs), with record 1
// appended (the direct path, synced) before each test.
class JournalOnLogSyncFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    JournalOptions options;
    options.env = env_.get();
    journal_ = OpenOrDie(dir_, options);
    ASSERT_NE(journal_, nullptr);
    ASSERT_EQ(*journal_->Append(SampleDraft(1)), 1u);
  }

  const std::string dir_ = testing::MakeTempDir("journal");
  LogSyncControl control_;
  std::unique_ptr<rocksdb::Env> env_ =
      rocksdb::NewCompositeEnv(std::make_shared<LogSyncFs>(&control_));
  std::unique_ptr<Journal> journal_;  // destroyed first
};

// Starts `count` threads that each Append one draft, queued behind a paused writer so
// they go through the writer thread (not the direct path); the writer is resumed once
// all are queued. Each result lands in (*results)[i].
std::vector<std::thread> AppendThroughWriter(Journal* journal, int count,
                                             std::vector<absl::StatusOr<uint64_t>>* results) {
  results->assign(count, absl::UnknownError("not answered"));
  journal->PauseWriterForTest(true);
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([journal, results, i] {
      (*results)[i] = journal->Append(SampleDraft(100 + i));
    });
  }
  journal->WaitQueuedDraftsForTest(count);
  journal->PauseWriterForTest(false);
  return threads;
}

TEST_F(JournalOnLogSyncFsTest, FailedSyncIsNotRetriedAndFailsEveryLaterAppend) {
  control_.fail = true;
  absl::StatusOr<uint64_t> failed = journal_->Append(SampleDraft(2));
  ASSERT_FALSE(failed.ok());
  std::printf("failed append: %s\n", failed.status().ToString().c_str());
  EXPECT_EQ(journal_->health(), failed.status());
  EXPECT_EQ(journal_->last_seq(), 1u);
  // The disk "recovers"; the journal must not believe it.
  control_.fail = false;
  EXPECT_EQ(journal_->Append(SampleDraft(3)).status(), failed.status());
  EXPECT_EQ(journal_->last_seq(), 1u);
  EXPECT_EQ(journal_->Read(1, 10)->size(), 1u);
  // A restart re-reads the disk: the chain is intact and record 1 is there.
  journal_.reset();
  std::unique_ptr<Journal> journal = OpenOrDie(dir_);
  ASSERT_NE(journal, nullptr);
  EXPECT_GE(journal->last_seq(), 1u);
  EXPECT_TRUE(journal->health().ok());
}

// The writer thread writes a group unsynced and then syncs it: a failed sync fails every
// request of the group, and what was written but not synced is never readable.
TEST_F(JournalOnLogSyncFsTest, FailedGroupSyncFailsTheWholeGroupAndHidesItsRecords) {
  control_.fail = true;
  std::vector<absl::StatusOr<uint64_t>> results;
  std::vector<std::thread> threads = AppendThroughWriter(journal_.get(), 3, &results);
  for (std::thread& t : threads) t.join();
  for (const absl::StatusOr<uint64_t>& r : results) {
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(absl::StrContains(r.status().message(), "journal log sync of records 2..4"))
        << r.status();
  }
  EXPECT_EQ(journal_->health(), results[0].status());
  EXPECT_EQ(journal_->last_seq(), 1u);
  EXPECT_EQ(journal_->Read(1, 10)->size(), 1u);
  EXPECT_FALSE(journal_->WaitForAfter(1, absl::Milliseconds(20)));
}

// A record the writer thread has written but not yet synced is not visible: last_seq,
// Read and WaitForAfter see it only once the sync returned and its caller is answered.
TEST_F(JournalOnLogSyncFsTest, GroupIsVisibleOnlyAfterItsSync) {
  control_.SetGate(false);
  std::vector<absl::StatusOr<uint64_t>> results;
  std::vector<std::thread> threads = AppendThroughWriter(journal_.get(), 2, &results);
  control_.AwaitHeldSync();  // written, and the sync has begun
  EXPECT_EQ(journal_->last_seq(), 1u);
  EXPECT_EQ(journal_->Read(1, 10)->size(), 1u);
  EXPECT_FALSE(journal_->WaitForAfter(1, absl::Milliseconds(20)));
  control_.SetGate(true);
  for (std::thread& t : threads) t.join();
  std::set<uint64_t> seqs;
  for (const absl::StatusOr<uint64_t>& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    seqs.insert(*r);
  }
  EXPECT_EQ(seqs, (std::set<uint64_t>{2, 3}));
  EXPECT_EQ(journal_->last_seq(), 3u);
  EXPECT_EQ(journal_->Read(1, 10)->size(), 3u);
}

// sync_time adds up how long the log's fsyncs took: a group's SyncWAL held at the gate
// for 60 ms, then a lone append's sync held for 40 ms, each counted with its sync write.
TEST_F(JournalOnLogSyncFsTest, SyncTimeAddsUpHowLongEachLogSyncTook) {
  const uint64_t syncs_before = journal_->sync_writes();
  const absl::Duration time_before = journal_->sync_time();
  control_.SetGate(false);
  std::vector<absl::StatusOr<uint64_t>> results;
  std::vector<std::thread> threads = AppendThroughWriter(journal_.get(), 2, &results);
  control_.AwaitHeldSync();
  absl::SleepFor(absl::Milliseconds(60));
  control_.SetGate(true);
  for (std::thread& t : threads) t.join();
  for (const absl::StatusOr<uint64_t>& r : results) ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(journal_->sync_writes(), syncs_before + 1);
  const absl::Duration group_sync = journal_->sync_time() - time_before;
  EXPECT_GE(group_sync, absl::Milliseconds(60));

  control_.SetGate(false);
  std::thread lone([&] { ASSERT_TRUE(journal_->Append(SampleDraft(9)).ok()); });
  control_.AwaitHeldSync();
  absl::SleepFor(absl::Milliseconds(40));
  control_.SetGate(true);
  lone.join();
  EXPECT_EQ(journal_->sync_writes(), syncs_before + 2);
  EXPECT_GE(journal_->sync_time() - time_before, group_sync + absl::Milliseconds(40));
}

// A file system that holds RocksDB's table files (a memtable flush) at a gate until the
// test opens it.
class GatedTablesFs : public rocksdb::FileSystemWrapper {
 public:
  GatedTablesFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "GatedTablesFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name,
                                    const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    if (absl::EndsWith(name, ".sst")) {
      absl::MutexLock lock(&mu_);
      held_ = true;
      mu_.Await(absl::Condition(&open_));
    }
    return target()->NewWritableFile(name, options, file, dbg);
  }

  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  void AwaitHeld() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&held_));
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
};

size_t CountFilesEndingIn(const std::string& dir, const std::string& suffix) {
  size_t count = 0;
  for (const std::filesystem::directory_entry& entry : std::filesystem::directory_iterator(dir)) {
    count += absl::EndsWith(entry.path().filename().string(), suffix);
  }
  return count;
}

// Benchmarks wait for it before they measure the disk's own rate.
TEST(JournalTest, WaitForBackgroundWorkWaitsForAFlushAndTheSpare) {
  const std::string dir = testing::MakeTempDir("journal");
  auto gated = std::make_shared<GatedTablesFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(gated);
  JournalOptions options;
  options.env = env.get();
  options.memtable_bytes = size_t{64} << 10;  // full after a few hundred records
  options.zeroed_log_bytes = size_t{256} << 10;
  std::unique_ptr<Journal> journal = OpenOrDie(dir, options);
  ASSERT_NE(journal, nullptr);
  // Before the journal closes (its last flush), whatever fails below.
  absl::Cleanup open_gate = [&] { gated->Open(); };
  // Append until the memtable switches (a second log appears) and no further: a second
  // switch would stall appends behind the held flush.
  for (uint64_t i = 1; CountFilesEndingIn(dir, ".log") < 2; ++i) {
    ASSERT_LT(i, 10000u);
    ASSERT_TRUE(journal->Append(SampleDraft(i)).ok());
  }
  gated->AwaitHeld();
  EXPECT_FALSE(journal->WaitForBackgroundWork(absl::Milliseconds(100)));
  gated->Open();
  EXPECT_TRUE(journal->WaitForBackgroundWork(absl::Seconds(60)));
  EXPECT_EQ(CountFilesEndingIn(dir, ".sst"), 1u);
  // The spare the new log took is already made again.
  EXPECT_TRUE(std::filesystem::exists(dir + "/" + ZeroedLogs::kSpareName));
}

}  // namespace
}  // namespace almanac::journal
