// Goal: every kind of damage to the stored journal stops Journal::Open (and
// VerifyJournal) with DataLoss naming the damaged record's seq; nothing is skipped.
// Method: write 10 good records, close, damage the RocksDB entries directly, reopen.
#include <memory>
#include <string>
#include <vector>

#include "base/testing.h"
#include "gtest/gtest.h"
#include "journal/chain.h"
#include "journal/journal.h"
#include "journal/journal_testing.h"
#include "journal/limits.h"
#include "journal/record.h"
#include "journal/verify.h"
#include "rocksdb/db.h"

namespace almanac::journal {
namespace {

constexpr uint64_t kRecords = 10;

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("chain");
    absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir_, {});
    ASSERT_TRUE(journal.ok()) << journal.status();
    hashes_.push_back(kZeroChainHash);
    for (uint64_t i = 1; i <= kRecords; ++i) {
      ASSERT_TRUE((*journal)->Append(SampleDraft(i)).ok());
      hashes_.push_back((*journal)->last_hash());
    }
  }

  // Opens the closed journal's RocksDB directly, for damage.
  std::unique_ptr<rocksdb::DB> RawDb() {
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(rocksdb::Options(), dir_, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::unique_ptr<rocksdb::DB>(raw);
  }

  std::string Get(rocksdb::DB* db, uint64_t seq) {
    std::string value;
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), RecordKey(seq), &value).ok());
    return value;
  }

  void Put(rocksdb::DB* db, uint64_t seq, const std::string& value) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), RecordKey(seq), value).ok());
  }

  // Asserts that Open and VerifyJournal both fail with DataLoss naming record seq.
  void ExpectDataLossAt(uint64_t seq) {
    const std::string name = "journal record " + std::to_string(seq) + ":";
    absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir_, {});
    ASSERT_FALSE(journal.ok());
    EXPECT_EQ(journal.status().code(), absl::StatusCode::kDataLoss) << journal.status();
    EXPECT_NE(journal.status().message().find(name), std::string::npos) << journal.status();
    std::printf("Open: %s\n", journal.status().ToString().c_str());
    absl::StatusOr<ChainTip> tip =
        VerifyJournal(dir_, [](const VerifiedRecord&) { return absl::OkStatus(); });
    EXPECT_EQ(tip.status().code(), absl::StatusCode::kDataLoss) << tip.status();
    EXPECT_NE(tip.status().message().find(name), std::string::npos) << tip.status();
  }

  std::string dir_;
  std::vector<ChainHash> hashes_;  // hashes_[n] = chain_hash(n)
};

TEST_F(ChainTest, IntactJournalOpens) {
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir_, {});
  ASSERT_TRUE(journal.ok()) << journal.status();
  EXPECT_EQ((*journal)->last_hash(), hashes_[kRecords]);
}

TEST_F(ChainTest, FlippedRecordByteIsReportedAtItsSeq) {
  {
    auto db = RawDb();
    std::string value = Get(db.get(), 5);
    // A byte inside the actor's source string: the buffer still verifies, only the
    // stored hash can tell.
    const size_t at = value.find("127.0.0.1");
    ASSERT_NE(at, std::string::npos);
    value[at] ^= 0x01;
    Put(db.get(), 5, value);
  }
  ExpectDataLossAt(5);
}

TEST_F(ChainTest, FlippedStoredHashByteIsReportedAtItsSeq) {
  {
    auto db = RawDb();
    std::string value = Get(db.get(), 9);
    value[value.size() - 1] ^= 0x80;
    Put(db.get(), 9, value);
  }
  ExpectDataLossAt(9);
}

TEST_F(ChainTest, DeletedRecordIsAGapAtItsSeq) {
  {
    auto db = RawDb();
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), RecordKey(5)).ok());
  }
  ExpectDataLossAt(5);
}

TEST_F(ChainTest, DeletedLastRecordIsDetected) {
  {
    auto db = RawDb();
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), RecordKey(kRecords)).ok());
  }
  ExpectDataLossAt(kRecords);
}

TEST_F(ChainTest, RecordPastLastSeqIsDetected) {
  {
    auto db = RawDb();
    Put(db.get(), kRecords + 1, Get(db.get(), kRecords));
  }
  ExpectDataLossAt(kRecords + 1);
}

TEST_F(ChainTest, SwappedRecordsAreReportedAtTheFirst) {
  {
    auto db = RawDb();
    const std::string four = Get(db.get(), 4);
    const std::string five = Get(db.get(), 5);
    Put(db.get(), 4, five);
    Put(db.get(), 5, four);
  }
  ExpectDataLossAt(4);
}

TEST_F(ChainTest, RewrittenRecordWithValidHashButBrokenChain) {
  {
    // A forger rewrites record 6 with another prev_hash and a stored hash that is
    // correct for the bytes and the real chain: only the prev_hash link catches it.
    auto db = RawDb();
    std::string record = SampleDraft(600, "mallory");
    ChainHash wrong = hashes_[5];
    wrong[0] ^= 1;
    PatchDraft(&record, 6, wrong);
    Put(db.get(), 6, StoredValue(record, ComputeChainHash(hashes_[5], record)));
  }
  ExpectDataLossAt(6);
}

TEST_F(ChainTest, TruncatedValueIsReportedAtItsSeq) {
  {
    auto db = RawDb();
    std::string value = Get(db.get(), 7);
    value.resize(value.size() / 2);
    Put(db.get(), 7, value);
  }
  ExpectDataLossAt(7);
}

TEST_F(ChainTest, ShortValueIsReportedAtItsSeq) {
  {
    auto db = RawDb();
    Put(db.get(), 8, Get(db.get(), 8).substr(0, 20));
  }
  ExpectDataLossAt(8);
}

TEST_F(ChainTest, NonVerifyingFlatBufferWithValidHash) {
  {
    auto db = RawDb();
    const std::string garbage(200, '\x7f');
    Put(db.get(), 8, StoredValue(garbage, ComputeChainHash(hashes_[7], garbage)));
  }
  ExpectDataLossAt(8);
}

TEST_F(ChainTest, ReadVerifiesRecordsBeforeTheTrustedPoint) {
  {
    auto db = RawDb();
    std::string value = Get(db.get(), 3);
    value[value.find("127.0.0.1")] ^= 0x01;
    Put(db.get(), 3, value);
  }
  JournalOptions options;
  options.verify_from_seq = 5;
  options.trusted_hash = hashes_[5];
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir_, options);
  ASSERT_TRUE(journal.ok()) << journal.status();
  absl::StatusOr<std::vector<StoredRecord>> records = (*journal)->Read(1, 100);
  EXPECT_EQ(records.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(records.status().message().find("journal record 3:"), std::string::npos)
      << records.status();
  EXPECT_EQ((*journal)->Read(5, 100)->size(), kRecords - 4);
}

// Records are checked in parallel blocks (journal/chain.h): damage deep in a long range,
// with more damage after it in the same block and in later blocks, must still be
// reported at the FIRST damaged record, by Open, VerifyJournal and Read alike.
class DeepChainTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kDeepRecords = 20000;

  void SetUp() override {
    dir_ = testing::MakeTempDir("deep_chain");
    absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir_, {});
    ASSERT_TRUE(journal.ok()) << journal.status();
    for (uint64_t done = 0; done < kDeepRecords;) {
      std::vector<std::string> drafts;
      for (size_t i = 0; i < kBatchRecordsMax && done + i < kDeepRecords; ++i) {
        drafts.push_back(SampleDraft(done + i + 1));
      }
      done += drafts.size();
      ASSERT_TRUE((*journal)->AppendBatch(std::move(drafts)).ok());
    }
  }

  void Damage(const std::vector<uint64_t>& flip, const std::vector<uint64_t>& remove) {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (uint64_t seq : flip) {
      std::string value;
      ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), RecordKey(seq), &value).ok());
      const size_t at = value.find("127.0.0.1");
      ASSERT_NE(at, std::string::npos);
      value[at] ^= 0x01;
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), RecordKey(seq), value).ok());
    }
    for (uint64_t seq : remove) {
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), RecordKey(seq)).ok());
    }
  }

  void ExpectNamed(const absl::Status& status, uint64_t seq) {
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    EXPECT_NE(status.message().find("journal record " + std::to_string(seq) + ":"),
              std::string::npos)
        << status;
  }

  std::string dir_;
};

TEST_F(DeepChainTest, FirstOfSeveralDamagedRecordsIsNamed) {
  // 12345 and 12400 share a block but not a chunk; 13000 is a gap after both; 17000 is
  // in a later block. Only 12345 may be named, however the checks were scheduled.
  Damage({12345, 12400, 17000}, {13000});
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir_, {});
    ASSERT_FALSE(journal.ok());
    ExpectNamed(journal.status(), 12345);
    uint64_t visited = 0;
    absl::StatusOr<ChainTip> tip = VerifyJournal(dir_, [&](const VerifiedRecord& r) {
      EXPECT_EQ(r.seq, visited + 1);
      visited = r.seq;
      return absl::OkStatus();
    });
    ExpectNamed(tip.status(), 12345);
    EXPECT_EQ(visited, 12344u);  // every record before the damaged one, in order
  }
}

TEST_F(DeepChainTest, DeepGapIsNamedAndReadNamesTheDamagedRecord) {
  Damage({}, {15000});
  ExpectNamed(Journal::Open(dir_, {}).status(), 15000);
  // Read checks too: open trusting record 16000, then read across the gap.
  JournalOptions options;
  options.verify_from_seq = 16000;
  absl::StatusOr<ChainHash> trusted;
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir_, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    trusted = ReadStoredChainHash(db.get(), 16000);
  }
  ASSERT_TRUE(trusted.ok()) << trusted.status();
  options.trusted_hash = *trusted;
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir_, options);
  ASSERT_TRUE(journal.ok()) << journal.status();
  ExpectNamed((*journal)->Read(12000, kReadRecordsMax).status(), 15000);
  // Reading from 15001 needs record 15000's hash (missing); from 15002 all is intact.
  ExpectNamed((*journal)->Read(15001, kReadRecordsMax).status(), 15000);
  absl::StatusOr<std::vector<StoredRecord>> tail = (*journal)->Read(15002, kReadRecordsMax);
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_EQ(tail->size(), kReadRecordsMax);
  EXPECT_EQ(tail->front().seq, 15002u);
  EXPECT_EQ(tail->back().seq, 15001u + kReadRecordsMax);
}

}  // namespace
}  // namespace almanac::journal
