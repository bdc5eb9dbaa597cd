// Goal: a journal copies another's records exactly (AppendRecords) only when they
// continue its chain, and a tail can be cut off (CutAfter) and the chain continued from
// the cut. Method: two real RocksDB journals under $TEST_TMPDIR.
#include <string>
#include <vector>

#include "base/testing.h"
#include "gtest/gtest.h"
#include "journal/journal.h"
#include "journal/journal_testing.h"
#include "journal/record.h"

namespace almanac::journal {
namespace {

std::unique_ptr<Journal> OpenOrDie(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir, JournalOptions{});
  EXPECT_TRUE(journal.ok()) << journal.status();
  return journal.ok() ? std::move(*journal) : nullptr;
}

std::vector<std::string> Bytes(const std::vector<StoredRecord>& records) {
  std::vector<std::string> out;
  for (const StoredRecord& r : records) out.push_back(r.bytes);
  return out;
}

TEST(JournalCopyTest, CopiesRecordsThatContinueTheChainAndRefusesOthers) {
  std::unique_ptr<Journal> source = OpenOrDie(testing::MakeTempDir("source"));
  std::unique_ptr<Journal> copy = OpenOrDie(testing::MakeTempDir("copy"));
  ASSERT_NE(source, nullptr);
  ASSERT_NE(copy, nullptr);
  for (uint64_t i = 1; i <= 6; ++i) ASSERT_TRUE(source->Append(SampleDraft(i)).ok());
  absl::StatusOr<std::vector<StoredRecord>> all = source->Read(1, 10);
  ASSERT_TRUE(all.ok());
  std::vector<std::string> records = Bytes(*all);

  std::vector<StoredRecord> appended;
  // Not starting at 1: refused, nothing written, journal still healthy.
  absl::StatusOr<uint64_t> r = copy->AppendRecords({records[1]}, &appended);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_EQ(copy->last_seq(), 0u);
  EXPECT_TRUE(copy->health().ok());
  // A gap inside a batch: refused as a whole.
  r = copy->AppendRecords({records[0], records[2]}, &appended);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(copy->last_seq(), 0u);
  // A draft is not a record.
  r = copy->AppendRecords({SampleDraft(1)}, &appended);
  EXPECT_FALSE(r.ok());

  r = copy->AppendRecords({records[0], records[1], records[2]}, &appended);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 3u);
  ASSERT_EQ(appended.size(), 3u);
  EXPECT_EQ(appended[2].chain_hash, (*all)[2].chain_hash);
  // Record 5 of another chain position: refused; 4..6 accepted.
  r = copy->AppendRecords({records[4]}, &appended);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  r = copy->AppendRecords({records[3], records[4], records[5]}, &appended);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(copy->last_seq(), 6u);
  EXPECT_EQ(copy->last_hash(), source->last_hash());
}

TEST(JournalCopyTest, CutAfterRemovesTheTailDurably) {
  const std::string dir = testing::MakeTempDir("cut");
  ChainHash hash3{};
  {
    std::unique_ptr<Journal> journal = OpenOrDie(dir);
    ASSERT_NE(journal, nullptr);
    for (uint64_t i = 1; i <= 5; ++i) {
      ASSERT_TRUE(journal->Append(SampleDraft(i)).ok());
      if (i == 3) hash3 = journal->last_hash();
    }
    absl::StatusOr<uint64_t> removed = journal->CutAfter(3);
    ASSERT_TRUE(removed.ok()) << removed.status();
    EXPECT_EQ(*removed, 2u);
    EXPECT_EQ(journal->last_seq(), 3u);
    EXPECT_EQ(journal->last_hash(), hash3);
    absl::StatusOr<uint64_t> none = journal->CutAfter(7);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, 0u);
    absl::StatusOr<uint64_t> seq = journal->Append(SampleDraft(9));
    ASSERT_TRUE(seq.ok()) << seq.status();
    EXPECT_EQ(*seq, 4u);
  }
  std::unique_ptr<Journal> reopened = OpenOrDie(dir);  // verifies the whole chain
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->last_seq(), 4u);
}

}  // namespace
}  // namespace almanac::journal
