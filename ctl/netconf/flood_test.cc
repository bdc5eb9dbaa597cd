// Goal: floods from made-up peers cannot grow the responder past its named bounds
// (ctl/zt/limits.h, ctl/netconf/limits.h) or starve members it already knows, and every
// packet a bound turns away is counted. Method: a Responder over a real journal and
// sequencer, driven in-process (the UDP loop's role is played by the test thread):
// (1) the acceptance flood on the real clock with the real identity checker: 5,000 HELLOs
// from made-up identities (real keys, addresses that fail the memory-hard check) over
// about 10 s while 100 known members ask for their config every 2 s; every member gets a
// config at least every 5 s and the process's resident memory grows by less than
// kFloodRssGrowthMax; (2) 10,000 fragment heads that never complete, from 500 sources:
// the reassembly table stays at kReassemblyPacketsMax and every unfinished packet is
// counted once (evicted or expired); (3) 2,000 packets from 1,000 unknown addresses fill
// the WHOIS holding area: it stops at kWhoisWaitingPacketsMax (kWhoisWaitingPerSourceMax
// per address), at most one WHOIS per held address goes to the root, the rest is counted
// as whois_dropped, and everything held expires after kWhoisTimeout.
#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "base/testing.h"
#include "ctl/netconf/hello.h"
#include "ctl/netconf/limits.h"
#include "ctl/netconf/responder.h"
#include "ctl/netconf/test_peers.h"
#include "ctl/state/convert.h"
#include "ctl/zt/dictionary.h"
#include "ctl/zt/fragment.h"
#include "ctl/zt/messages.h"
#include "ctl/zt/wire.h"
#include "gtest/gtest.h"
#include "journal/journal.h"
#include "nlohmann/json.hpp"

namespace almanac::netconf {
namespace {

using nlohmann::json;

// The stated memory bound of the acceptance flood: what the process may grow by while
// 5,000 made-up identities and 100 members talk to it. The responder's own tables are
// bounded far below this (64 identities in the checker, 256 held packets, 64 unfinished
// packets); the rest is allocator slack. Not asserted under sanitizers (ASan keeps freed
// memory in quarantine, up to 256 MB by default).
constexpr size_t kFloodRssGrowthMax = size_t{64} << 20;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// An identity with real keys and an arbitrary address: cheap to make, fails Validate.

// A known member: builds its requests and counts the configs among what it is sent.
class Member {
 public:
  Member(zt::Identity self, const zt::Identity& controller, zt::InetAddress path)
      : self_(std::move(self)), controller_(controller.address()),
        key_(*self_.Agree(controller)), path_(path) {}
  std::string Request(uint64_t nwid) {
    auto p = zt::BuildPacket(zt::RandomPacketId(), controller_, self_.address(),
                             zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(nwid),
                             zt::Cipher::kPoly1305Salsa2012, key_, true);
    EXPECT_TRUE(p.ok());
    return p.ok() ? *p : "";
  }
  int CountConfigs(const std::vector<Datagram>& out) {
    int configs = 0;
    for (const Datagram& d : out) {
      if (!(d.to == path_)) continue;
      auto packet = reassembler_.Add("c", d.bytes, absl::Now());
      if (!packet) continue;
      auto header = zt::ParseHeader(*packet);
      if (!header.ok() || header->destination != self_.address()) continue;
      if (!zt::Dearmor(*packet, key_).ok() || !zt::Uncompress(*packet).ok()) continue;
      if (zt::PacketVerb(*packet) != zt::Verb::kOk) continue;
      auto ok = zt::ParseOk(zt::PacketPayload(*packet));
      configs += ok.ok() && ok->in_re_verb == zt::Verb::kNetworkConfigRequest;
    }
    return configs;
  }
  const zt::Identity& self() const { return self_; }
  const zt::InetAddress& path() const { return path_; }

 private:
  zt::Identity self_;
  uint64_t controller_;
  zt::Key48 key_;
  zt::InetAddress path_;
  zt::Reassembler reassembler_;
};

class FloodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lab_ = json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/lab.json"));
    controller_ = *zt::Identity::FromString(lab_["nodes"]["C"]["secret"].get<std::string>());
    auto journal = journal::Journal::Open(testing::MakeTempDir("flood") + "/journal",
                                          journal::JournalOptions{});
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = std::move(*journal);
    ctl::SequencerOptions options;
    options.clock_ms = [] { return absl::ToUnixMillis(absl::Now()); };
    sequencer_ = std::make_unique<ctl::Sequencer>(journal_.get(), state::State{}, options);
  }
  void TearDown() override {
    responder_.reset();
    sequencer_.reset();
  }
  void StartResponder(zt::World planet = zt::World()) {
    ResponderOptions options;
    options.identity = controller_;
    options.planet = std::move(planet);
    responder_ = std::make_unique<Responder>(std::move(options), sequencer_.get());
  }
  // A network with `members` authorized, written as the admin API would.
  void CreateNetworkWith(uint64_t nwid, const std::vector<std::unique_ptr<Member>>& members) {
    ctl::Command c;
    c.writes = {ctl::ObjectKey::Controller()};
    c.actor.kind = schema::ActorKind::AdminToken;
    c.decide = [&](const state::State&, ctl::CommandContext& ctx) {
      ctx.Emit(schema::Body::NetworkCreated, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateNetworkCreated(
                   b, nwid, state::BuildNetworkConfig(b, state::NetworkConfig()))
            .Union();
      });
      for (const auto& m : members) {
        state::Member sm;
        sm.address = m->self().address();
        sm.identity_public = m->self().public_key();
        sm.has_identity = true;
        std::string text = state::IdentityText(sm);
        ctx.Emit(schema::Body::MemberJoined, [&](flatbuffers::FlatBufferBuilder& b) {
          return schema::CreateMemberJoinedDirect(b, nwid, sm.address, text.c_str()).Union();
        });
        ctx.Emit(schema::Body::MemberAuthorized, [&](flatbuffers::FlatBufferBuilder& b) {
          return schema::CreateMemberAuthorizedDirect(b, nwid, sm.address, "api").Union();
        });
      }
      return absl::OkStatus();
    };
    ASSERT_TRUE(sequencer_->Submit(std::move(c)).ok());
  }

  json lab_;
  zt::Identity controller_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<ctl::Sequencer> sequencer_;
  std::unique_ptr<Responder> responder_;
};

TEST_F(FloodTest, KnownMembersAreAnsweredDuringAFloodOfMadeUpIdentities) {
  absl::BitGen rng;
  const uint64_t nwid = (controller_.address() << 24) | 0x40;
  constexpr int kMembers = 100, kFlood = 5000, kFloodSources = 50;
  const absl::Duration kRun = absl::Seconds(10), kAskEvery = absl::Seconds(2);
  std::vector<std::unique_ptr<Member>> members;
  for (int i = 0; i < kMembers; ++i) {
    members.push_back(std::make_unique<Member>(
        CheapIdentity(0x1000000000ULL + i, /*with_secret=*/true, rng), controller_,
        zt::InetAddress::Ipv4(10, 1, 0, i + 1, 9993)));
  }
  ASSERT_NO_FATAL_FAILURE(CreateNetworkWith(nwid, members));
  StartResponder();
  for (auto& m : members) responder_->AddValidatedPeerForTest(m->self());
  // The flood's HELLOs are made before the clock starts (key generation is the test's
  // cost, not the controller's).
  std::vector<std::string> flood;
  for (int i = 0; i < kFlood; ++i) {
    zt::Key48 junk_key{};
    auto hello = BuildHelloPacket(
        zt::RandomPacketId(), CheapIdentity(0x2000000000ULL + i, false, rng),
        controller_.address(), zt::InetAddress::Ipv4(10, 2, 0, 1, 9993),
        zt::VersionInfo{12, 1, 14, 1}, 1, 0, 0, junk_key);
    ASSERT_TRUE(hello.ok());
    flood.push_back(std::move(*hello));
  }

  const size_t rss_before = ResidentBytes();
  size_t rss_max = rss_before;
  const absl::Time start = absl::Now();
  // Members start staggered over the first 2 s, then ask every 2 s.
  std::vector<absl::Time> next_ask(kMembers), last_config(kMembers, start);
  for (int i = 0; i < kMembers; ++i) next_ask[i] = start + kAskEvery * i / kMembers;
  absl::Duration worst_gap;
  size_t flood_sent = 0;
  absl::Time next_tick = start;
  for (absl::Time now = start; now - start < kRun; now = absl::Now()) {
    // The flood at an even pace: all 5,000 within the first 90% of the run.
    const size_t due = std::min<size_t>(
        kFlood, static_cast<size_t>(kFlood * absl::FDivDuration(now - start, kRun * 0.9)) + 1);
    for (; flood_sent < due; ++flood_sent) {
      responder_->Receive(flood[flood_sent],
                          zt::InetAddress::Ipv4(10, 3, 0, flood_sent % kFloodSources + 1, 9993),
                          now);
    }
    for (int i = 0; i < kMembers; ++i) {
      if (now < next_ask[i]) continue;
      next_ask[i] = now + kAskEvery;
      Member& m = *members[i];
      if (m.CountConfigs(responder_->Receive(m.Request(nwid), m.path(), now)) > 0) {
        worst_gap = std::max(worst_gap, now - last_config[i]);
        last_config[i] = now;
      }
    }
    if (now >= next_tick) {
      responder_->Tick(now);
      next_tick = now + absl::Milliseconds(100);
      rss_max = std::max(rss_max, ResidentBytes());
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  const absl::Time end = absl::Now();
  for (int i = 0; i < kMembers; ++i) worst_gap = std::max(worst_gap, end - last_config[i]);
  ResponderCounters c = responder_->counters();
  std::printf("flood: %zu HELLOs in %s; %llu checked (%llu invalid), %llu throttled; "
              "%llu configs; worst gap %s; RSS %zu -> max %zu KiB\n",
              flood_sent, absl::FormatDuration(end - start).c_str(),
              static_cast<unsigned long long>(c.validate_queued),
              static_cast<unsigned long long>(c.identity_invalid),
              static_cast<unsigned long long>(c.validate_throttled),
              static_cast<unsigned long long>(c.answered_config),
              absl::FormatDuration(worst_gap).c_str(), rss_before >> 10, rss_max >> 10);
  EXPECT_EQ(flood_sent, static_cast<size_t>(kFlood));
  EXPECT_LE(worst_gap, absl::Seconds(5)) << "a known member went unanswered";
  EXPECT_GE(c.answered_config, static_cast<uint64_t>(kMembers * 4));
  EXPECT_GT(c.validate_throttled, 0u);  // the checker's bound was reached
  Responder::TableSizes t = responder_->table_sizes_for_test();
  EXPECT_LE(t.validating, kValidateQueueMax);
  EXPECT_LE(t.held_packets, kWhoisWaitingPacketsMax);
  // Every flood HELLO is accounted for: refused at the door, found invalid, or still
  // with the checker when the run ended.
  responder_->WaitWorkersIdleForTest();
  responder_->Tick(absl::Now());
  c = responder_->counters();
  EXPECT_EQ(c.identity_invalid + c.validate_throttled, static_cast<uint64_t>(kFlood));
  EXPECT_EQ(responder_->table_sizes_for_test().peers, static_cast<size_t>(kMembers));
  if (!kSanitized) {
    EXPECT_LE(rss_max - rss_before, kFloodRssGrowthMax);
  }
}

TEST_F(FloodTest, FragmentsThatNeverCompleteStayBoundedAndCounted) {
  StartResponder();
  absl::BitGen rng;
  // A packet over one datagram, split: only its head is ever sent.
  std::string payload(3000, '\0');
  for (char& ch : payload) ch = static_cast<char>(absl::Uniform<uint8_t>(rng));
  zt::Key48 key{};
  auto big = zt::BuildPacket(1, controller_.address(), 0x3344556677, zt::Verb::kFrame, payload,
                             zt::Cipher::kPoly1305Salsa2012, key, false);
  ASSERT_TRUE(big.ok()) << big.status();
  auto pieces = zt::SplitPacket(*big);
  ASSERT_TRUE(pieces.ok());
  ASSERT_GT(pieces->size(), 1u);
  const std::string head = pieces->front();
  constexpr int kHeads = 10000, kSources = 500;
  absl::Time now = absl::FromUnixMillis(1795818880000);
  for (int i = 0; i < kHeads; ++i) {
    std::string h = head;
    zt::StoreUint(h.data(), 8, 0x1000 + i);  // a new packet id each time
    EXPECT_TRUE(responder_
                    ->Receive(h, zt::InetAddress::Ipv4(10, 6, i % kSources / 250,
                                                       i % kSources % 250 + 1, 9993),
                              now)
                    .empty());
    ASSERT_LE(responder_->table_sizes_for_test().reassembling, zt::kReassemblyPacketsMax);
    if (i % 1000 == 999) now += absl::Milliseconds(100);
  }
  EXPECT_EQ(responder_->table_sizes_for_test().reassembling, zt::kReassemblyPacketsMax);
  // The rest expire; the next datagram from anyone sweeps them.
  now += zt::kReassemblyTimeout + absl::Seconds(1);
  responder_->Receive("x", zt::InetAddress::Ipv4(10, 7, 0, 1, 9993), now);
  EXPECT_EQ(responder_->table_sizes_for_test().reassembling, 0u);
  ResponderCounters c = responder_->counters();
  EXPECT_EQ(c.fragments_dropped, static_cast<uint64_t>(kHeads));
  EXPECT_EQ(c.runts, 1u);
  EXPECT_EQ(c.datagrams, static_cast<uint64_t>(kHeads + 1));
}

TEST_F(FloodTest, UnknownSourcesCannotOverfillTheWhoisQueue) {
  auto planet = zt::ParseWorld(testing::ReadFileOrFail(testing::VectorsDir() + "/planet"));
  ASSERT_TRUE(planet.ok()) << planet.status();
  ASSERT_EQ(planet->roots.size(), 1u);
  const zt::InetAddress root = planet->roots[0].endpoints.at(0);
  StartResponder(*planet);
  absl::Time now = absl::FromUnixMillis(1795818880000);
  responder_->Tick(now);  // the start-up HELLO to the root
  // Requests "from" addresses nobody knows (MACed with a key no one has): each is held
  // while the root is asked who its source is.
  constexpr int kAddresses = 1000, kPerAddress = 2;
  zt::Key48 key{};
  size_t whois_sent = 0;
  for (int i = 0; i < kAddresses; ++i) {
    for (int k = 0; k < kPerAddress; ++k) {
      auto p = zt::BuildPacket(zt::RandomPacketId(), controller_.address(), 0x4400000000ULL + i,
                               zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(1),
                               zt::Cipher::kPoly1305Salsa2012, key, true);
      ASSERT_TRUE(p.ok());
      for (const Datagram& d :
           responder_->Receive(*p, zt::InetAddress::Ipv4(10, 8, i / 250, i % 250 + 1, 9993),
                               now)) {
        whois_sent += d.to == root;
      }
      ASSERT_LE(responder_->table_sizes_for_test().held_packets, kWhoisWaitingPacketsMax);
    }
  }
  // One address alone stops at its own share.
  for (int k = 0; k < 10; ++k) {
    auto p = zt::BuildPacket(zt::RandomPacketId(), controller_.address(), 0x4500000000ULL,
                             zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(1),
                             zt::Cipher::kPoly1305Salsa2012, key, true);
    ASSERT_TRUE(p.ok());
    responder_->Receive(*p, zt::InetAddress::Ipv4(10, 9, 0, 1, 9993), now);
  }
  const uint64_t sent = kAddresses * kPerAddress + 10;
  EXPECT_EQ(responder_->table_sizes_for_test().held_packets, kWhoisWaitingPacketsMax);
  EXPECT_EQ(whois_sent, kWhoisWaitingPacketsMax / kPerAddress);  // one per held address
  ResponderCounters c = responder_->counters();
  EXPECT_EQ(c.whois_queued, kWhoisWaitingPacketsMax);
  EXPECT_EQ(c.whois_dropped, sent - kWhoisWaitingPacketsMax);
  // Nothing is held past the timeout, and every packet was counted once.
  responder_->Tick(now + kWhoisTimeout + absl::Seconds(1));
  EXPECT_EQ(responder_->table_sizes_for_test().held_packets, 0u);
  EXPECT_EQ(responder_->counters().whois_dropped, sent);

  // The per-address bound on an empty queue: 10 packets from one address, 4 held.
  now += kWhoisTimeout + absl::Seconds(2);
  for (int k = 0; k < 10; ++k) {
    auto p = zt::BuildPacket(zt::RandomPacketId(), controller_.address(), 0x4600000000ULL,
                             zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(1),
                             zt::Cipher::kPoly1305Salsa2012, key, true);
    ASSERT_TRUE(p.ok());
    responder_->Receive(*p, zt::InetAddress::Ipv4(10, 9, 0, 2, 9993), now);
  }
  EXPECT_EQ(responder_->table_sizes_for_test().held_packets, kWhoisWaitingPerSourceMax);
}

}  // namespace
}  // namespace almanac::netconf
