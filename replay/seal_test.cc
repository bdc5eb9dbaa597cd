// Goal: seals are written by count and by time, their signed bytes are exactly the
// documented 52 bytes, and a seal verifies only under the controller's identity and only
// for the bytes it signed.
// Method: real controller homes under $TEST_TMPDIR; changes go through the sequencer.
#include "replay/seal.h"

#include <cstring>

#include "base/testing.h"
#include "ctl/controller.h"
#include "gtest/gtest.h"
#include "journal/record.h"
#include "journal/verify.h"

namespace almanac::replay {
namespace {

void AddNetwork(ctl::Controller& c, uint64_t nwid) {
  ctl::Command net;
  net.writes = {ctl::ObjectKey::Controller(), ctl::ObjectKey::Network(nwid)};
  net.decide = [nwid](const state::State&, ctl::CommandContext& ctx) {
    ctx.Emit(schema::Body::NetworkCreated, [nwid](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateNetworkCreated(b, nwid).Union();
    });
    return absl::OkStatus();
  };
  ASSERT_TRUE(c.sequencer()->Submit(std::move(net)).ok());
}

struct SealSeen {
  uint64_t seq;
  uint64_t sealed_seq;
};

// Every seal in the journal of `home`, each checked against the chain and the identity.
std::vector<SealSeen> CheckedSeals(const std::string& home, const zt::Identity& id) {
  std::vector<SealSeen> seals;
  std::vector<journal::ChainHash> hashes{journal::kZeroChainHash};
  absl::StatusOr<journal::ChainTip> tip = journal::VerifyJournal(
      home + "/journal", [&](const journal::VerifiedRecord& r) {
        hashes.push_back(r.chain_hash);
        if (const schema::Seal* seal = r.record->body_as_Seal(); seal != nullptr) {
          EXPECT_TRUE(CheckSealSignature(*seal, id).ok()) << "seal at " << r.seq;
          EXPECT_LT(seal->sealed_seq(), r.seq);
          EXPECT_EQ(0, std::memcmp(seal->sealed_hash()->data(),
                                   hashes[seal->sealed_seq()].data(), 32));
          EXPECT_EQ(r.record->actor()->kind(), schema::ActorKind::System);
          seals.push_back({r.seq, seal->sealed_seq()});
        }
        return absl::OkStatus();
      });
  EXPECT_TRUE(tip.ok()) << tip.status();
  return seals;
}

TEST(SealTest, MessageIsMagicSeqAndHash) {
  journal::ChainHash hash;
  for (size_t i = 0; i < hash.size(); ++i) hash[i] = static_cast<uint8_t>(i);
  const auto m = SealMessage(0x0102030405060708ULL, hash);
  ASSERT_EQ(m.size(), 52u);
  EXPECT_EQ(std::string(m.begin(), m.begin() + 12), "almanac-seal");
  for (int i = 0; i < 8; ++i) EXPECT_EQ(m[12 + i], i + 1);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(m[20 + i], i);
}

TEST(SealTest, SealsEveryNRecordsAndVerify) {
  const std::string home = testing::MakeTempDir("seal");
  ctl::ControllerOptions o;
  o.home = home;
  o.snapshot_interval_records = 0;
  o.seal_interval_records = 5;
  o.seal_interval_seconds = 0;
  zt::Identity id;
  {
    auto c = ctl::Controller::Open(o);
    ASSERT_TRUE(c.ok()) << c.status();
    id = (*c)->identity();
    // 15 networks after the (uncounted) init record: a seal after the 5th, 10th and 15th.
    // The seal thread runs on its own and one seal covers every record before it, so a
    // thread that falls behind a burst of 10 writes one seal for both fives: each five
    // waits for its seal.
    for (uint64_t five = 1; five <= 3; ++five) {
      for (uint64_t i = 1; i <= 5; ++i) AddNetwork(**c, 0x949cb95e9d000000ULL + five * 10 + i);
      for (int i = 0; i < 2000 && (*c)->seals_written() < five; ++i) {
        absl::SleepFor(absl::Milliseconds(5));
      }
      ASSERT_EQ((*c)->seals_written(), five);
    }
  }
  const std::vector<SealSeen> seals = CheckedSeals(home, id);
  ASSERT_EQ(seals.size(), 3u);
  EXPECT_GE(seals.back().sealed_seq, 16u);
}

TEST(SealTest, SealsByTimeWhenThereAreNewRecordsOnly) {
  const std::string home = testing::MakeTempDir("seal");
  ctl::ControllerOptions o;
  o.home = home;
  o.snapshot_interval_records = 0;
  o.seal_interval_records = 0;
  o.seal_interval_seconds = 1;
  auto c = ctl::Controller::Open(o);
  ASSERT_TRUE(c.ok()) << c.status();
  AddNetwork(**c, 0x949cb95e9d000001ULL);
  for (int i = 0; i < 1000 && (*c)->seals_written() < 1; ++i) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ((*c)->seals_written(), 1u);
  const uint64_t after_seal = (*c)->journal()->last_seq();
  // Nothing new: no second seal over the next ~2.5 timer periods.
  absl::SleepFor(absl::Milliseconds(2500));
  EXPECT_EQ((*c)->seals_written(), 1u);
  EXPECT_EQ((*c)->journal()->last_seq(), after_seal);
}

TEST(SealTest, ForeignOrAlteredSealFails) {
  const zt::Identity controller = zt::Identity::Generate();
  const zt::Identity other = zt::Identity::Generate();
  journal::ChainHash hash{};
  hash[0] = 7;
  const auto sig = controller.Sign(SealMessage(9, hash));
  auto build = [&](uint64_t seq, const journal::ChainHash& h, const auto& signature) {
    flatbuffers::FlatBufferBuilder b;
    b.Finish(schema::CreateSeal(b, seq, b.CreateVector(h.data(), h.size()),
                                b.CreateVector(signature.data(), signature.size())));
    return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  };
  const std::string good = build(9, hash, sig);
  EXPECT_TRUE(CheckSealSignature(*flatbuffers::GetRoot<schema::Seal>(good.data()), controller).ok());
  EXPECT_EQ(CheckSealSignature(*flatbuffers::GetRoot<schema::Seal>(good.data()), other).code(),
            absl::StatusCode::kDataLoss);
  const std::string moved = build(10, hash, sig);
  EXPECT_FALSE(CheckSealSignature(*flatbuffers::GetRoot<schema::Seal>(moved.data()), controller).ok());
  journal::ChainHash other_hash = hash;
  other_hash[31] ^= 1;
  const std::string rehashed = build(9, other_hash, sig);
  EXPECT_FALSE(
      CheckSealSignature(*flatbuffers::GetRoot<schema::Seal>(rehashed.data()), controller).ok());
}

}  // namespace
}  // namespace almanac::replay
