// Goal: capabilities and tags in a config decode, as a node decodes them, to the ids,
// values and rules the network defines for the member, with signatures that verify under
// the controller's identity; the node's limits (mc, mcr, mt) are respected.
#include "ctl/netconf/credentials.h"

#include <string>
#include <utility>
#include <vector>

#include "ctl/net/rules.h"
#include "ctl/netconf/config_encoder.h"
#include "ctl/zt/wire.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace almanac::netconf {
namespace {

using nlohmann::json;

const zt::Identity& Controller() {
  static const zt::Identity* id = new zt::Identity(zt::Identity::Generate());
  return *id;
}

std::vector<CapabilityCredential> Caps(std::string_view value) {
  std::vector<CapabilityCredential> out;
  while (!value.empty()) {
    size_t used = 0;
    auto c = ParseCapability(value, &used);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) break;
    out.push_back(*c);
    value.remove_prefix(used);
  }
  return out;
}

std::vector<TagCredential> Tags(std::string_view value) {
  std::vector<TagCredential> out;
  while (!value.empty()) {
    size_t used = 0;
    auto t = ParseTag(value, &used);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) break;
    out.push_back(*t);
    value.remove_prefix(used);
  }
  return out;
}

const json kCap1Rules = json::parse(
    R"([{"type":"MATCH_ETHERTYPE","etherType":2048},{"type":"ACTION_ACCEPT"}])");
const json kCap7Rules = json::parse(R"([{"type":"ACTION_DROP"}])");

class CapTagTest : public ::testing::Test {
 protected:
  void SetUp() override {
    network_.nwid = (Controller().address() << 24) | 0x42;
    json caps = json::array({{{"id", 7}, {"default", true}, {"rules", kCap7Rules}},
                             {{"id", 1}, {"rules", kCap1Rules}},
                             {{"id", 3}, {"rules", json::array()}}});
    network_.config.capabilities_json = caps.dump();
    network_.config.tags_json = R"([{"id":10,"default":5},{"id":20}])";
    member_.nwid = network_.nwid;
    member_.address = 0x0a1b2c3d4e;
    member_.has_identity = true;
    member_.config.authorized = true;
    member_.config.capabilities = {7, 1, 99};  // 99: not defined by the network
    member_.config.tags = {{20, 2}};
  }
  zt::Dictionary Build(const RequestMetadata& meta) {
    auto d = BuildConfigDictionary({&network_, &member_, &Controller(), 1700000000123, meta});
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : zt::Dictionary();
  }
  state::Network network_;
  state::Member member_;
};

TEST_F(CapTagTest, CapabilitiesDecodeAndVerify) {
  zt::Dictionary d = Build(RequestMetadata());
  ASSERT_TRUE(d.Get("CAP").has_value());
  std::vector<CapabilityCredential> caps = Caps(*d.Get("CAP"));
  ASSERT_EQ(caps.size(), 2u);
  EXPECT_EQ(caps[0].id, 1u);  // lowest id first: ZeroTier evaluates them in id order
  EXPECT_EQ(caps[1].id, 7u);
  EXPECT_EQ(caps[0].rules_wire, *net::CompileRules(kCap1Rules));
  EXPECT_EQ(caps[0].rule_count, 2);
  EXPECT_EQ(caps[1].rules_wire, *net::CompileRules(kCap7Rules));
  for (const CapabilityCredential& c : caps) {
    EXPECT_EQ(c.nwid, network_.nwid);
    EXPECT_EQ(c.timestamp_ms, 1700000000123u);
    EXPECT_EQ(c.issued_to, member_.address);
    EXPECT_EQ(c.signer, Controller().address());
    EXPECT_TRUE(CheckSigned(c.signed_bytes, c.signature, Controller()).ok());
  }
  // The signed bytes are exactly 7f x8 | body through custody length | 0000 | 7f x8.
  const CapabilityCredential& c = caps[1];
  ASSERT_EQ(c.signed_bytes.size(), 8u + 8 + 8 + 4 + 2 + 2 + 1 + 2 + 8);
  EXPECT_EQ(c.signed_bytes.substr(0, 8), std::string(8, '\x7f'));
  EXPECT_EQ(zt::LoadUint(c.signed_bytes.data() + 8 + 16, 4), 7u);
  EXPECT_EQ(c.signed_bytes.substr(8 + 8 + 8 + 4, 5), std::string("\x00\x01\x00\x00\x01", 5));
}

TEST_F(CapTagTest, TagsIncludeNetworkDefaultsAndVerify) {
  zt::Dictionary d = Build(RequestMetadata());
  ASSERT_TRUE(d.Get("TAG").has_value());
  std::vector<TagCredential> tags = Tags(*d.Get("TAG"));
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(std::make_pair(tags[0].id, tags[0].value), std::make_pair(10u, 5u));  // default
  EXPECT_EQ(std::make_pair(tags[1].id, tags[1].value), std::make_pair(20u, 2u));
  for (const TagCredential& t : tags) {
    EXPECT_EQ(t.issued_to, member_.address);
    EXPECT_EQ(t.signer, Controller().address());
    EXPECT_TRUE(CheckSigned(t.signed_bytes, t.signature, Controller()).ok());
  }
  // A member value overrides the default.
  member_.config.tags = {{10, 9}};
  tags = Tags(*Build(RequestMetadata()).Get("TAG"));
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].value, 9u);
}

TEST_F(CapTagTest, TamperedCredentialFailsToVerify) {
  zt::Dictionary d = Build(RequestMetadata());
  std::string cap(*d.Get("CAP"));
  cap[8 + 8 + 3] ^= 0x01;  // the id of the first capability: 1 -> 0
  std::vector<CapabilityCredential> caps = Caps(cap);
  ASSERT_FALSE(caps.empty());
  EXPECT_EQ(caps[0].id, 0u);
  EXPECT_EQ(CheckSigned(caps[0].signed_bytes, caps[0].signature, Controller()).code(),
            absl::StatusCode::kDataLoss);
  zt::Identity other = zt::Identity::Generate();
  EXPECT_FALSE(CheckSigned(Caps(*d.Get("CAP"))[1].signed_bytes,
                           Caps(*d.Get("CAP"))[1].signature, other)
                   .ok());
}

TEST_F(CapTagTest, NodeLimitsAreRespected) {
  RequestMetadata meta;
  meta.capabilities_max = 1;
  std::vector<CapabilityCredential> caps = Caps(*Build(meta).Get("CAP"));
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].id, 1u);

  meta = RequestMetadata();
  meta.capability_rules_max = 1;  // capability 1 has 2 rules: left out, not truncated
  caps = Caps(*Build(meta).Get("CAP"));
  ASSERT_EQ(caps.size(), 1u);
  EXPECT_EQ(caps[0].id, 7u);

  meta = RequestMetadata();
  meta.tags_max = 1;
  std::vector<TagCredential> tags = Tags(*Build(meta).Get("TAG"));
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].id, 10u);

  member_.config.capabilities.clear();
  EXPECT_FALSE(Build(RequestMetadata()).Get("CAP").has_value());
}

TEST_F(CapTagTest, DamagedStoredJsonIsDataLoss) {
  network_.config.capabilities_json = "{not json";
  auto d = BuildConfigDictionary({&network_, &member_, &Controller(), 1, RequestMetadata()});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss);
}

TEST(ParseCredentials, TruncatedAreRefused) {
  std::string cap = BuildCapability(1, 2, 3, std::string("\x01\x00", 2), 1, 0x1122334455,
                                    Controller());
  size_t used = 0;
  ASSERT_TRUE(ParseCapability(cap, &used).ok());
  EXPECT_EQ(used, cap.size());
  for (size_t n = 0; n < cap.size(); n += 7) {
    EXPECT_FALSE(ParseCapability(std::string_view(cap).substr(0, n), &used).ok()) << n;
  }
  std::string tag = BuildTag(1, 2, 3, 4, 0x1122334455, Controller());
  ASSERT_TRUE(ParseTag(tag, &used).ok());
  EXPECT_EQ(used, tag.size());
  EXPECT_FALSE(ParseTag(std::string_view(tag).substr(0, tag.size() - 1), &used).ok());
}

}  // namespace
}  // namespace almanac::netconf
