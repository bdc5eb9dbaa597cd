// Goal: the worked example in docs/journal-format.md is exactly what the code stores.
// Method: build the three example records, chain them, and compare with the document's
// key, sizes and hashes (printed in full so the document can be checked by eye).
#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "journal/record.h"
#include "journal/record_format.h"

namespace almanac::journal {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (char c : bytes) {
    hex.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    hex.push_back(kDigits[static_cast<uint8_t>(c) & 0xf]);
  }
  return hex;
}

std::string ExampleDraft(uint64_t seq) {
  const int64_t time_ms = 1700000000000 + static_cast<int64_t>(seq);
  if (seq == 1) {
    return BuildRecordDraft(time_ms, 1, schema::ActorKind::System, "", "",
                            schema::Body::EpochStarted, [](flatbuffers::FlatBufferBuilder& f) {
                              return schema::CreateEpochStarted(f, 1).Union();
                            });
  }
  return BuildRecordDraft(time_ms, 1, schema::ActorKind::AdminToken, "admin", "127.0.0.1:1",
                          schema::Body::NetworkDeleted, [seq](flatbuffers::FlatBufferBuilder& f) {
                            return schema::CreateNetworkDeleted(f, 0x8056c2e21c000000ULL + seq)
                                .Union();
                          });
}

TEST(RecordFormatTest, WorkedExampleOfThreeRecords) {
  const char* kExpectedHashes[] = {
      "a3c9b625212900f50ba33a2865855b4a7b51aca20029db9d69ffcb8626ab2f3a",
      "8dd3316807337abeac097dd83b9b0140d6d41784925d33bd05b330ff2e738e41",
      "adb00a20255ae00dfc1144ab44cc838403e0b501d538903a71bf8448dec67916",
  };
  ChainHash prev = kZeroChainHash;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    std::string record = ExampleDraft(seq);
    PatchDraft(&record, seq, prev);
    ASSERT_TRUE(VerifyRecord(record).ok());
    const ChainHash hash = ComputeChainHash(prev, record);
    const std::string value = StoredValue(record, hash);
    std::printf("record %llu: key %s, record %zu bytes, value %zu bytes\n  record %s\n"
                "  chain_hash %s\n",
                static_cast<unsigned long long>(seq), Hex(RecordKey(seq)).c_str(),
                record.size(), value.size(), Hex(record).c_str(), HashHex(hash).c_str());
    EXPECT_EQ(value.size(), record.size() + kChainHashBytes);
    EXPECT_EQ(value.substr(record.size()), std::string(hash.begin(), hash.end()));
    EXPECT_EQ(HashHex(hash), kExpectedHashes[seq - 1]);
    prev = hash;
  }
  EXPECT_EQ(Hex(RecordKey(3)), "0000000000000003");
}

}  // namespace
}  // namespace almanac::journal
