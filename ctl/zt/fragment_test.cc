// SplitPacket and Reassembler: round trips in any order, and every kind of bad piece is
// dropped and counted; the table stays within its limits. Seeds are printed.
#include "ctl/zt/fragment.h"

#include <algorithm>
#include <random>
#include <string>

#include "ctl/zt/packet.h"
#include "gtest/gtest.h"

namespace almanac::zt {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

std::string BigPacket(uint64_t id, size_t payload_bytes, std::mt19937& rng) {
  std::string payload(payload_bytes, '\0');
  for (char& c : payload) c = static_cast<char>(rng());  // Incompressible.
  Key48 key{};
  absl::StatusOr<std::string> p = BuildPacket(id, 0x1122334455, 0x2233445566, Verb::kOk,
                                              payload, Cipher::kPoly1305Salsa2012, key, true);
  EXPECT_TRUE(p.ok());
  return p.ok() ? *p : std::string();
}

TEST(FragmentTest, SplitAndReassembleInAnyOrder) {
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  for (size_t bytes : {100u, 1404u, 1405u, 2000u, 5000u, 9900u}) {
    const std::string packet = BigPacket(bytes, bytes, rng);
    absl::StatusOr<std::vector<std::string>> pieces = SplitPacket(packet);
    ASSERT_TRUE(pieces.ok());
    EXPECT_EQ(pieces->size(),
              packet.size() <= kDatagramBytesMax
                  ? 1u
                  : 1 + (packet.size() - kDatagramBytesMax + 1415) / 1416);
    for (const std::string& p : *pieces) EXPECT_LE(p.size(), kDatagramBytesMax);
    std::shuffle(pieces->begin(), pieces->end(), rng);
    Reassembler r;
    std::optional<std::string> whole;
    for (size_t i = 0; i < pieces->size(); ++i) {
      whole = r.Add("a", (*pieces)[i], kT0);
      EXPECT_EQ(whole.has_value(), i + 1 == pieces->size()) << "seed " << seed;
    }
    ASSERT_TRUE(whole.has_value());
    EXPECT_EQ(*whole, packet);
    Key48 key{};
    EXPECT_TRUE(Dearmor(*whole, key).ok());
    EXPECT_EQ(r.packets_pending(), 0u);
  }
}

TEST(FragmentTest, SplitRefusesPacketsWithoutTheFlag) {
  std::string packet(2000, '\0');
  EXPECT_FALSE(SplitPacket(packet).ok());
  EXPECT_FALSE(SplitPacket(std::string(10, '\0')).ok());
  EXPECT_FALSE(SplitPacket(std::string(kPacketBytesMax + 1, '\x40')).ok());
}

TEST(FragmentTest, BadPiecesAreDroppedAndCounted) {
  std::mt19937 rng(7);
  const std::string packet = BigPacket(42, 5000, rng);
  std::vector<std::string> pieces = *SplitPacket(packet);
  ASSERT_EQ(pieces.size(), 4u);
  Reassembler r;
  EXPECT_FALSE(r.Add("a", "\x01\x02\x03\x04", kT0).has_value());
  EXPECT_FALSE(r.Add("a", std::string(20, '\x01'), kT0).has_value());  // < 28, no 0xff.
  EXPECT_EQ(r.stats().runts, 2u);

  EXPECT_FALSE(r.Add("a", pieces[1], kT0).has_value());
  EXPECT_FALSE(r.Add("a", pieces[1], kT0).has_value());
  EXPECT_EQ(r.stats().duplicates, 1u);

  std::string other_total = pieces[2];
  other_total[14] = static_cast<char>((5 << 4) | 2);
  EXPECT_FALSE(r.Add("a", other_total, kT0).has_value());
  std::string number_zero = pieces[2];
  number_zero[14] = static_cast<char>(4 << 4);
  EXPECT_FALSE(r.Add("a", number_zero, kT0).has_value());
  std::string too_many = pieces[2];
  too_many[14] = static_cast<char>((8 << 4) | 2);
  EXPECT_FALSE(r.Add("a", too_many, kT0).has_value());
  EXPECT_EQ(r.stats().inconsistent, 3u);

  EXPECT_FALSE(r.Add("a", std::string(kPacketBytesMax + 1, '\0'), kT0).has_value());
  EXPECT_EQ(r.stats().oversized, 1u);

  // Another source's pieces of the same id are kept apart.
  EXPECT_FALSE(r.Add("b", pieces[0], kT0).has_value());
  EXPECT_EQ(r.packets_pending(), 2u);

  // The rest completes the packet for "a" despite the noise.
  EXPECT_FALSE(r.Add("a", pieces[0], kT0).has_value());
  EXPECT_FALSE(r.Add("a", pieces[3], kT0).has_value());
  std::optional<std::string> whole = r.Add("a", pieces[2], kT0);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(*whole, packet);
  EXPECT_EQ(r.stats().packets_completed, 1u);
}

TEST(FragmentTest, OversizedPiecesDropThePacket) {
  std::mt19937 rng(8);
  std::vector<std::string> pieces = *SplitPacket(BigPacket(9, 3000, rng));
  Reassembler r;
  std::string fat = pieces[1];
  fat.append(kPacketBytesMax - 2000, 'x');  // Fits alone; not with the head.
  ASSERT_LE(fat.size(), kPacketBytesMax);
  EXPECT_FALSE(r.Add("a", pieces[0], kT0).has_value());
  EXPECT_FALSE(r.Add("a", fat, kT0).has_value());
  EXPECT_EQ(r.stats().oversized, 1u);
  EXPECT_EQ(r.packets_pending(), 0u);
}

TEST(FragmentTest, StalePacketsExpire) {
  std::mt19937 rng(9);
  const std::vector<std::string> pieces = *SplitPacket(BigPacket(10, 3000, rng));
  Reassembler r;
  EXPECT_FALSE(r.Add("a", pieces[0], kT0).has_value());
  EXPECT_FALSE(r.Add("a", pieces[1], kT0 + kReassemblyTimeout).has_value());
  EXPECT_EQ(r.stats().expired_packets, 0u);
  // Past the timeout the held pieces are gone: the last piece starts a new entry.
  EXPECT_FALSE(
      r.Add("a", pieces[2], kT0 + kReassemblyTimeout + absl::Milliseconds(1)).has_value());
  EXPECT_EQ(r.stats().expired_packets, 1u);
  EXPECT_EQ(r.packets_pending(), 1u);
}

TEST(FragmentTest, TableLimitsHold) {
  std::mt19937 rng(10);
  const std::string head = SplitPacket(BigPacket(11, 3000, rng))->front();
  Reassembler r;
  auto with_id = [&](uint64_t id) {
    std::string h = head;
    for (int i = 0; i < 8; ++i) h[i] = static_cast<char>(id >> (8 * (7 - i)));
    return h;
  };
  // One source cannot hold more than its share.
  for (uint64_t id = 1; id <= 3 * kReassemblyPacketsPerSourceMax; ++id) {
    EXPECT_FALSE(r.Add("greedy", with_id(id), kT0).has_value());
    EXPECT_LE(r.packets_pending(), kReassemblyPacketsPerSourceMax);
  }
  EXPECT_EQ(r.stats().evicted_packets, 2 * kReassemblyPacketsPerSourceMax);
  // Many sources together cannot exceed the table.
  for (uint64_t id = 1; id <= 2 * kReassemblyPacketsMax; ++id) {
    EXPECT_FALSE(r.Add(std::to_string(id), with_id(id), kT0).has_value());
    EXPECT_LE(r.packets_pending(), kReassemblyPacketsMax);
  }
  EXPECT_EQ(r.packets_pending(), kReassemblyPacketsMax);
}

TEST(FragmentTest, GarbageNeverCrashes) {
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  Reassembler r;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? 0xff : rng());
    if (bytes.size() > 14 && rng() % 2) bytes[13] = '\xff';
    (void)r.Add(std::to_string(rng() % 5), bytes, kT0 + absl::Milliseconds(i));
    ASSERT_LE(r.packets_pending(), kReassemblyPacketsMax) << "seed " << seed;
  }
}

}  // namespace
}  // namespace almanac::zt
