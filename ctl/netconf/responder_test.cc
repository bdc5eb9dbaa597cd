// Goal: the responder's receive thread never waits for an identity check or an fsync, and
// its tables stay within the named bounds (limits.h) under a flood. Method: a Responder
// driven in-process with a fake clock over a real journal and sequencer: (1) 5,000 HELLOs
// with made-up identities from 50 sources while 100 known members ask for their config
// every 2 s: each member is answered at least every 5 s, tables stay bounded, every flood
// HELLO is counted; (2) a join that writes events is answered only after the commit, from
// the worker; (3) the captured relayed request (exchange.json packet 27, hops 1) from an
// unknown member is held, WHOISed at the lab's root, and answered to the root's physical
// address once the root answers; roots are HELLOed every few seconds until they answer,
// then every 60 s; (4) deleting a network pushes OBJ_NOT_FOUND; OK(ECHO) is counted; (5) a
// member authorized through the API is pushed a config holding its pool address; (6) a
// member's credentials are reused only while its state is unchanged and they are recent;
// (7) a changed network (rules, routes, name; deleted and recreated) reaches the next push
// and answer through the responder's per-network compiled parts.
#include "ctl/netconf/responder.h"

#include <sodium.h>

#include <map>
#include <memory>
#include <optional>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "base/testing.h"
#include "ctl/netconf/chunk.h"
#include "ctl/netconf/credentials.h"
#include "ctl/netconf/hello.h"
#include "ctl/netconf/limits.h"
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


struct Decoded {
  zt::Verb verb;
  std::string payload;
  uint64_t source;
};

// Plays the far end of one peer: builds its packets and decodes what it receives.
class Far {
 public:
  Far(zt::Identity self, const zt::Identity& controller, zt::InetAddress path)
      : self_(std::move(self)), controller_(controller.address()),
        key_(*self_.Agree(controller)), path_(path) {}
  std::string Packet(zt::Verb verb, std::string_view payload) {
    auto p = zt::BuildPacket(zt::RandomPacketId(), controller_, self_.address(), verb, payload,
                             zt::Cipher::kPoly1305Salsa2012, key_, true);
    EXPECT_TRUE(p.ok());
    return p.ok() ? *p : "";
  }
  // Whole packets addressed to this peer among `out`, decrypted.
  std::vector<Decoded> Take(const std::vector<Datagram>& out) {
    std::vector<Decoded> got;
    for (const Datagram& d : out) {
      if (!(d.to == path_)) continue;
      auto packet = reassembler_.Add("c", d.bytes, absl::Now());
      if (!packet) continue;
      auto header = zt::ParseHeader(*packet);
      if (!header.ok() || header->destination != self_.address()) continue;
      if (header->cipher() == 0) {  // a HELLO: its MAC is all we check
        EXPECT_TRUE(zt::Dearmor(*packet, key_).ok());
      } else if (!zt::Dearmor(*packet, key_).ok() || !zt::Uncompress(*packet).ok()) {
        ADD_FAILURE() << "undecodable packet for " << self_.address();
        continue;
      }
      got.push_back({zt::PacketVerb(*packet), std::string(zt::PacketPayload(*packet)),
                     header->source});
    }
    return got;
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

bool IsConfigOk(const Decoded& d) {
  if (d.verb != zt::Verb::kOk) return false;
  auto ok = zt::ParseOk(d.payload);
  return ok.ok() && ok->in_re_verb == zt::Verb::kNetworkConfigRequest;
}

std::optional<uint8_t> ErrorCode(const Decoded& d) {
  if (d.verb != zt::Verb::kError) return std::nullopt;
  auto e = zt::ParseError(d.payload);
  if (!e.ok()) return std::nullopt;
  return e->code;
}

class ResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lab_ = json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/lab.json"));
    controller_ = *zt::Identity::FromString(lab_["nodes"]["C"]["secret"].get<std::string>());
    auto journal = journal::Journal::Open(testing::MakeTempDir("responder") + "/journal",
                                          journal::JournalOptions{});
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = std::move(*journal);
    ctl::SequencerOptions options;
    options.clock_ms = [this] { return absl::ToUnixMillis(now_); };
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
  // One command emitting every event `emit` makes, as the admin API would.
  absl::Status Admin(std::function<void(ctl::CommandContext&)> emit) {
    ctl::Command c;
    c.writes = {ctl::ObjectKey::Controller()};
    c.actor.kind = schema::ActorKind::AdminToken;
    c.decide = [emit](const state::State&, ctl::CommandContext& ctx) {
      emit(ctx);
      return absl::OkStatus();
    };
    return sequencer_->Submit(std::move(c)).status();
  }
  static void CreateNetwork(ctl::CommandContext& ctx, uint64_t nwid,
                            const state::NetworkConfig& config) {
    ctx.Emit(schema::Body::NetworkCreated, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateNetworkCreated(b, nwid, state::BuildNetworkConfig(b, config)).Union();
    });
  }
  static void AddAuthorizedMember(ctl::CommandContext& ctx, uint64_t nwid,
                                  const zt::Identity& id) {
    state::Member m;
    m.address = id.address();
    m.identity_public = id.public_key();
    m.has_identity = true;
    std::string text = state::IdentityText(m);
    ctx.Emit(schema::Body::MemberJoined, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateMemberJoinedDirect(b, nwid, id.address(), text.c_str()).Union();
    });
    ctx.Emit(schema::Body::MemberAuthorized, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateMemberAuthorizedDirect(b, nwid, id.address(), "api").Union();
    });
  }
  std::vector<Datagram> Receive(const std::string& bytes, const zt::InetAddress& from) {
    return responder_->Receive(bytes, from, now_);
  }
  void ExpectBounded() {
    Responder::TableSizes t = responder_->table_sizes_for_test();
    EXPECT_LE(t.peers, kPeersMax);
    EXPECT_LE(t.held_packets, kWhoisWaitingPacketsMax);
    EXPECT_LE(t.validating, kValidateQueueMax);
    EXPECT_LE(t.joins_in_flight, kJoinsInFlightMax);
    EXPECT_LE(t.rate_limit, kRateLimitEntriesMax);
    EXPECT_LE(t.recent, kRecentMembersMax);
    EXPECT_LE(t.credentials, kCredentialCacheEntriesMax);
    EXPECT_LE(t.network_parts, kNetworkPartsCacheNetworksMax);
  }

  json lab_;
  zt::Identity controller_;
  absl::Time now_ = absl::FromUnixMillis(1795818880000);
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<ctl::Sequencer> sequencer_;
  std::unique_ptr<Responder> responder_;
};

TEST_F(ResponderTest, FloodOfNewIdentitiesDoesNotStarveKnownMembers) {
  const uint64_t seed = absl::Uniform<uint64_t>(absl::BitGen());
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::seed_seq seq{seed};
  absl::BitGen rng(seq);
  const uint64_t nwid = (controller_.address() << 24) | 0x10;
  constexpr int kMembers = 100, kFlood = 5000, kSources = 50;
  std::vector<std::unique_ptr<Far>> members;
  for (int i = 0; i < kMembers; ++i) {
    zt::Identity id = CheapIdentity(0x1000000000ULL + i, /*with_secret=*/true, rng);
    members.push_back(std::make_unique<Far>(
        id, controller_, zt::InetAddress::Ipv4(10, 1, i / 250, i % 250 + 1, 9993)));
  }
  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) {
    CreateNetwork(ctx, nwid, state::NetworkConfig());
    for (auto& m : members) AddAuthorizedMember(ctx, nwid, m->self());
  }).ok());
  StartResponder();
  for (auto& m : members) responder_->AddValidatedPeerForTest(m->self());

  // 20 simulated seconds in 100 ms steps: 25 flood HELLOs per step, and each member asks
  // every 2 s (staggered).
  std::vector<absl::Time> last_answer(kMembers, now_);
  absl::Duration worst_gap;
  int flood_sent = 0;
  const absl::Time start = now_;
  for (int step = 0; step < 200; ++step) {
    now_ = start + absl::Milliseconds(100) * step;
    for (int k = 0; k < kFlood / 200; ++k, ++flood_sent) {
      zt::Identity fake =
          CheapIdentity(0x2000000000ULL + flood_sent, /*with_secret=*/false, rng);
      zt::Key48 junk_key{};
      auto hello = BuildHelloPacket(zt::RandomPacketId(), fake, controller_.address(),
                                    zt::InetAddress::Ipv4(10, 2, 0, 1, 9993),
                                    zt::VersionInfo{12, 1, 14, 1}, 1, 0, 0, junk_key);
      ASSERT_TRUE(hello.ok());
      Receive(*hello, zt::InetAddress::Ipv4(10, 3, 0, flood_sent % kSources + 1, 9993));
    }
    for (int i = step % 20; i < kMembers; i += 20) {
      Far& m = *members[i];
      std::vector<Datagram> out =
          Receive(m.Packet(zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(nwid)), m.path());
      std::vector<Datagram> tick = responder_->Tick(now_);
      out.insert(out.end(), tick.begin(), tick.end());
      for (const Decoded& d : m.Take(out)) {
        if (!IsConfigOk(d)) continue;
        worst_gap = std::max(worst_gap, now_ - last_answer[i]);
        last_answer[i] = now_;
      }
    }
    ExpectBounded();
  }
  for (int i = 0; i < kMembers; ++i) {
    worst_gap = std::max(worst_gap, now_ - last_answer[i]);
  }
  EXPECT_LE(worst_gap, absl::Seconds(5)) << "a known member went unanswered";
  responder_->WaitWorkersIdleForTest();
  responder_->Tick(now_);
  ResponderCounters c = responder_->counters();
  EXPECT_EQ(c.identity_invalid + c.validate_throttled, static_cast<uint64_t>(kFlood));
  EXPECT_GT(c.validate_throttled, 0u);
  EXPECT_EQ(c.answered_config, static_cast<uint64_t>(kMembers * 10));
  EXPECT_EQ(c.answered_direct, c.answered_config);  // no member waited on the sequencer
  EXPECT_EQ(responder_->table_sizes_for_test().peers, static_cast<size_t>(kMembers));
  EXPECT_EQ(responder_->table_sizes_for_test().validating, 0u);
}

// A join that must write (a member new to a private network) is not decided on the receive
// thread: Receive returns nothing, the join worker commits MemberJoined (and the network's
// default capability), and the denial goes out once the commit is done. On a public network
// the answer is a config holding that default capability.
TEST_F(ResponderTest, JoinsThatWriteAreAnsweredAfterTheCommit) {
  absl::BitGen rng;
  const uint64_t closed = (controller_.address() << 24) | 0x20;
  const uint64_t open = (controller_.address() << 24) | 0x21;
  state::NetworkConfig config;
  config.capabilities_json =
      R"([{"id":5,"default":true,"rules":[{"type":"ACTION_ACCEPT"}]},{"id":6,"rules":[]}])";
  state::NetworkConfig public_config = config;
  public_config.private_network = false;
  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) {
    CreateNetwork(ctx, closed, config);
    CreateNetwork(ctx, open, public_config);
  }).ok());
  StartResponder();
  Far m(CheapIdentity(0x3000000001ULL, true, rng), controller_,
        zt::InetAddress::Ipv4(10, 4, 0, 1, 9993));
  responder_->AddValidatedPeerForTest(m.self());

  EXPECT_TRUE(
      Receive(m.Packet(zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(closed)), m.path())
          .empty());
  EXPECT_EQ(responder_->counters().joins_queued, 1u);
  responder_->WaitWorkersIdleForTest();
  std::vector<Decoded> got = m.Take(responder_->Tick(now_));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(ErrorCode(got[0]), static_cast<uint8_t>(zt::ErrorCode::kNetworkAccessDenied));
  EXPECT_TRUE(sequencer_->Read([&](const state::State& s) {
    const state::Member* member = s.FindMember(closed, m.self().address());
    return member != nullptr && member->has_identity &&
           member->config.capabilities == std::vector<uint32_t>{5};
  }));

  // Known now and still not authorized: answered at once, without the sequencer.
  now_ += absl::Seconds(2);
  got = m.Take(
      Receive(m.Packet(zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(closed)), m.path()));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(ErrorCode(got[0]), static_cast<uint8_t>(zt::ErrorCode::kNetworkAccessDenied));
  EXPECT_EQ(responder_->counters().answered_direct, 1u);

  EXPECT_TRUE(
      Receive(m.Packet(zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(open)), m.path())
          .empty());
  responder_->WaitWorkersIdleForTest();
  got = m.Take(responder_->Tick(now_));
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(IsConfigOk(got[0]));
  auto chunk = ParseChunk(zt::ParseOk(got[0].payload)->body);
  ASSERT_TRUE(chunk.ok());
  auto dict = zt::Dictionary::Parse(*AssembleChunks({*chunk}, controller_));
  ASSERT_TRUE(dict.ok());
  size_t used = 0;
  auto cap = ParseCapability(*dict->Get("CAP"), &used);
  ASSERT_TRUE(cap.ok()) << cap.status();
  EXPECT_EQ(cap->id, 5u);
  EXPECT_EQ(used, dict->Get("CAP")->size());  // only the default one
  EXPECT_EQ(responder_->table_sizes_for_test().joins_in_flight, 0u);
}

class RootTest : public ResponderTest {
 protected:
  void SetUp() override {
    ResponderTest::SetUp();
    auto planet = zt::ParseWorld(testing::ReadFileOrFail(testing::VectorsDir() + "/planet"));
    ASSERT_TRUE(planet.ok()) << planet.status();
    ASSERT_EQ(planet->roots.size(), 1u);
    root_endpoint_ = planet->roots[0].endpoints.at(0);
    root_ = std::make_unique<Far>(
        *zt::Identity::FromString(lab_["nodes"]["R"]["secret"].get<std::string>()), controller_,
        root_endpoint_);
    StartResponder(*planet);
  }
  zt::InetAddress root_endpoint_;
  std::unique_ptr<Far> root_;
};

// A root that has not answered yet (it may start after us) is HELLOed again every
// kRootHelloRetryInterval; once its OK(HELLO) arrives, every kRootHelloInterval; if a
// periodic HELLO goes unanswered, back to the short period.
TEST_F(RootTest, RootsAreHelloedUntilTheyAnswerThenEvery60s) {
  uint64_t last_hello_id = 0;
  auto hellos = [&](absl::Time t) {
    int n = 0;
    for (const Decoded& d : root_->Take(responder_->Tick(t))) {
      n += d.verb == zt::Verb::kHello && d.source == controller_.address();
    }
    return n;
  };
  auto root_answers = [&](absl::Time t) {
    now_ = t;
    std::string ok = zt::BuildOkHelloPayload(++last_hello_id, absl::ToUnixMillis(t),
                                             zt::VersionInfo{12, 1, 14, 1}, root_endpoint_);
    EXPECT_TRUE(Receive(root_->Packet(zt::Verb::kOk, ok), root_endpoint_).empty());
  };
  static_assert(kRootHelloRetryInterval < kRootHelloInterval);
  const absl::Time start = now_;
  EXPECT_EQ(hellos(start), 1);
  EXPECT_EQ(hellos(start + absl::Seconds(1)), 0);
  absl::Time t = start + kRootHelloRetryInterval;  // no answer yet: again
  EXPECT_EQ(hellos(t), 1);
  t += kRootHelloRetryInterval;
  EXPECT_EQ(hellos(t), 1);
  root_answers(t + absl::Milliseconds(5));
  t += absl::Milliseconds(5);
  EXPECT_EQ(hellos(t + kRootHelloRetryInterval), 0);
  EXPECT_EQ(hellos(t + absl::Seconds(59)), 0);
  t += kRootHelloInterval;
  EXPECT_EQ(hellos(t), 1);
  EXPECT_EQ(hellos(t + absl::Seconds(1)), 0);
  t += kRootHelloRetryInterval;  // the periodic HELLO went unanswered: short period again
  EXPECT_EQ(hellos(t), 1);
  root_answers(t);
  EXPECT_EQ(hellos(t + kRootHelloRetryInterval), 0);
  EXPECT_EQ(hellos(t + kRootHelloInterval), 1);
  EXPECT_EQ(responder_->counters().malformed, 0u);
}

// exchange.json packet 27: M's first NETWORK_CONFIG_REQUEST, relayed by the root (hops 1)
// before any HELLO from M. The controller WHOISes the root, holds the packet, and once the
// root's OK(WHOIS) brings M's identity (checked on the worker) answers to where the packet
// came from: the root's physical address.
TEST_F(RootTest, RelayedRequestFromUnknownMemberIsAnsweredAfterWhois) {
  const uint64_t nwid = std::stoull(lab_["nwid"].get<std::string>(), nullptr, 16);
  state::NetworkConfig open;
  open.private_network = false;
  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) { CreateNetwork(ctx, nwid, open); }).ok());
  responder_->Tick(now_);  // the start-up HELLO to the root
  json exchange =
      json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/exchange.json"));
  const json& p27 = exchange["packets"][27];
  ASSERT_EQ(p27["hops"], 1);
  ASSERT_EQ(p27["decoded"]["verb"], "NETWORK_CONFIG_REQUEST");
  std::string relayed = absl::HexStringToBytes(p27["udp_payload_hex"].get<std::string>());
  const zt::Identity member =
      *zt::Identity::FromString(lab_["nodes"]["M"]["public"].get<std::string>());

  std::vector<Decoded> to_root = root_->Take(Receive(relayed, root_endpoint_));
  ASSERT_EQ(to_root.size(), 1u);
  ASSERT_EQ(to_root[0].verb, zt::Verb::kWhois);
  EXPECT_EQ(zt::LoadUint(to_root[0].payload.data(), zt::kAddressBytes), member.address());
  EXPECT_EQ(responder_->counters().whois_queued, 1u);
  EXPECT_EQ(responder_->table_sizes_for_test().held_packets, 1u);

  // The root answers; the packet id it refers to is not checked by ZeroTier either.
  std::string ok = zt::BuildOkPayload(zt::Verb::kWhois, 1, member.ToBinary(false));
  EXPECT_TRUE(Receive(root_->Packet(zt::Verb::kOk, ok), root_endpoint_).empty());
  EXPECT_EQ(responder_->table_sizes_for_test().validating, 1u);
  // Checked, then the held request is decided (a public network: events to write), then
  // answered from the join worker's result.
  responder_->WaitWorkersIdleForTest();
  std::vector<Datagram> out = responder_->Tick(now_);
  responder_->WaitWorkersIdleForTest();
  std::vector<Datagram> more = responder_->Tick(now_);
  out.insert(out.end(), more.begin(), more.end());
  ASSERT_FALSE(out.empty());
  // Decrypted with the key M shares with C (computed from C's side: M's secret is not in
  // the lab file): an OK to the request, for M, sent to the root's physical address.
  zt::Key48 key = *controller_.Agree(member);
  zt::Reassembler reassembler;
  int configs = 0;
  for (const Datagram& d : out) {
    EXPECT_TRUE(d.to == root_endpoint_);
    auto packet = reassembler.Add("r", d.bytes, absl::Now());
    if (!packet) continue;
    EXPECT_EQ(zt::ParseHeader(*packet)->destination, member.address());
    ASSERT_TRUE(zt::Dearmor(*packet, key).ok());
    ASSERT_TRUE(zt::Uncompress(*packet).ok());
    Decoded dec{zt::PacketVerb(*packet), std::string(zt::PacketPayload(*packet)), 0};
    if (IsConfigOk(dec)) {
      ++configs;
      EXPECT_EQ(zt::ParseOk(dec.payload)->in_re_packet_id,
                std::stoull(p27["packet_id"].get<std::string>(), nullptr, 16));
    }
  }
  EXPECT_EQ(configs, 1);
  EXPECT_EQ(responder_->counters().answered_config, 1u);
  EXPECT_EQ(responder_->table_sizes_for_test().held_packets, 0u);
  EXPECT_TRUE(sequencer_->Read([&](const state::State& s) {
    const state::Member* m = s.FindMember(nwid, member.address());
    return m != nullptr && m->config.authorized;
  }));
}

TEST_F(RootTest, UnansweredWhoisExpires) {
  json exchange =
      json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/exchange.json"));
  std::string relayed =
      absl::HexStringToBytes(exchange["packets"][27]["udp_payload_hex"].get<std::string>());
  Receive(relayed, root_endpoint_);
  EXPECT_EQ(responder_->table_sizes_for_test().held_packets, 1u);
  responder_->Tick(now_ + kWhoisTimeout + absl::Seconds(1));
  EXPECT_EQ(responder_->table_sizes_for_test().held_packets, 0u);
  EXPECT_EQ(responder_->counters().whois_dropped, 1u);
}

// Authorizing a member through the API on a network with v4AssignMode.zt and pools pushes
// a config that already holds its pool address (ZeroTier's controller assigns at
// authorization): the address is written on a join worker (not in Tick), then pushed, and
// the member never sent another request.
TEST_F(ResponderTest, AuthorizedMemberIsPushedItsPoolAddress) {
  absl::BitGen rng;
  const uint64_t nwid = (controller_.address() << 24) | 0x40;
  state::NetworkConfig config;
  config.v4_assign_zt = true;
  config.routes = {{"10.147.20.0/24", ""}};
  config.ip_assignment_pools = {{"10.147.20.10", "10.147.20.200"}};
  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) { CreateNetwork(ctx, nwid, config); }).ok());
  StartResponder();
  Far m(CheapIdentity(0x3000000003ULL, true, rng), controller_,
        zt::InetAddress::Ipv4(10, 6, 0, 1, 9993));
  responder_->AddValidatedPeerForTest(m.self());
  Receive(m.Packet(zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(nwid)), m.path());
  responder_->WaitWorkersIdleForTest();
  std::vector<Decoded> got = m.Take(responder_->Tick(now_));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(ErrorCode(got[0]), static_cast<uint8_t>(zt::ErrorCode::kNetworkAccessDenied));

  now_ += absl::Milliseconds(300);
  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) {
    ctx.Emit(schema::Body::MemberAuthorized, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateMemberAuthorizedDirect(b, nwid, m.self().address(), "api").Union();
    });
  }).ok());
  EXPECT_TRUE(m.Take(responder_->Tick(now_)).empty());  // the assignment is being written
  EXPECT_EQ(responder_->table_sizes_for_test().joins_in_flight, 1u);
  responder_->WaitWorkersIdleForTest();
  got = m.Take(responder_->Tick(now_));
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].verb, zt::Verb::kNetworkConfig);
  auto chunk = ParseChunk(got[0].payload);
  ASSERT_TRUE(chunk.ok()) << chunk.status();
  auto dict = zt::Dictionary::Parse(*AssembleChunks({*chunk}, controller_));
  ASSERT_TRUE(dict.ok());
  std::string assigned = sequencer_->Read([&](const state::State& s) {
    const state::Member* member = s.FindMember(nwid, m.self().address());
    return member->config.ip_assignments.empty() ? "" : member->config.ip_assignments[0];
  });
  ASSERT_FALSE(assigned.empty()) << "no IpAssigned was written";
  std::string expected_i("\x04", 1);
  for (absl::string_view octet : absl::StrSplit(assigned, '.')) {
    expected_i.push_back(static_cast<char>(std::stoi(std::string(octet))));
  }
  expected_i += std::string("\x00\x18", 2);  // port field: the /24 of the route
  EXPECT_EQ(*dict->Get("I"), expected_i);
  EXPECT_EQ(responder_->counters().pushes, 1u);
  EXPECT_EQ(responder_->table_sizes_for_test().joins_in_flight, 0u);

  // A later change pushes at once: the address is there, nothing more to write.
  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) {
    ctx.Emit(schema::Body::MemberAuthorized, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateMemberAuthorizedDirect(b, nwid, m.self().address(), "api").Union();
    });
  }).ok());
  got = m.Take(responder_->Tick(now_));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].verb, zt::Verb::kNetworkConfig);
  EXPECT_EQ(responder_->table_sizes_for_test().joins_in_flight, 0u);
  EXPECT_EQ(responder_->counters().pushes, 2u);
}

// A member's credentials are signed once and put in its next configs while its state is
// unchanged, for at most kCredentialReuseMax; a change to the member (a new IP) or the
// network, or their age, gets new ones. Every config still verifies (AssembleChunks).
TEST_F(ResponderTest, CredentialsAreReusedWhileTheStateIsUnchanged) {
  absl::BitGen rng;
  const uint64_t nwid = (controller_.address() << 24) | 0x50;
  state::NetworkConfig config;
  config.routes = {{"10.147.20.0/24", ""}};
  Far m(CheapIdentity(0x3000000005ULL, true, rng), controller_,
        zt::InetAddress::Ipv4(10, 7, 0, 1, 9993));
  auto ip = [&](const char* text) {
    return [&, text](ctl::CommandContext& ctx) {
      ctx.Emit(schema::Body::IpAssigned, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateIpAssignedDirect(b, nwid, m.self().address(), text).Union();
      });
    };
  };
  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) {
    CreateNetwork(ctx, nwid, config);
    AddAuthorizedMember(ctx, nwid, m.self());
    ip("10.147.20.5")(ctx);
  }).ok());
  StartResponder();
  responder_->AddValidatedPeerForTest(m.self());
  // The member's C and COO values in the config it gets for a request now.
  auto credentials = [&]() -> std::pair<std::string, std::string> {
    now_ += absl::Seconds(2);  // past the rate limit
    std::vector<Decoded> got = m.Take(
        Receive(m.Packet(zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(nwid)), m.path()));
    EXPECT_EQ(got.size(), 1u);
    if (got.size() != 1 || !IsConfigOk(got[0])) return {};
    auto chunk = ParseChunk(zt::ParseOk(got[0].payload)->body);
    EXPECT_TRUE(chunk.ok());
    if (!chunk.ok()) return {};
    auto bytes = AssembleChunks({*chunk}, controller_);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    auto dict = zt::Dictionary::Parse(bytes.ok() ? *bytes : "");
    EXPECT_TRUE(dict.ok());
    if (!dict.ok() || !dict->Get("C") || !dict->Get("COO")) return {};
    return {std::string(*dict->Get("C")), std::string(*dict->Get("COO"))};
  };
  auto first = credentials();
  ASSERT_FALSE(first.first.empty());
  EXPECT_EQ(credentials(), first);
  EXPECT_EQ(credentials(), first);
  EXPECT_EQ(responder_->table_sizes_for_test().credentials, 1u);

  ASSERT_TRUE(Admin(ip("10.147.20.6")).ok());  // the member changed: new ones
  auto second = credentials();
  EXPECT_NE(second.first, first.first);
  EXPECT_NE(second.second, first.second);
  EXPECT_EQ(credentials(), second);

  now_ += kCredentialReuseMax;  // too old: new ones
  auto third = credentials();
  EXPECT_NE(third.first, second.first);
  EXPECT_EQ(credentials(), third);
  EXPECT_EQ(responder_->counters().answered_config, 7u);
}

// Deleting a network tells its recent members OBJ_NOT_FOUND (as ZeroTier does), and a
// node's OK(ECHO) acknowledging a push is counted, not treated as malformed.
TEST_F(ResponderTest, DeletedNetworkIsObjNotFoundAndEchoAcksAreCounted) {
  absl::BitGen rng;
  const uint64_t nwid = (controller_.address() << 24) | 0x30;
  Far m(CheapIdentity(0x3000000002ULL, true, rng), controller_,
        zt::InetAddress::Ipv4(10, 5, 0, 1, 9993));
  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) {
    CreateNetwork(ctx, nwid, state::NetworkConfig());
    AddAuthorizedMember(ctx, nwid, m.self());
  }).ok());
  StartResponder();
  responder_->AddValidatedPeerForTest(m.self());
  std::vector<Decoded> got = m.Take(
      Receive(m.Packet(zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(nwid)), m.path()));
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(IsConfigOk(got[0]));

  std::string echo_ack;
  zt::AppendUint(echo_ack, 8, nwid);
  zt::AppendUint(echo_ack, 8, 0x1234);
  Receive(m.Packet(zt::Verb::kOk, zt::BuildOkPayload(zt::Verb::kEcho, 77, echo_ack)),
          m.path());
  EXPECT_EQ(responder_->counters().echo_acks, 1u);
  EXPECT_EQ(responder_->counters().malformed, 0u);

  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) {
    ctx.Emit(schema::Body::NetworkDeleted, [&](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateNetworkDeleted(b, nwid).Union();
    });
  }).ok());
  got = m.Take(responder_->Tick(now_));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(ErrorCode(got[0]), static_cast<uint8_t>(zt::ErrorCode::kObjNotFound));
  // And a request for it is OBJ_NOT_FOUND too.
  now_ += absl::Seconds(2);
  got = m.Take(
      Receive(m.Packet(zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(nwid)), m.path()));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(ErrorCode(got[0]), static_cast<uint8_t>(zt::ErrorCode::kObjNotFound));
}

// The (id, value) of each tag credential in a TAG value, in order; {{0, 0}} marks bytes
// that do not parse.
std::vector<std::pair<uint32_t, uint32_t>> TagValues(std::string_view bytes) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  while (!bytes.empty()) {
    size_t used = 0;
    absl::StatusOr<TagCredential> tag = ParseTag(bytes, &used);
    if (!tag.ok() || used == 0) return {{0, 0}};
    out.emplace_back(tag->id, tag->value);
    bytes.remove_prefix(used);
  }
  return out;
}

// Goal: the responder's compiled network parts (NetworkParts) never serve a stale config.
// Method: a member asks, then the network changes (name, route, rules) through the journal:
// the push on the next Tick and the next answer carry the new values; then the network is
// deleted and created again twice in one millisecond with different configs (same revision,
// same creation time): the second push and answer carry the second config, and the same
// for the member's cached credentials (a default tag value). Every config is also compared
// with a fresh BuildConfigDictionary of the state, key by key (apart from C and COO, which
// carry their signing time).
TEST_F(ResponderTest, NetworkChangesReachTheNextAnswerThroughThePartsCache) {
  absl::BitGen rng;
  const uint64_t nwid = (controller_.address() << 24) | 0x60;
  Far m(CheapIdentity(0x3000000006ULL, true, rng), controller_,
        zt::InetAddress::Ipv4(10, 8, 0, 1, 9993));
  state::NetworkConfig config;
  config.name = "before";
  config.routes = {{"10.1.0.0/16", ""}};
  auto change = [&](const state::NetworkConfig& c) {
    return [&, c](ctl::CommandContext& ctx) {
      ctx.Emit(schema::Body::NetworkChanged, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateNetworkChanged(b, nwid, state::BuildNetworkConfig(b, c)).Union();
      });
    };
  };
  ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) {
    CreateNetwork(ctx, nwid, config);
    AddAuthorizedMember(ctx, nwid, m.self());
  }).ok());
  StartResponder();
  responder_->AddValidatedPeerForTest(m.self());
  auto metadata_dict = zt::Dictionary::Parse(ConfigRequestPayload(nwid).substr(10));
  ASSERT_TRUE(metadata_dict.ok());
  const RequestMetadata metadata = ParseRequestMetadata(*metadata_dict);
  // The dictionary in a config answer or push (one chunk), its signature checked.
  auto config_of = [&](const Decoded& d) -> zt::Dictionary {
    std::string_view chunk_bytes = d.payload;
    if (d.verb == zt::Verb::kOk) {
      EXPECT_TRUE(IsConfigOk(d));
      auto ok = zt::ParseOk(d.payload);
      if (!ok.ok()) return {};
      chunk_bytes = ok->body;
    } else {
      EXPECT_EQ(d.verb, zt::Verb::kNetworkConfig);
    }
    auto chunk = ParseChunk(chunk_bytes);
    EXPECT_TRUE(chunk.ok()) << chunk.status();
    if (!chunk.ok()) return {};
    auto bytes = AssembleChunks({*chunk}, controller_);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    auto dict = zt::Dictionary::Parse(bytes.ok() ? *bytes : "");
    EXPECT_TRUE(dict.ok());
    return dict.ok() ? *dict : zt::Dictionary();
  };
  auto ask = [&]() -> zt::Dictionary {
    now_ += absl::Seconds(2);  // past the rate limit
    std::vector<Decoded> got = m.Take(
        Receive(m.Packet(zt::Verb::kNetworkConfigRequest, ConfigRequestPayload(nwid)), m.path()));
    EXPECT_EQ(got.size(), 1u);
    return got.size() == 1 ? config_of(got[0]) : zt::Dictionary();
  };
  // Equal to what the encoder builds from the state without the responder's caches.
  auto expect_fresh = [&](const zt::Dictionary& sent) {
    auto fresh = sequencer_->Read([&](const state::State& s) -> absl::StatusOr<zt::Dictionary> {
      const state::Network* n = s.FindNetwork(nwid);
      const state::Member* member = s.FindMember(nwid, m.self().address());
      if (n == nullptr || member == nullptr) return absl::NotFoundError("gone");
      auto ts = sent.GetUint64("ts");
      return BuildConfigDictionary(
          {n, member, &controller_, ts.ok() ? static_cast<int64_t>(*ts) : 0, metadata});
    });
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    ASSERT_EQ(fresh->size(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
      const auto& [key, value] = sent.entries()[i];
      SCOPED_TRACE(key);
      EXPECT_EQ(fresh->entries()[i].first, key);
      if (key == "C" || key == "COO") continue;
      if (key == "TAG") {  // signed at another time: compare what each tag says
        EXPECT_EQ(TagValues(fresh->entries()[i].second), TagValues(value));
        continue;
      }
      EXPECT_EQ(fresh->entries()[i].second, value);
    }
  };
  auto routes = [](const zt::Dictionary& d) { return std::string(d.Get("RT").value_or("")); };
  auto rules = [](const zt::Dictionary& d) { return std::string(d.Get("R").value_or("")); };

  zt::Dictionary first = ask();
  EXPECT_EQ(first.Get("n").value_or(""), "before");
  expect_fresh(first);
  EXPECT_EQ(responder_->table_sizes_for_test().network_parts, 1u);
  zt::Dictionary again = ask();  // from the cache
  EXPECT_EQ(routes(again), routes(first));
  EXPECT_EQ(rules(again), rules(first));
  expect_fresh(again);

  config.name = "after";
  config.routes = {{"10.2.0.0/16", ""}};
  config.rules_json = R"([{"type":"MATCH_ETHERTYPE","not":true,"etherType":2048},)"
                      R"({"type":"ACTION_DROP"},{"type":"ACTION_ACCEPT"}])";
  ASSERT_TRUE(Admin(change(config)).ok());
  std::vector<Decoded> pushed = m.Take(responder_->Tick(now_));
  ASSERT_EQ(pushed.size(), 1u);
  zt::Dictionary push = config_of(pushed[0]);
  EXPECT_EQ(push.Get("n").value_or(""), "after");
  EXPECT_NE(routes(push), routes(first));
  EXPECT_NE(rules(push), rules(first));
  expect_fresh(push);
  zt::Dictionary second = ask();
  EXPECT_EQ(second.Get("n").value_or(""), "after");
  EXPECT_EQ(routes(second), routes(push));
  EXPECT_EQ(rules(second), rules(push));
  EXPECT_EQ(*second.GetUint64("r"), *first.GetUint64("r") + 1);
  expect_fresh(second);

  // Deleted and created again, twice in the same millisecond with different configs: both
  // recreations have revision 1 and the same creation time, so only the config tells the
  // second from the first, whose parts the push just cached.
  auto recreate = [&](const state::NetworkConfig& c) {
    ASSERT_TRUE(Admin([&](ctl::CommandContext& ctx) {
      ctx.Emit(schema::Body::NetworkDeleted, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateNetworkDeleted(b, nwid).Union();
      });
      CreateNetwork(ctx, nwid, c);
      AddAuthorizedMember(ctx, nwid, m.self());
    }).ok());
  };
  auto push_now = [&]() -> zt::Dictionary {
    std::vector<Decoded> got = m.Take(responder_->Tick(now_));
    EXPECT_EQ(got.size(), 1u);
    return got.size() == 1 ? config_of(got[0]) : zt::Dictionary();
  };
  state::NetworkConfig other = config;
  other.name = "recreated";
  other.rules_json = "";
  recreate(other);
  zt::Dictionary third = push_now();
  EXPECT_EQ(third.Get("n").value_or(""), "recreated");
  EXPECT_EQ(rules(third), rules(first));
  EXPECT_EQ(*third.GetUint64("r"), 1u);
  expect_fresh(third);
  other.name = "recreated again";
  other.routes = {{"10.3.0.0/16", ""}};
  recreate(other);
  zt::Dictionary fourth = push_now();
  EXPECT_EQ(fourth.Get("n").value_or(""), "recreated again");
  EXPECT_NE(routes(fourth), routes(third));
  EXPECT_EQ(*fourth.GetUint64("r"), 1u);
  expect_fresh(fourth);
  zt::Dictionary fifth = ask();
  EXPECT_EQ(fifth.Get("n").value_or(""), "recreated again");
  EXPECT_EQ(routes(fifth), routes(fourth));
  expect_fresh(fifth);
  EXPECT_EQ(responder_->table_sizes_for_test().network_parts, 1u);

  // The member's signed credentials are cached too (reused for two minutes). Recreated
  // twice in the same millisecond with a different default tag value, network and member
  // have the same creation times and revisions both times; the answer must carry the
  // second tag value (expect_fresh compares TAG), not the credentials signed for the first.
  using Tags = std::vector<std::pair<uint32_t, uint32_t>>;
  other.tags_json = R"([{"id":10,"default":5}])";
  recreate(other);
  zt::Dictionary tagged = push_now();
  EXPECT_EQ(TagValues(tagged.Get("TAG").value_or("")), (Tags{{10, 5}}));
  expect_fresh(tagged);
  other.tags_json = R"([{"id":10,"default":7}])";
  recreate(other);
  zt::Dictionary retagged = push_now();
  EXPECT_EQ(TagValues(retagged.Get("TAG").value_or("")), (Tags{{10, 7}}));
  expect_fresh(retagged);
  zt::Dictionary asked = ask();  // may reuse the credentials just signed: they are current
  EXPECT_EQ(TagValues(asked.Get("TAG").value_or("")), (Tags{{10, 7}}));
  expect_fresh(asked);
}

}  // namespace
}  // namespace almanac::netconf
