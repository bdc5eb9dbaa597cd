// Armor, compression and reassembly against the real 1.14.1 captures: every datagram of
// exchange.json and fragmented/exchange.json is received as a node would receive it,
// every cipher 0/1 packet must dearmor with the recorded pair key to the recorded
// plaintext and re-armor to its wire bytes, cipher 3 is set aside, and damaged packets
// must be refused.
#include "ctl/zt/packet.h"

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "ctl/zt/fragment.h"
#include "ctl/zt/messages.h"
#include "ctl/zt/wire_testing.h"
#include "gtest/gtest.h"

namespace almanac::zt {
namespace {

using ::almanac::zt::testing::FromHex;
using ::almanac::zt::testing::LoadVectorJson;
using ::almanac::zt::testing::PairKey;
using ::almanac::zt::testing::ToHex;
using json = nlohmann::json;

struct Received {
  std::string packet;  // Whole or reassembled wire bytes.
  const json* entry;   // The datagram that produced it (it carries "decoded").
};

// Receives every datagram with one Reassembler per receiving endpoint, keyed by sender,
// the way a node would. Fills *stats with the sum over receivers.
std::vector<Received> ReceiveAll(const json& exchange, Reassembler::Stats* stats) {
  std::map<std::string, std::unique_ptr<Reassembler>> receivers;
  std::vector<Received> out;
  for (const json& d : exchange["packets"]) {
    auto& r = receivers[d["dst"].get<std::string>()];
    if (!r) r = std::make_unique<Reassembler>();
    const absl::Time now = absl::FromUnixMicros(
        static_cast<int64_t>(d["time"].get<double>() * 1e6));
    std::optional<std::string> packet =
        r->Add(d["src"].get<std::string>(), FromHex(d["udp_payload_hex"].get<std::string>()),
               now);
    if (packet.has_value()) out.push_back({*std::move(packet), &d});
  }
  *stats = {};
  for (const auto& [name, r] : receivers) {
    const Reassembler::Stats& s = r->stats();
    stats->packets_whole += s.packets_whole;
    stats->packets_completed += s.packets_completed;
    stats->runts += s.runts;
    stats->oversized += s.oversized;
    stats->inconsistent += s.inconsistent;
    stats->duplicates += s.duplicates;
    stats->expired_packets += s.expired_packets;
    stats->evicted_packets += s.evicted_packets;
  }
  return out;
}

Key48 KeyFor(const json& exchange, const json& decoded) {
  return PairKey(exchange, decoded["src_zt"].get<std::string>(),
                 decoded["dst_zt"].get<std::string>());
}

class CaptureTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    exchange_ = LoadVectorJson(GetParam());
    ASSERT_TRUE(exchange_.is_object());
    received_ = ReceiveAll(exchange_, &stats_);
  }
  json exchange_;
  std::vector<Received> received_;
  Reassembler::Stats stats_;
};

TEST_P(CaptureTest, ReassemblyMatchesTheCapture) {
  size_t wholes = 0, completions = 0, runts = 0;
  for (const json& d : exchange_["packets"]) {
    const std::string kind = d["kind"];
    wholes += kind == "packet";
    runts += kind == "runt";
    completions += d.contains("completes_packet");
  }
  EXPECT_EQ(stats_.packets_whole, wholes);
  EXPECT_EQ(stats_.packets_completed, completions);
  EXPECT_EQ(stats_.runts, runts);
  EXPECT_GE(runts, 1u);  // The 4-byte hole-punch datagram.
  EXPECT_EQ(stats_.oversized + stats_.inconsistent + stats_.duplicates, 0u);
  EXPECT_EQ(stats_.expired_packets + stats_.evicted_packets, 0u);
  ASSERT_EQ(received_.size(), wholes + completions);
  for (const Received& r : received_) {
    const json& d = *r.entry;
    absl::StatusOr<PacketHeader> h = ParseHeader(r.packet);
    ASSERT_TRUE(h.ok()) << d["index"];
    if (d.contains("completes_packet")) {
      const json& c = d["completes_packet"];
      EXPECT_EQ(r.packet.size(), c["reassembled_len"].get<size_t>()) << d["index"];
      EXPECT_EQ(ToHex(r.packet.substr(0, 8)), c["packet_id"]) << d["index"];
      EXPECT_TRUE(h->fragmented());
    } else {
      EXPECT_EQ(ToHex(r.packet), d["udp_payload_hex"]) << d["index"];
      EXPECT_FALSE(h->fragmented());
    }
  }
}

TEST_P(CaptureTest, Cipher01DearmorToRecordedPlaintextAndReArmorToWire) {
  size_t checked = 0, set_aside = 0;
  for (const Received& r : received_) {
    const json& d = *r.entry;
    ASSERT_TRUE(d.contains("decoded")) << d["index"];
    const json& decoded = d["decoded"];
    ASSERT_TRUE(decoded["mac_verified"].get<bool>());
    const Key48 key = KeyFor(exchange_, decoded);
    std::string packet = r.packet;
    const int cipher = decoded["cipher"];
    absl::Status s = Dearmor(packet, key);
    if (cipher == 3) {
      EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << d["index"];
      EXPECT_EQ(packet, r.packet);
      ++set_aside;
      continue;
    }
    ASSERT_TRUE(s.ok()) << d["index"] << " " << s;
    std::string rearmored = packet;
    Armor(rearmored, key, cipher);
    EXPECT_EQ(ToHex(rearmored), ToHex(r.packet)) << d["index"];

    ASSERT_TRUE(Uncompress(packet).ok()) << d["index"];
    EXPECT_EQ(PacketVerb(packet), static_cast<Verb>(decoded["verb_code"].get<int>()));
    if (PacketVerb(packet) == Verb::kHello) {
      absl::StatusOr<Hello> hello = ParseHello(packet);
      ASSERT_TRUE(hello.ok()) << hello.status();
      CryptHelloTail(packet, hello->tail_offset, key);
    }
    EXPECT_EQ(ToHex(packet.substr(kVerbOffset)), decoded["payload_plain_hex"]) << d["index"];
    ++checked;
  }
  // Each capture has 8 HELLOs, 3 OK(HELLO)s, 2 first requests and 6 MULTICAST_LIKEs
  // under suites 0 and 1; the rest is suite 3.
  EXPECT_EQ(checked, 19u);
  EXPECT_GT(set_aside, 0u);
}

TEST_P(CaptureTest, BuildPacketReproducesUncompressedWirePackets) {
  size_t rebuilt = 0;
  for (const Received& r : received_) {
    const json& decoded = (*r.entry)["decoded"];
    const int cipher = decoded["cipher"];
    if (cipher == 3) continue;
    const Key48 key = KeyFor(exchange_, decoded);
    std::string plain = r.packet;
    ASSERT_TRUE(Dearmor(plain, key).ok());
    absl::StatusOr<PacketHeader> h = ParseHeader(r.packet);
    ASSERT_TRUE(h.ok());
    const bool compressed = decoded["compressed"];
    absl::StatusOr<std::string> built =
        BuildPacket(h->packet_id, h->destination, h->source, PacketVerb(plain),
                    PacketPayload(plain), static_cast<Cipher>(cipher), key, false);
    ASSERT_TRUE(built.ok()) << built.status();
    if (!compressed && h->hops() == 0) {
      EXPECT_EQ(ToHex(*built), ToHex(r.packet)) << (*r.entry)["index"];
      ++rebuilt;
    }
    if (compressed) {
      // Our LZ4 need not match the node's byte for byte; the plaintext must round-trip.
      ASSERT_TRUE(Uncompress(plain).ok());
      absl::StatusOr<std::string> again =
          BuildPacket(h->packet_id, h->destination, h->source, PacketVerb(plain),
                      PacketPayload(plain), static_cast<Cipher>(cipher), key, true);
      ASSERT_TRUE(again.ok());
      EXPECT_LT(again->size(), plain.size());
      ASSERT_TRUE(Dearmor(*again, key).ok());
      ASSERT_TRUE(Uncompress(*again).ok());
      EXPECT_EQ(again->substr(0, kFlagsOffset), plain.substr(0, kFlagsOffset));
      EXPECT_EQ(again->substr(kVerbOffset), plain.substr(kVerbOffset));
    }
  }
  EXPECT_GE(rebuilt, 10u);
}

TEST_P(CaptureTest, AnySingleByteChangeOfACipher1PacketFailsTheMac) {
  size_t packets = 0;
  for (const Received& r : received_) {
    const json& decoded = (*r.entry)["decoded"];
    if (decoded["cipher"] != 1) continue;
    const Key48 key = KeyFor(exchange_, decoded);
    ++packets;
    for (size_t i = 0; i < r.packet.size(); ++i) {
      std::string bad = r.packet;
      // In the flags byte only the hops are outside the MAC: flip the fragmented bit.
      bad[i] = static_cast<char>(bad[i] ^ (i == kFlagsOffset ? kFlagFragmented : 0x01));
      EXPECT_FALSE(Dearmor(bad, key).ok()) << (*r.entry)["index"] << " byte " << i;
    }
    std::string relayed = r.packet;
    relayed[kFlagsOffset] = static_cast<char>(relayed[kFlagsOffset] ^ 0x03);
    EXPECT_TRUE(Dearmor(relayed, key).ok()) << "hops are not authenticated";
    Key48 wrong = key;
    wrong[47] ^= 1;  // Bytes 32..47 of key48 do not enter suites 0/1.
    std::string same = r.packet;
    EXPECT_TRUE(Dearmor(same, wrong).ok());
    wrong[0] ^= 1;
    EXPECT_EQ(Dearmor(same, wrong).code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(packets, 11u);
}

TEST_P(CaptureTest, TruncatedPacketsAreRefused) {
  for (const Received& r : received_) {
    const json& decoded = (*r.entry)["decoded"];
    if (decoded["cipher"] == 3) continue;
    const Key48 key = KeyFor(exchange_, decoded);
    for (size_t n = 0; n < r.packet.size(); ++n) {
      std::string cut = r.packet.substr(0, n);
      absl::Status s = Dearmor(cut, key);
      EXPECT_FALSE(s.ok()) << n;
      if (n < kPacketBytesMin) {
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      }
      EXPECT_FALSE(ParseHeader(cut).ok() && n < kPacketBytesMin);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Captures, CaptureTest,
                         ::testing::Values("exchange.json", "fragmented/exchange.json"));

TEST(PacketTest, GarbageNeverCrashes) {
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  Key48 key{};
  size_t ok = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (Dearmor(bytes, key).ok()) ++ok;
    if (bytes.size() >= kPacketBytesMin) {
      (void)Uncompress(bytes);
      (void)ParseHello(bytes);
    }
  }
  EXPECT_EQ(ok, 0u) << "seed " << seed;
}

TEST(PacketTest, HostileLz4BlockIsBounded) {
  Key48 key{};
  // A payload of 20000 zero bytes compresses to a tiny block that expands beyond
  // kPayloadPlainBytesMax: it must be refused, not decompressed.
  std::string packet(kPayloadOffset, '\0');
  packet.append(20000, '\0');
  ASSERT_TRUE(Compress(packet));
  ASSERT_LT(packet.size(), kDatagramBytesMax);
  Armor(packet, key, 1);
  ASSERT_TRUE(Dearmor(packet, key).ok());
  const std::string before = packet;
  EXPECT_EQ(Uncompress(packet).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(packet, before);
}

TEST(PacketTest, BuildPacketRefusesWhatNodesCannotTake) {
  Key48 key{};
  EXPECT_EQ(BuildPacket(1, 2, 3, Verb::kOk, "x", Cipher::kAesGmacSiv, key, false)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  const std::string big(kPacketBytesMax - kPayloadOffset + 1, 'a');
  EXPECT_EQ(BuildPacket(1, 2, 3, Verb::kOk, big, Cipher::kPoly1305Salsa2012, key, true)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> fits = BuildPacket(
      1, 2, 3, Verb::kOk, big.substr(1), Cipher::kPoly1305Salsa2012, key, false);
  ASSERT_TRUE(fits.ok());
  EXPECT_EQ(fits->size(), kPacketBytesMax);
  EXPECT_TRUE(ParseHeader(*fits)->fragmented());
  EXPECT_TRUE(Dearmor(*fits, key).ok());
}

}  // namespace
}  // namespace almanac::zt
