// Goal: drafts carry patchable seq/prev_hash fields, patching changes only those bytes,
// and VerifyRecord/VerifyDraft reject what they must.
#include "journal/record.h"

#include <string>

#include "gtest/gtest.h"
#include "journal/journal_testing.h"
#include "journal/limits.h"

namespace almanac::journal {
namespace {

TEST(RecordTest, DraftVerifiesAndHasZeroSeqAndHash) {
  const std::string draft = SampleDraft(7, "alice");
  ASSERT_TRUE(VerifyDraft(draft).ok()) << VerifyDraft(draft);
  const schema::Record* record = schema::GetRecord(draft.data());
  EXPECT_EQ(record->seq(), 0u);
  ASSERT_EQ(record->prev_hash()->size(), kChainHashBytes);
  EXPECT_EQ(record->actor()->id()->str(), "alice");
  EXPECT_EQ(record->body_type(), schema::Body::MemberAuthorized);
  // A draft is not a stored record: seq 0 is refused.
  EXPECT_EQ(VerifyRecord(draft).status().code(), absl::StatusCode::kDataLoss);
}

TEST(RecordTest, PatchChangesOnlySeqAndPrevHash) {
  const std::string draft = SampleDraft(7);
  std::string patched = draft;
  ChainHash prev;
  for (size_t i = 0; i < prev.size(); ++i) prev[i] = static_cast<uint8_t>(i + 1);
  PatchDraft(&patched, 42, prev);
  ASSERT_EQ(patched.size(), draft.size());
  absl::StatusOr<const schema::Record*> record = VerifyRecord(patched);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ((*record)->seq(), 42u);
  EXPECT_TRUE(std::equal(prev.begin(), prev.end(), (*record)->prev_hash()->begin()));
  size_t changed = 0;
  for (size_t i = 0; i < draft.size(); ++i) changed += draft[i] != patched[i];
  EXPECT_GE(changed, 2u);
  EXPECT_LE(changed, 8u + 32u);
  // A patched record is no longer a draft.
  EXPECT_EQ(VerifyDraft(patched).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RecordTest, DraftWithoutSeqFieldIsRefused) {
  // Built without forcing defaults, seq 0 is elided and could not be patched.
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = schema::CreateEpochStarted(fbb, 2).Union();
  const auto actor = schema::CreateActorDirect(fbb, schema::ActorKind::System, "", "");
  const std::vector<uint8_t> zeros(32, 0);
  const auto root = schema::CreateRecordDirect(fbb, 0, 0, 1, actor, &zeros,
                                               schema::Body::EpochStarted, body);
  schema::FinishRecordBuffer(fbb, root);
  const std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                          fbb.GetSize());
  EXPECT_EQ(VerifyDraft(bytes).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RecordTest, GarbageAndOversizedAreRefused) {
  const std::string garbage(100, '\x5a');
  EXPECT_EQ(VerifyDraft(garbage).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyRecord(garbage).status().code(), absl::StatusCode::kDataLoss);
  const std::string big(kRecordBytesMax + 1, '\0');
  EXPECT_EQ(VerifyDraft(big).code(), absl::StatusCode::kResourceExhausted);
}

TEST(RecordTest, ChainHashIsBlake2bOfPrevAndRecord) {
  // Known answer: BLAKE2b-256 of 32 zero bytes followed by "abc" (Python hashlib.blake2b, digest_size=32).
  const ChainHash hash = ComputeChainHash(kZeroChainHash, "abc");
  EXPECT_EQ(HashHex(hash),
            "5db827e5e925e6b933a86596a0446c345c0d74d77f55a751ade5d7c7162eead8");
  EXPECT_NE(hash, ComputeChainHash(hash, "abc"));
  EXPECT_EQ(RecordKey(0x0102030405060708ULL), std::string("\1\2\3\4\5\6\7\10", 8));
  EXPECT_EQ(DecodeBigEndian64(RecordKey(258)), 258u);
}

}  // namespace
}  // namespace almanac::journal
