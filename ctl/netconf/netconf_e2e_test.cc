// Goal: a ZeroTier node talking to Almanac over UDP on loopback gets the answers a real
// controller gives. Method: a simulated node (member M's identity from the vectors, to skip
// identity generation) HELLOs the controller (C's identity) and asks for an unknown network
// (OBJ_NOT_FOUND), a private network (NETWORK_ACCESS_DENIED, and a MemberJoined is in the
// journal), is authorized through the sequencer as the API would, is pushed a config with
// its pool address within 2 s, then asks and gets it with its routes and rules; a second
// request within a second is not answered; it is deauthorized and hears about it within
// 2 s; junk, truncated, replayed and wrongly-MACed packets are dropped and counted. The server's clock is a fake the test advances.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/testing.h"
#include "ctl/net/ip.h"
#include "ctl/netconf/chunk.h"
#include "ctl/netconf/hello.h"
#include "ctl/netconf/limits.h"
#include "ctl/netconf/udp_server.h"
#include "ctl/sequencer.h"
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

struct Reply {
  zt::Verb verb;
  std::string payload;
  uint64_t packet_id;
};

class Node {
 public:
  Node(zt::Identity self, zt::Identity controller, uint16_t port)
      : self_(self), controller_(controller), key_(*self.Agree(controller)) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    timeval tv{0, 200 * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    server_.sin_family = AF_INET;
    server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_.sin_port = htons(port);
  }
  ~Node() { close(fd_); }

  void SendRaw(const std::string& bytes) {
    ASSERT_EQ(sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&server_),
                     sizeof(server_)),
              static_cast<ssize_t>(bytes.size()));
  }
  std::string Packet(zt::Verb verb, const std::string& payload) {
    auto p = zt::BuildPacket(zt::RandomPacketId(), controller_.address(), self_.address(), verb,
                             payload, zt::Cipher::kPoly1305Salsa2012, key_, true);
    EXPECT_TRUE(p.ok());
    return p.ok() ? *p : "";
  }
  std::string Hello() {
    auto p = BuildHelloPacket(zt::RandomPacketId(), self_, controller_.address(),
                              zt::InetAddress::Ipv4(127, 0, 0, 1, ntohs(server_.sin_port)),
                              zt::VersionInfo{12, 1, 14, 1}, 1795818880000, 0, 0, key_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : "";
  }
  static std::string RequestPayload(uint64_t nwid) {
    zt::Dictionary d;
    for (auto [k, v] : std::vector<std::pair<const char*, uint64_t>>{
             {"v", 7}, {"vend", 1}, {"pv", 12}, {"majv", 1}, {"minv", 14}, {"revv", 1},
             {"mr", 1024}, {"mc", 128}, {"mcr", 64}, {"mt", 128}, {"f", 0}, {"revr", 1}}) {
      EXPECT_TRUE(d.SetUint64(k, v).ok());
    }
    EXPECT_TRUE(d.Set("o", "linux/x86_64").ok());
    std::string meta = d.Encode();
    std::string p;
    zt::AppendUint(p, 8, nwid);
    zt::AppendUint(p, 2, meta.size());
    p += meta;
    // have revision(8) and have timestamp(8), both zero. (AppendUint takes at most 8 bytes:
    // one call with a width of 16 was undefined behaviour, found by the UBSan pass.)
    zt::AppendUint(p, 8, 0);
    zt::AppendUint(p, 8, 0);
    return p;
  }
  std::string Request(uint64_t nwid) {
    return Packet(zt::Verb::kNetworkConfigRequest, RequestPayload(nwid));
  }
  // The next whole packet from the controller, decrypted; nullopt after `tries` timeouts.
  std::optional<Reply> Receive(int tries = 10) {
    std::string buf(2000, '\0');
    for (int i = 0; i < tries; ++i) {
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0) continue;
      auto packet = reassembler_.Add("c", std::string_view(buf.data(), n), absl::Now());
      if (!packet) continue;
      if (!zt::Dearmor(*packet, key_).ok() || !zt::Uncompress(*packet).ok()) return std::nullopt;
      return Reply{zt::PacketVerb(*packet), std::string(zt::PacketPayload(*packet)),
                   zt::ParseHeader(*packet)->packet_id};
    }
    return std::nullopt;
  }

 private:
  zt::Identity self_, controller_;
  zt::Key48 key_;
  int fd_;
  sockaddr_in server_{};
  zt::Reassembler reassembler_;
};

class NetconfE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json lab = json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/lab.json"));
    controller_ = *zt::Identity::FromString(lab["nodes"]["C"]["secret"].get<std::string>());
    member_ = *zt::Identity::FromString(lab["nodes"]["M"]["secret"].get<std::string>());
    nwid_ = (controller_.address() << 24) | 0x7ceef9;
    auto journal = journal::Journal::Open(testing::MakeTempDir("netconf") + "/journal",
                                          journal::JournalOptions{});
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = std::move(*journal);
    ctl::SequencerOptions options;
    options.clock_ms = [this] { return absl::ToUnixMillis(now_.load()); };
    sequencer_ = std::make_unique<ctl::Sequencer>(journal_.get(), state::State{}, options);
    NetconfOptions netconf;
    netconf.listen = "127.0.0.1:0";
    netconf.clock = [this] { return now_.load(); };
    auto server = StartNetconf(netconf, sequencer_.get(), controller_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_TRUE(Submit(schema::Body::NetworkCreated, [this](flatbuffers::FlatBufferBuilder& b) {
      state::NetworkConfig c;
      c.name = "e2e";
      c.v4_assign_zt = true;
      c.routes = {{"10.147.20.0/24", ""}};
      c.ip_assignment_pools = {{"10.147.20.10", "10.147.20.200"}};
      c.rules_json = R"([{"type":"MATCH_ETHERTYPE","not":true,"etherType":2048},)"
                     R"({"type":"ACTION_DROP"},{"type":"ACTION_ACCEPT"}])";
      return schema::CreateNetworkCreated(b, nwid_, state::BuildNetworkConfig(b, c)).Union();
    }).ok());
  }

  absl::Status Submit(schema::Body type,
                      std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>
                          build) {
    ctl::Command c;
    c.writes = {ctl::ObjectKey::Controller(), ctl::ObjectKey::Network(nwid_)};
    c.actor.kind = schema::ActorKind::AdminToken;
    c.decide = [type, build](const state::State&, ctl::CommandContext& ctx) {
      ctx.Emit(type, build);
      return absl::OkStatus();
    };
    return sequencer_->Submit(std::move(c)).status();
  }

  // Waits (bounded) until a counter reaches `value`; counters move on the server thread.
  template <typename F>
  bool CounterReaches(F get, uint64_t value) {
    for (int i = 0; i < 200 && get(server_->counters()) < value; ++i) usleep(10 * 1000);
    return get(server_->counters()) >= value;
  }

  std::atomic<absl::Time> now_{absl::FromUnixMillis(1795818880000)};
  zt::Identity controller_, member_;
  uint64_t nwid_ = 0;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<ctl::Sequencer> sequencer_;
  std::unique_ptr<UdpServer> server_;
};

void ExpectError(const std::optional<Reply>& r, zt::ErrorCode code, uint64_t nwid) {
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->verb, zt::Verb::kError);
  auto e = zt::ParseError(r->payload);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->in_re_verb, zt::Verb::kNetworkConfigRequest);
  EXPECT_EQ(e->code, static_cast<uint8_t>(code));
  EXPECT_EQ(zt::LoadUint(e->body.data(), 8), nwid);
}

void Advance(std::atomic<absl::Time>& now, absl::Duration d) { now.store(now.load() + d); }

TEST_F(NetconfE2eTest, JoinDenyAuthorizeConfigDeauthorize) {
  Node node(member_, controller_, server_->port());
  node.SendRaw(node.Hello());
  auto ok_hello = node.Receive();
  ASSERT_TRUE(ok_hello.has_value());
  ASSERT_EQ(ok_hello->verb, zt::Verb::kOk);
  EXPECT_EQ(zt::ParseOk(ok_hello->payload)->in_re_verb, zt::Verb::kHello);

  const uint64_t missing = (controller_.address() << 24) | 0xbad;
  node.SendRaw(node.Request(missing));
  ExpectError(node.Receive(), zt::ErrorCode::kObjNotFound, missing);

  std::string denied_request = node.Request(nwid_);
  node.SendRaw(denied_request);
  ExpectError(node.Receive(), zt::ErrorCode::kNetworkAccessDenied, nwid_);
  EXPECT_TRUE(sequencer_->Read([&](const state::State& s) {
    const state::Member* m = s.FindMember(nwid_, member_.address());
    return m != nullptr && m->has_identity && m->identity_public == member_.public_key();
  }));

  // Authorized as the API would; within 2 s, without asking again, the node is pushed a
  // config that already holds its pool address (written as an IpAssigned first).
  absl::Time authorized_at = absl::Now();
  ASSERT_TRUE(Submit(schema::Body::MemberAuthorized, [this](flatbuffers::FlatBufferBuilder& b) {
    return schema::CreateMemberAuthorizedDirect(b, nwid_, member_.address(), "api").Union();
  }).ok());
  auto pushed = node.Receive();
  ASSERT_TRUE(pushed.has_value());
  EXPECT_LT(absl::Now() - authorized_at, absl::Seconds(2));
  ASSERT_EQ(pushed->verb, zt::Verb::kNetworkConfig);
  auto pushed_chunk = ParseChunk(pushed->payload);
  ASSERT_TRUE(pushed_chunk.ok()) << pushed_chunk.status();
  auto pushed_dict = zt::Dictionary::Parse(*AssembleChunks({*pushed_chunk}, controller_));
  ASSERT_TRUE(pushed_dict.ok());
  std::string assigned = sequencer_->Read([&](const state::State& s) {
    const state::Member* m = s.FindMember(nwid_, member_.address());
    return m->config.ip_assignments.empty() ? "" : m->config.ip_assignments[0];
  });
  auto ip = net::IpAddress::Parse(assigned);
  ASSERT_TRUE(ip.ok()) << "no pool address written: '" << assigned << "'";
  std::string expected_i = std::string("\x04", 1) +
                           std::string(reinterpret_cast<const char*>(ip->bytes().data()), 4) +
                           std::string("\x00\x18", 2);
  ASSERT_TRUE(pushed_dict->Get("I").has_value());
  EXPECT_EQ(*pushed_dict->Get("I"), expected_i);

  // Its next request gets the same address, its routes and rules.
  Advance(now_, absl::Seconds(2));
  node.SendRaw(node.Request(nwid_));
  auto reply = node.Receive();
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->verb, zt::Verb::kOk);
  auto ok = zt::ParseOk(reply->payload);
  ASSERT_EQ(ok->in_re_verb, zt::Verb::kNetworkConfigRequest);
  auto chunk = ParseChunk(ok->body);
  ASSERT_TRUE(chunk.ok()) << chunk.status();
  auto dict_bytes = AssembleChunks({*chunk}, controller_);
  ASSERT_TRUE(dict_bytes.ok()) << dict_bytes.status();
  auto dict = zt::Dictionary::Parse(*dict_bytes);
  ASSERT_TRUE(dict.ok());
  EXPECT_EQ(*dict->Get("I"), expected_i);
  EXPECT_EQ(dict->Get("RT")->size(), 7u + 1 + 4);
  EXPECT_EQ(*dict->Get("R"), std::string("\xa5\x02\x08\x00\x00\x00\x01\x00", 8));

  // Within the same second: dropped, not answered.
  node.SendRaw(node.Request(nwid_));
  EXPECT_TRUE(CounterReaches([](const ResponderCounters& c) { return c.rate_limited; }, 1));
  EXPECT_FALSE(node.Receive(2).has_value());

  // Deauthorized: the member hears about it at once.
  absl::Time before = absl::Now();
  ASSERT_TRUE(Submit(schema::Body::MemberDeauthorized, [this](flatbuffers::FlatBufferBuilder& b) {
    return schema::CreateMemberDeauthorized(b, nwid_, member_.address()).Union();
  }).ok());
  ExpectError(node.Receive(), zt::ErrorCode::kNetworkAccessDenied, nwid_);
  EXPECT_LT(absl::Now() - before, absl::Seconds(2));

  // Junk, truncation, replay and a bad MAC are dropped and counted.
  ResponderCounters c0 = server_->counters();
  node.SendRaw("junk");
  node.SendRaw(denied_request);  // replay of an already seen packet id
  std::string bad_mac = node.Request(nwid_);
  bad_mac[bad_mac.size() - 1] ^= 1;
  node.SendRaw(bad_mac);
  std::string truncated = node.Request(nwid_);
  truncated.resize(truncated.size() - 5);
  node.SendRaw(truncated);
  EXPECT_TRUE(CounterReaches([](const ResponderCounters& c) { return c.runts; }, c0.runts + 1));
  EXPECT_TRUE(
      CounterReaches([](const ResponderCounters& c) { return c.replayed; }, c0.replayed + 1));
  EXPECT_TRUE(
      CounterReaches([](const ResponderCounters& c) { return c.bad_mac; }, c0.bad_mac + 2));
  EXPECT_FALSE(node.Receive(2).has_value());
}


// A public network authorizes on the first request (MemberAuthorized "public"), and a
// request that arrives before the node's identity is known (no HELLO yet, no root to ask)
// is held and answered once the HELLO brings the identity.
TEST_F(NetconfE2eTest, PublicNetworkAndRequestBeforeHello) {
  const uint64_t open_nwid = (controller_.address() << 24) | 0x42;
  ASSERT_TRUE(Submit(schema::Body::NetworkCreated, [&](flatbuffers::FlatBufferBuilder& b) {
    state::NetworkConfig c;
    c.private_network = false;
    return schema::CreateNetworkCreated(b, open_nwid, state::BuildNetworkConfig(b, c)).Union();
  }).ok());
  Node node(member_, controller_, server_->port());
  node.SendRaw(node.Request(open_nwid));
  EXPECT_TRUE(CounterReaches([](const ResponderCounters& c) { return c.whois_queued; }, 1));
  EXPECT_FALSE(node.Receive(2).has_value());
  node.SendRaw(node.Hello());
  std::vector<zt::Verb> verbs;
  for (int i = 0; i < 2; ++i) {
    auto r = node.Receive();
    ASSERT_TRUE(r.has_value());
    verbs.push_back(r->verb);
    if (r->verb == zt::Verb::kOk) {
      auto ok = zt::ParseOk(r->payload);
      ASSERT_TRUE(ok.ok());
      if (ok->in_re_verb == zt::Verb::kNetworkConfigRequest) {
        auto chunk = ParseChunk(ok->body);
        ASSERT_TRUE(chunk.ok());
        auto dict = zt::Dictionary::Parse(*AssembleChunks({*chunk}, controller_));
        ASSERT_TRUE(dict.ok());
        EXPECT_EQ(*dict->GetUint64("t"), 1u);
        EXPECT_EQ(*dict->Get("R"), std::string("\x01\x00", 2));  // default rules: accept
      }
    }
  }
  EXPECT_EQ(verbs, (std::vector<zt::Verb>{zt::Verb::kOk, zt::Verb::kOk}));
  EXPECT_TRUE(sequencer_->Read([&](const state::State& s) {
    const state::Member* m = s.FindMember(open_nwid, member_.address());
    return m != nullptr && m->config.authorized &&
           m->last_authorized_credential_type == state::CredentialType::kPublic;
  }));
  EXPECT_EQ(server_->counters().answered_config, 1u);
}


// A burst of HELLOs with made-up identities from one source: each is either checked (on
// the checker thread, found invalid) or refused for the per-source bound, all counted, and
// a known member is still answered. (responder_test.cc checks the bounds precisely.)
TEST_F(NetconfE2eTest, IdentityFloodIsThrottled) {
  Node node(member_, controller_, server_->port());
  node.SendRaw(node.Hello());
  ASSERT_TRUE(node.Receive().has_value());
  for (int i = 0; i < 10; ++i) {
    std::string hello = node.Hello();
    hello[13] ^= static_cast<char>(i + 1);  // another source address: an unknown identity
    hello[8 + 20 + 1 + 1 + 1 + 2 + 8] ^= static_cast<char>(i + 1);  // and its address field
    node.SendRaw(hello);
  }
  EXPECT_TRUE(CounterReaches(
      [](const ResponderCounters& c) { return c.validate_throttled + c.identity_invalid; }, 10));
  EXPECT_EQ(server_->counters().validate_throttled + server_->counters().identity_invalid, 10u);
  EXPECT_GE(server_->counters().identity_invalid, 1u);
  node.SendRaw(node.Hello());
  auto r = node.Receive();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->verb, zt::Verb::kOk);
}

}  // namespace
}  // namespace almanac::netconf
