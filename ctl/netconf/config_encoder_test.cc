// Goal: Almanac's netconf is what ZeroTier 1.14.1's controller sends. Method: (1) decode the
// real controller's replies captured in shared/vectors (exchange.json packets 62 and 92,
// and the 2-chunk reply in fragmented/), checking every chunk signature, the certificate of
// membership and the certificate of ownership against the controller's public identity;
// (2) build Almanac's own reply to the captured member for the captured network's
// settings and compare it key by key with the real one, apart from what must differ
// (timestamps, signatures).
#include "ctl/netconf/config_encoder.h"

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/types/span.h"
#include "base/testing.h"
#include "ctl/netconf/chunk.h"
#include "ctl/netconf/credentials.h"
#include "ctl/zt/wire.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace almanac::netconf {
namespace {

using nlohmann::json;

json LoadJson(const std::string& path) {
  return json::parse(testing::ReadFileOrFail(path), nullptr, false);
}

absl::Span<const uint8_t> Bytes(std::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

zt::Identity NodeIdentity(const json& lab, const char* node, const char* form) {
  auto id = zt::Identity::FromString(lab["nodes"][node][form].get<std::string>());
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *id : zt::Identity();
}

// The chunk inside a captured OK(NETWORK_CONFIG_REQUEST): plaintext is verb | in-re verb |
// in-re id | chunk.
std::string ChunkOf(const json& packet) {
  std::string plain = absl::HexStringToBytes(packet["decoded"]["payload_plain_hex"].get<std::string>());
  EXPECT_EQ(plain[0], '\x03');
  EXPECT_EQ(plain[1], '\x0b');
  return plain.substr(10);
}

absl::StatusOr<zt::Dictionary> Reassemble(const std::vector<std::string>& bodies,
                                          const zt::Identity& controller) {
  std::vector<ParsedChunk> chunks;
  for (const std::string& body : bodies) {
    auto c = ParseChunk(body);
    if (!c.ok()) return c.status();
    chunks.push_back(*c);
  }
  auto dict = AssembleChunks(chunks, controller);
  if (!dict.ok()) return dict.status();
  return zt::Dictionary::Parse(*dict);
}

class VectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::VectorsDir();
    exchange_ = LoadJson(dir_ + "/exchange.json");
    lab_ = LoadJson(dir_ + "/lab.json");
    ASSERT_FALSE(exchange_.is_discarded());
    ASSERT_FALSE(lab_.is_discarded());
    controller_ = NodeIdentity(lab_, "C", "secret");
    member_ = NodeIdentity(lab_, "M", "public");
  }
  zt::Dictionary RealReply(int index) {
    auto d = Reassemble({ChunkOf(exchange_["packets"][index])}, controller_);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : zt::Dictionary();
  }

  std::string dir_;
  json exchange_, lab_;
  zt::Identity controller_, member_;
};

void ExpectCredentialsVerify(const zt::Dictionary& d, const zt::Identity& controller,
                             const zt::Identity& member) {
  auto com = ParseMembershipCertificate(*d.Get("C"));
  ASSERT_TRUE(com.ok()) << com.status();
  ASSERT_EQ(com->qualifiers.size(), 7u);
  EXPECT_EQ(com->signer, controller.address());
  EXPECT_TRUE(controller.Verify(Bytes(com->signed_bytes), Bytes(com->signature)));
  EXPECT_EQ(com->qualifiers[2].value, member.address());
  // Qualifiers 3-6 come from SHA-384 of the member's identity: rebuild them ourselves.
  std::string ours = BuildMembershipCertificate(*d.GetUint64("nwid"), member.address(),
                                                member.public_key(), 1, 1, controller);
  auto ours_com = ParseMembershipCertificate(ours);
  ASSERT_TRUE(ours_com.ok());
  for (int i = 1; i < 7; ++i) {
    EXPECT_EQ(com->qualifiers[i].id, ours_com->qualifiers[i].id) << i;
    EXPECT_EQ(com->qualifiers[i].value, ours_com->qualifiers[i].value) << i;
    EXPECT_EQ(com->qualifiers[i].max_delta, ours_com->qualifiers[i].max_delta) << i;
  }
  std::string_view coo = *d.Get("COO");
  EXPECT_TRUE(CheckCredentialSignature(coo, coo.size() - 101, controller).ok());
}

TEST_F(VectorsTest, RealRepliesParseAndVerify) {
  for (int index : {62, 92}) {
    SCOPED_TRACE(index);
    zt::Dictionary d = RealReply(index);
    EXPECT_EQ(*d.GetUint64("v"), 7u);
    EXPECT_EQ(*d.GetUint64("nwid"), 0x949cb95e9d7ceef9ULL);
    EXPECT_EQ(*d.Get("id"), "73d8c8d12f");
    EXPECT_EQ(*d.GetUint64("mtu"), 2800u);
    EXPECT_EQ(*d.GetUint64("ctmd"), 0x1b7740u);
    EXPECT_EQ(*d.GetUint64("f"), 6u);
    EXPECT_EQ(*d.Get("n"), "vectors-private");
    ExpectCredentialsVerify(d, controller_, member_);
  }
}

TEST_F(VectorsTest, TamperedChunkIsDataLoss) {
  std::string body = ChunkOf(exchange_["packets"][62]);
  body[20] ^= 1;
  auto c = ParseChunk(body);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(AssembleChunks({*c}, controller_).status().code(), absl::StatusCode::kDataLoss);
}

TEST(FragmentedVectors, TwoChunksReassembleAndVerify) {
  std::string dir = testing::VectorsDir() + "/fragmented";
  json exchange = LoadJson(dir + "/exchange.json");
  json lab = LoadJson(dir + "/lab.json");
  zt::Identity controller = NodeIdentity(lab, "C", "secret");
  zt::Identity member = NodeIdentity(lab, "M", "public");
  std::vector<std::string> bodies = {ChunkOf(exchange["packets"][45]),
                                     ChunkOf(exchange["packets"][52])};
  auto d = Reassemble(bodies, controller);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->encoded_bytes(), 12708u);
  EXPECT_EQ(*d->GetUint64("t"), 1u);
  ExpectCredentialsVerify(*d, controller, member);
}

state::Network CapturedNetwork(const json& body) {
  state::Network n;
  n.nwid = 0x949cb95e9d7ceef9ULL;
  n.revision = 1;
  state::NetworkConfig& c = n.config;
  c.name = body["name"];
  c.private_network = true;
  c.v4_assign_zt = true;
  c.v6_assign_rfc4193 = true;
  c.v6_assign_6plane = true;
  c.routes = {{"10.147.20.0/24", ""}, {"192.168.77.0/24", "10.147.20.1"}};
  c.ip_assignment_pools = {{"10.147.20.10", "10.147.20.200"}};
  c.rules_json = body["rules"].dump();
  c.dns = state::Dns{"vectors.zt.example", {"10.147.20.1"}};
  c.mtu = 2800;
  c.multicast_limit = 32;
  return n;
}

TEST_F(VectorsTest, AlmanacReplyMatchesRealController) {
  state::Network network = CapturedNetwork(lab_["network_request_body"]);
  state::Member& m = network.members[member_.address()];
  m.nwid = network.nwid;
  m.address = member_.address();
  m.config.authorized = true;
  m.config.ip_assignments = {"10.147.20.137"};
  m.identity_public = member_.public_key();
  m.has_identity = true;

  // The metadata the member sent with the request that packet 62 answers.
  const json& request = exchange_["packets"][60]["decoded"];
  std::string plain = absl::HexStringToBytes(request["payload_plain_hex"].get<std::string>());
  zt::Reader r(std::string_view(plain).substr(1 + 8));
  uint16_t len = 0;
  std::string_view raw;
  ASSERT_TRUE(r.ReadU16(&len) && r.ReadBytes(len, &raw));
  auto meta_dict = zt::Dictionary::Parse(raw);
  ASSERT_TRUE(meta_dict.ok()) << meta_dict.status();
  RequestMetadata meta = ParseRequestMetadata(*meta_dict);
  EXPECT_EQ(meta.rules_engine_revision, 1u);
  EXPECT_EQ(meta.protocol_version, 12);

  ConfigInput in{&network, &m, &controller_, 1795818900000, meta};
  auto ours = BuildConfigDictionary(in);
  ASSERT_TRUE(ours.ok()) << ours.status();
  zt::Dictionary real = RealReply(62);

  std::vector<std::string> our_keys, real_keys;
  for (const auto& [k, v] : ours->entries()) our_keys.push_back(k);
  for (const auto& [k, v] : real.entries()) real_keys.push_back(k);
  EXPECT_EQ(our_keys, real_keys);  // same keys, same order

  for (const auto& [key, value] : real.entries()) {
    SCOPED_TRACE(key);
    std::string_view mine = ours->Get(key).value_or("<absent>");
    if (key == "ts") continue;
    if (key == "C") {
      // Equal but for qualifier 0's value (timestamp) and the signature.
      ASSERT_EQ(mine.size(), value.size());
      EXPECT_EQ(mine.substr(0, 11), std::string_view(value).substr(0, 11));
      EXPECT_EQ(mine.substr(19, 168 + 5 - 16), std::string_view(value).substr(19, 168 + 5 - 16));
      continue;
    }
    if (key == "COO") {
      // Equal but for the timestamp (bytes 8-15) and the signature.
      ASSERT_EQ(mine.size(), value.size());
      EXPECT_EQ(mine.substr(0, 8), std::string_view(value).substr(0, 8));
      EXPECT_EQ(mine.substr(16, value.size() - 101 - 16),
                std::string_view(value).substr(16, value.size() - 101 - 16));
      continue;
    }
    EXPECT_EQ(absl::BytesToHexString(std::string(mine)), absl::BytesToHexString(value));
  }
  ExpectCredentialsVerify(*ours, controller_, member_);

  // Chunked and signed, it reassembles to the same bytes.
  std::string encoded = ours->Encode();
  auto chunks = SignChunks(network.nwid, encoded, 0x1234, controller_);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 1u);
  auto back = Reassemble(*chunks, controller_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->Encode(), encoded);
}

// Credentials handed back by one build and given to a later one go in as they are (same
// bytes, still verifying, their own timestamp), while ts moves on; a specialists list given
// by the caller is used as S.
TEST_F(VectorsTest, CredentialsAndSpecialistsFromTheCallerAreUsedAsGiven) {
  state::Network network = CapturedNetwork(lab_["network_request_body"]);
  state::Member& m = network.members[member_.address()];
  m.nwid = network.nwid;
  m.address = member_.address();
  m.config.authorized = true;
  m.config.ip_assignments = {"10.147.20.137"};
  m.identity_public = member_.public_key();
  m.has_identity = true;
  RequestMetadata meta;
  meta.rules_engine_revision = 1;
  SignedCredentials made;
  ConfigInput first{&network, &m, &controller_, 1795818900000, meta};
  first.credentials_out = &made;
  auto d1 = BuildConfigDictionary(first);
  ASSERT_TRUE(d1.ok()) << d1.status();
  EXPECT_EQ(made.signed_at_ms, 1795818900000);
  EXPECT_EQ(*d1->Get("C"), made.membership);
  EXPECT_EQ(*d1->Get("COO"), made.ownership);
  EXPECT_FALSE(d1->Get("S").has_value());

  const std::string specialists("\x00\x00\x00\x11\x22\x33\x44\x55", 8);
  ConfigInput later{&network, &m, &controller_, 1795818960000, meta};
  later.reuse = &made;
  later.specialists = &specialists;
  SignedCredentials out;
  later.credentials_out = &out;
  auto d2 = BuildConfigDictionary(later);
  ASSERT_TRUE(d2.ok()) << d2.status();
  EXPECT_EQ(*d2->GetUint64("ts"), 1795818960000u);
  EXPECT_EQ(*d2->Get("C"), *d1->Get("C"));
  EXPECT_EQ(*d2->Get("COO"), *d1->Get("COO"));
  EXPECT_EQ(out.signed_at_ms, made.signed_at_ms);
  EXPECT_EQ(*d2->Get("S"), specialists);
  ExpectCredentialsVerify(*d2, controller_, member_);

  // Without reuse, new ones: the same but for their timestamps and signatures.
  ConfigInput fresh{&network, &m, &controller_, 1795818960000, meta};
  auto d3 = BuildConfigDictionary(fresh);
  ASSERT_TRUE(d3.ok());
  EXPECT_NE(*d3->Get("C"), *d1->Get("C"));
  EXPECT_EQ(d3->Get("C")->size(), d1->Get("C")->size());
}

TEST(Encoder, OldRulesEngineGetsAcceptAndTooManyRulesFailClosed) {
  zt::Identity controller = zt::Identity::Generate();
  state::Network network;
  network.nwid = (controller.address() << 24) | 1;
  network.config.rules_json =
      R"([{"type":"MATCH_ETHERTYPE","etherType":2048},{"type":"ACTION_DROP"},{"type":"ACTION_ACCEPT"}])";
  state::Member m;
  m.nwid = network.nwid;
  m.address = 0x1122334455;
  m.has_identity = true;
  RequestMetadata meta;
  meta.rules_engine_revision = 0;
  auto d = BuildConfigDictionary({&network, &m, &controller, 1000, meta});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d->Get("R"), std::string("\x01\x00", 2));
  meta.rules_engine_revision = 1;
  d = BuildConfigDictionary({&network, &m, &controller, 1000, meta});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->Get("R")->size(), 4u + 2 + 2);
  meta.rules_max = 2;
  d = BuildConfigDictionary({&network, &m, &controller, 1000, meta});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d->Get("R"), std::string("\x00\x00", 2));
}

TEST(Chunks, LargeConfigSplitsAt9740) {
  zt::Identity controller = zt::Identity::Generate();
  std::string dict(20000, 'x');
  auto chunks = SignChunks(7, dict, 99, controller);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 3u);
  std::vector<ParsedChunk> parsed;
  for (const auto& c : *chunks) parsed.push_back(*ParseChunk(c));
  EXPECT_EQ(parsed[1].offset, 9740u);
  EXPECT_EQ(parsed[2].data.size(), 20000u - 2 * 9740);
  auto back = AssembleChunks(parsed, controller);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, dict);
}

}  // namespace
}  // namespace almanac::netconf
