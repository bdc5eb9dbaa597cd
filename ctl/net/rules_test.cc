// Goal: rules compile to exactly the bytes a real 1.14.1 controller sent, every rule type
// survives JSON -> wire -> JSON, and bad input gets an error naming index and field.
// Method: the two captured labs (shared/vectors), a table with one rule of every type and
// its hand-derived wire bytes, and a table of bad rules with expected messages.
#include "ctl/net/rules.h"

#include <string>

#include "absl/strings/escaping.h"
#include "base/testing.h"
#include "gtest/gtest.h"

namespace almanac::net {
namespace {

using nlohmann::json;

json ParseJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded());
  return j;
}

// The `R` entry of the first netconf dictionary in a lab's exchange.json.
json NetconfRules(const std::string& exchange_path) {
  const json e = ParseJson(testing::ReadFileOrFail(exchange_path));
  if (!e.is_object() || !e.contains("packets")) return json();
  for (const json& p : e["packets"]) {
    if (p.contains("decoded") && p["decoded"].is_object() && p["decoded"].contains("fields") &&
        p["decoded"]["fields"].is_object() && p["decoded"]["fields"].contains("dictionary")) {
      return p["decoded"]["fields"]["dictionary"]["R"];
    }
  }
  ADD_FAILURE() << "no netconf dictionary in " << exchange_path;
  return json();
}

void ExpectLabCompiles(const std::string& dir) {
  const json lab = ParseJson(testing::ReadFileOrFail(dir + "/lab.json"));
  const json& rules = lab["network_request_body"]["rules"];
  const json r = NetconfRules(dir + "/exchange.json");
  ASSERT_TRUE(r.is_object());
  auto wire = CompileRules(rules);
  ASSERT_TRUE(wire.ok()) << wire.status();
  EXPECT_EQ(absl::BytesToHexString(*wire), r["hex"].get<std::string>());
  EXPECT_EQ(wire->size(), r["len"].get<size_t>());
  // What the real controller's GET returned for the same POST.
  const json network = ParseJson(testing::ReadFileOrFail(dir + "/controller_network.json"));
  auto canonical = CanonicalRulesJson(rules);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(*canonical, network["rules"]);
}

TEST(RulesTest, MainLabMatchesRealBytes) {
  ExpectLabCompiles(testing::VectorsDir());
  auto wire = CompileRules(ParseJson(R"([{"type":"MATCH_ETHERTYPE","not":true,"etherType":2048},
      {"type":"ACTION_DROP"}])"));
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(absl::BytesToHexString(*wire), "a50208000000");
}

TEST(RulesTest, FragmentedLabMatchesRealBytes) {
  ExpectLabCompiles(testing::VectorsDir() + "/fragmented");
}

struct Case {
  std::string json_text;  // Canonical form, as decode renders it.
  std::string hex;        // Expected wire bytes.
};

TEST(RulesTest, EveryTypeRoundTrips) {
  const Case kCases[] = {
      {R"({"type":"ACTION_DROP"})", "0000"},
      {R"({"type":"ACTION_ACCEPT"})", "0100"},
      {R"({"type":"ACTION_TEE","address":"73d8c8d12f","flags":7,"length":64})",
       "020e00000073d8c8d12f000000070040"},
      {R"({"type":"ACTION_WATCH","address":"949cb95e9d","flags":0,"length":0})",
       "030e000000949cb95e9d000000000000"},
      {R"({"type":"ACTION_REDIRECT","address":"6914243cae","flags":1})",
       "040e0000006914243cae000000010000"},
      {R"({"type":"ACTION_BREAK"})", "0500"},
      {R"({"type":"MATCH_SOURCE_ZEROTIER_ADDRESS","zt":"73d8c8d12f","not":false,"or":false})",
       "180573d8c8d12f"},
      {R"({"type":"MATCH_DEST_ZEROTIER_ADDRESS","zt":"00000000ab","not":true,"or":true})",
       "d905" "00000000ab"},
      {R"({"type":"MATCH_VLAN_ID","vlanId":4095,"not":false,"or":false})", "1a020fff"},
      {R"({"type":"MATCH_VLAN_PCP","vlanPcp":7,"not":false,"or":true})", "5b0107"},
      {R"({"type":"MATCH_VLAN_DEI","vlanDei":1,"not":true,"or":false})", "9c0101"},
      {R"({"type":"MATCH_MAC_SOURCE","mac":"fa:9d:a4:55:8f:96","not":false,"or":false})",
       "1d06fa9da4558f96"},
      {R"({"type":"MATCH_MAC_DEST","mac":"01:00:5e:00:00:01","not":false,"or":false})",
       "1e0601005e000001"},
      {R"({"type":"MATCH_IPV4_SOURCE","ip":"10.147.20.0/24","not":false,"or":false})",
       "1f050a93140018"},
      {R"({"type":"MATCH_IPV4_DEST","ip":"10.147.20.1/32","not":false,"or":false})",
       "20050a93140120"},
      {R"({"type":"MATCH_IPV6_SOURCE","ip":"fd00::1/128","not":false,"or":false})",
       "2111fd00000000000000000000000000000180"},
      {R"({"type":"MATCH_IPV6_DEST","ip":"fc09:e057:a773:d8c8:d12f::1/40","not":false,"or":false})",
       "2211fc09e057a773d8c8d12f00000000000128"},
      {R"({"type":"MATCH_IP_TOS","mask":252,"start":8,"end":16,"not":false,"or":false})",
       "2303fc0810"},
      {R"({"type":"MATCH_IP_PROTOCOL","ipProtocol":17,"not":false,"or":false})", "240111"},
      {R"({"type":"MATCH_ETHERTYPE","etherType":34525,"not":true,"or":false})", "a50286dd"},
      {R"({"type":"MATCH_ICMP","icmpType":8,"icmpCode":null,"not":false,"or":false})",
       "2603080000"},
      {R"({"type":"MATCH_ICMP","icmpType":3,"icmpCode":4,"not":false,"or":false})",
       "2603030401"},
      {R"({"type":"MATCH_IP_SOURCE_PORT_RANGE","start":1024,"end":65535,"not":false,"or":false})",
       "27040400ffff"},
      {R"({"type":"MATCH_IP_DEST_PORT_RANGE","start":22,"end":22,"not":false,"or":false})",
       "280400160016"},
      {R"({"type":"MATCH_CHARACTERISTICS","mask":"8000000000000002","not":false,"or":false})",
       "29088000000000000002"},
      {R"({"type":"MATCH_FRAME_SIZE_RANGE","start":0,"end":1500,"not":false,"or":false})",
       "2a04000005dc"},
      {R"({"type":"MATCH_RANDOM","probability":2147483648,"not":false,"or":false})",
       "2b0480000000"},
      {R"({"type":"MATCH_TAGS_DIFFERENCE","id":1,"value":2,"not":false,"or":false})",
       "2c080000000100000002"},
      {R"({"type":"MATCH_TAGS_BITWISE_AND","id":3,"value":4,"not":false,"or":false})",
       "2d080000000300000004"},
      {R"({"type":"MATCH_TAGS_BITWISE_OR","id":5,"value":6,"not":false,"or":false})",
       "2e080000000500000006"},
      {R"({"type":"MATCH_TAGS_BITWISE_XOR","id":7,"value":8,"not":false,"or":false})",
       "2f080000000700000008"},
      {R"({"type":"MATCH_TAGS_EQUAL","id":4294967295,"value":0,"not":false,"or":false})",
       "3008ffffffff00000000"},
      {R"({"type":"MATCH_TAG_SENDER","id":9,"value":10,"not":false,"or":false})",
       "3108000000090000000a"},
      {R"({"type":"MATCH_TAG_RECEIVER","id":11,"value":12,"not":false,"or":false})",
       "32080000000b0000000c"},
      {R"({"type":"INTEGER_RANGE","start":"0000000000000010","end":"00000000000000ff",)"
       R"("idx":14,"little":true,"bits":16,"not":false,"or":false})",
       "3313000000000000001000000000000000ff000e8f"},
  };
  json all = json::array();
  std::string all_hex;
  for (const Case& c : kCases) {
    const json rule = ParseJson(c.json_text);
    const json one = json::array({rule});
    auto wire = CompileRules(one);
    ASSERT_TRUE(wire.ok()) << c.json_text << ": " << wire.status();
    EXPECT_EQ(absl::BytesToHexString(*wire), c.hex) << c.json_text;
    auto back = DecodeRulesForTest(*wire);
    ASSERT_TRUE(back.ok()) << c.json_text << ": " << back.status();
    EXPECT_EQ(*back, one) << back->dump();
    all.push_back(rule);
    all_hex += c.hex;
  }
  auto wire = CompileRules(all);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(absl::BytesToHexString(*wire), all_hex);
  auto canonical = CanonicalRulesJson(all);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(*canonical, all);
}

TEST(RulesTest, AcceptedVariantsCanonicalize) {
  const json in = ParseJson(R"([
    {"type":"MATCH_MAC_DEST","mac":"FA-9D-A4-55-8F-96"},
    {"type":"MATCH_MAC_SOURCE","mac":"fa9da4558f96","or":true},
    {"type":"MATCH_CHARACTERISTICS","mask":2},
    {"type":"MATCH_IP_DEST_PORT_RANGE","start":443},
    {"type":"MATCH_ICMP","icmpType":0},
    {"type":"MATCH_IPV6_SOURCE","ip":"FD00:0:0:0:0:0:0:1/64"},
    {"type":"ACTION_TEE","address":"73D8C8D12F"},
    {"type":"INTEGER_RANGE","start":5,"end":6},
    {"type":"ACTION_ACCEPT","not":false,"or":false}])");
  auto canonical = CanonicalRulesJson(in);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  const json expected = ParseJson(R"([
    {"type":"MATCH_MAC_DEST","mac":"fa:9d:a4:55:8f:96","not":false,"or":false},
    {"type":"MATCH_MAC_SOURCE","mac":"fa:9d:a4:55:8f:96","not":false,"or":true},
    {"type":"MATCH_CHARACTERISTICS","mask":"0000000000000002","not":false,"or":false},
    {"type":"MATCH_IP_DEST_PORT_RANGE","start":443,"end":443,"not":false,"or":false},
    {"type":"MATCH_ICMP","icmpType":0,"icmpCode":null,"not":false,"or":false},
    {"type":"MATCH_IPV6_SOURCE","ip":"fd00::1/64","not":false,"or":false},
    {"type":"ACTION_TEE","address":"73d8c8d12f","flags":0,"length":0},
    {"type":"INTEGER_RANGE","start":"0000000000000005","end":"0000000000000006","idx":0,
     "little":false,"bits":1,"not":false,"or":false},
    {"type":"ACTION_ACCEPT"}])");
  EXPECT_EQ(*canonical, expected) << canonical->dump();
}

struct BadCase {
  std::string json_text;  // A rules array.
  std::string message;    // Exact error message.
};

TEST(RulesTest, ErrorsNameIndexAndField) {
  const BadCase kCases[] = {
      {R"({"type":"ACTION_DROP"})", "rules: expected an array of rules, got object"},
      {R"([{"type":"ACTION_DROP"},3])", "rules[1]: expected a rule object, got number"},
      {R"([{}])", "rules[0].type: missing, expected a rule type like \"ACTION_ACCEPT\""},
      {R"([{"type":7}])", "rules[0].type: expected a rule type like \"ACTION_ACCEPT\", got number"},
      {R"([{"type":"MATCH_NOPE"}])", "rules[0].type: unknown rule type \"MATCH_NOPE\""},
      {R"([{"type":"action_drop"}])", "rules[0].type: unknown rule type \"action_drop\""},
      {R"([{"type":"MATCH_TAGS_SENDER","id":1,"value":1}])",
       "rules[0].type: unknown rule type \"MATCH_TAGS_SENDER\" (did you mean MATCH_TAG_SENDER?)"},
      {R"([{"type":"ACTION_PRIORITY"}])",
       "rules[0].type: unknown rule type \"ACTION_PRIORITY\" (ZeroTier's controller does not "
       "accept it: 1.14.1 sends it without its argument)"},
      {R"([{"type":"ACTION_DROP"},{"type":"ACTION_DROP"},{"type":"ACTION_DROP"},
          {"type":"MATCH_ETHERTYPE","etherType":"2048"}])",
       "rules[3].etherType: expected integer 0..65535, got string"},
      {R"([{"type":"MATCH_ETHERTYPE","etherType":65536}])",
       "rules[0].etherType: expected integer 0..65535, got 65536"},
      {R"([{"type":"MATCH_ETHERTYPE","etherType":-1}])",
       "rules[0].etherType: expected integer 0..65535, got -1"},
      {R"([{"type":"MATCH_ETHERTYPE","etherType":2048.5}])",
       "rules[0].etherType: expected integer 0..65535, got number"},
      {R"([{"type":"MATCH_ETHERTYPE"}])",
       "rules[0].etherType: missing, expected integer 0..65535"},
      {R"([{"type":"MATCH_ETHERTYPE","ethertype":2048}])",
       "rules[0].ethertype: unknown field for this rule type"},
      {R"([{"type":"MATCH_ETHERTYPE","etherType":1,"not":"true"}])",
       "rules[0].not: expected true or false, got string"},
      {R"([{"type":"ACTION_DROP","not":true}])", "rules[0].not: must be false on an action"},
      {R"([{"type":"ACTION_ACCEPT","or":true}])", "rules[0].or: must be false on an action"},
      {R"([{"type":"MATCH_VLAN_ID","vlanId":4096}])",
       "rules[0].vlanId: expected integer 0..4095, got 4096"},
      {R"([{"type":"MATCH_VLAN_PCP","vlanPcp":8}])",
       "rules[0].vlanPcp: expected integer 0..7, got 8"},
      {R"([{"type":"MATCH_SOURCE_ZEROTIER_ADDRESS","zt":"73d8c8d12"}])",
       "rules[0].zt: expected 10 hex digits"},
      {R"([{"type":"MATCH_SOURCE_ZEROTIER_ADDRESS","zt":"73d8c8d12g"}])",
       "rules[0].zt: expected 10 hex digits"},
      {R"([{"type":"ACTION_TEE","flags":1}])",
       "rules[0].address: missing, expected a 10-hex-digit ZeroTier address"},
      {R"([{"type":"ACTION_REDIRECT","address":"73d8c8d12f","length":5}])",
       "rules[0].length: unknown field for this rule type"},
      {R"([{"type":"ACTION_TEE","address":"73d8c8d12f","length":65536}])",
       "rules[0].length: expected integer 0..65535, got 65536"},
      {R"([{"type":"MATCH_MAC_SOURCE","mac":"fa:9d:a4:55:8f"}])",
       "rules[0].mac: expected a MAC like fa:9d:a4:55:8f:96"},
      {R"([{"type":"MATCH_MAC_SOURCE","mac":"fa:9d-a4:55:8f:96"}])",
       "rules[0].mac: expected a MAC like fa:9d:a4:55:8f:96"},
      {R"([{"type":"MATCH_IPV4_SOURCE","ip":"10.0.0.0/33"}])",
       "rules[0].ip: prefix length 33 out of range for IPv4"},
      {R"([{"type":"MATCH_IPV4_SOURCE","ip":"10.0.0.1"}])",
       "rules[0].ip: missing prefix length (like 10.0.0.0/8): \"10.0.0.1\""},
      {R"([{"type":"MATCH_IPV4_DEST","ip":"fd00::/8"}])",
       "rules[0].ip: expected an IPv4 prefix like 10.0.0.0/8"},
      {R"([{"type":"MATCH_IPV6_DEST","ip":"10.0.0.0/8"}])",
       "rules[0].ip: expected an IPv6 prefix like fd00::/8"},
      {R"([{"type":"MATCH_IP_TOS","mask":255,"start":9,"end":8}])",
       "rules[0].end: must be >= start (9)"},
      {R"([{"type":"MATCH_IP_TOS","mask":256,"start":0,"end":8}])",
       "rules[0].mask: expected integer 0..255, got 256"},
      {R"([{"type":"MATCH_IP_SOURCE_PORT_RANGE","start":80,"end":79}])",
       "rules[0].end: must be >= start (80)"},
      {R"([{"type":"MATCH_ICMP","icmpType":8,"icmpCode":"x"}])",
       "rules[0].icmpCode: expected integer 0..255, got string"},
      {R"([{"type":"MATCH_CHARACTERISTICS","mask":"0x2"}])",
       "rules[0].mask: expected 1 to 16 hex digits or an integer"},
      {R"([{"type":"MATCH_RANDOM","probability":4294967296}])",
       "rules[0].probability: expected integer 0..4294967295, got 4294967296"},
      {R"([{"type":"MATCH_TAGS_EQUAL","id":1}])",
       "rules[0].value: missing, expected integer 0..4294967295"},
      {R"([{"type":"INTEGER_RANGE","start":"10","end":"f"}])",
       "rules[0].end: must be >= start and at most start + 0xffffffff"},
      {R"([{"type":"INTEGER_RANGE","start":0,"end":1,"bits":0}])",
       "rules[0].bits: expected integer 1..64"},
      {R"([{"type":"INTEGER_RANGE","start":0,"end":1,"bits":65}])",
       "rules[0].bits: expected integer 1..64"},
  };
  for (const BadCase& c : kCases) {
    const json rules = ParseJson(c.json_text);
    const absl::Status s = ValidateRules(rules);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.json_text;
    EXPECT_EQ(s.message(), c.message) << c.json_text;
    EXPECT_EQ(CompileRules(rules).status(), s);
    EXPECT_EQ(CanonicalRulesJson(rules).status(), s);
  }
  // The path prefix is the caller's (capabilities name their rules this way).
  const absl::Status s = ValidateRules(ParseJson(R"([{"type":"X"}])"), kCapabilityRulesMax,
                                       "capabilities[2].rules");
  EXPECT_EQ(s.message(), "capabilities[2].rules[0].type: unknown rule type \"X\"");
}

TEST(RulesTest, RuleCountLimit) {
  json rules = json::array();
  for (size_t i = 0; i < kNetworkRulesMax; ++i) rules.push_back({{"type", "ACTION_ACCEPT"}});
  EXPECT_TRUE(ValidateRules(rules).ok());
  rules.push_back({{"type", "ACTION_ACCEPT"}});
  EXPECT_EQ(ValidateRules(rules).message(), "rules: 1025 rules, at most 1024 are allowed");
  EXPECT_EQ(ValidateRules(json::array({{{"type", "ACTION_DROP"}}}), 0).message(),
            "rules: 1 rules, at most 0 are allowed");
  auto empty = CompileRules(json::array());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(RulesTest, DecoderRefusesBadWire) {
  const std::string kBad[] = {
      std::string("\x25", 1),                 // truncated header
      std::string("\x25\x02\x08", 3),         // truncated data
      std::string("\x25\x03\x08\x00\x00", 5), // wrong length for the type
      std::string("\x07\x00", 2),             // ACTION_PRIORITY / unknown
      std::string("\x3f\x00", 2),             // unknown match
      std::string("\x80\x00", 2),             // NOT on an action
  };
  for (const std::string& wire : kBad) {
    EXPECT_EQ(DecodeRules(wire).status().code(), absl::StatusCode::kInvalidArgument)
        << absl::BytesToHexString(wire);
  }
  EXPECT_EQ(DecodeRules(std::string("\x01\x00\x01\x00", 4), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace almanac::net
