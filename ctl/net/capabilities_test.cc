// Goal: capabilities and tags parse into sorted structs with compiled rules, and every
// malformed input is refused naming its index and field. Method: small JSON tables.
#include "ctl/net/capabilities.h"

#include "absl/strings/escaping.h"
#include "ctl/net/limits.h"
#include "gtest/gtest.h"

namespace almanac::net {
namespace {

using nlohmann::json;

json J(const char* text) {
  json j = json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

TEST(CapabilitiesTest, ParsesSortedWithCompiledRules) {
  auto caps = ParseCapabilities(J(R"([
    {"id": 9, "default": true, "rules": [{"type":"MATCH_ETHERTYPE","etherType":2048},
                                         {"type":"ACTION_ACCEPT"}]},
    {"id": 2}])"));
  ASSERT_TRUE(caps.ok()) << caps.status();
  ASSERT_EQ(caps->size(), 2u);
  EXPECT_EQ((*caps)[0].id, 2u);
  EXPECT_FALSE((*caps)[0].default_grant);
  EXPECT_EQ((*caps)[0].rules_wire, "");
  EXPECT_EQ((*caps)[1].id, 9u);
  EXPECT_TRUE((*caps)[1].default_grant);
  EXPECT_EQ((*caps)[1].rule_count, 2u);
  EXPECT_EQ(absl::BytesToHexString((*caps)[1].rules_wire), "250208000100");
}

TEST(CapabilitiesTest, Errors) {
  const std::pair<const char*, const char*> kCases[] = {
      {R"({})", "capabilities: expected an array, got object"},
      {R"([3])", "capabilities[0]: expected an object, got number"},
      {R"([{"default":true}])", "capabilities[0].id: missing, expected integer 0..4294967295"},
      {R"([{"id":4294967296}])", "capabilities[0].id: expected integer 0..4294967295"},
      {R"([{"id":-1}])", "capabilities[0].id: expected integer 0..4294967295"},
      {R"([{"id":1,"default":"yes"}])", "capabilities[0].default: expected true or false"},
      {R"([{"id":1,"name":"x"}])", "capabilities[0].name: unknown field"},
      {R"([{"id":1},{"id":1}])", "capabilities[1].id: duplicate id 1"},
      {R"([{"id":1,"rules":[{"type":"ACTION_DROP"},{"type":"MATCH_VLAN_ID"}]}])",
       "capabilities[0].rules[1].vlanId: missing, expected integer 0..4095"},
  };
  for (const auto& [text, message] : kCases) {
    auto caps = ParseCapabilities(J(text));
    ASSERT_FALSE(caps.ok()) << text;
    EXPECT_EQ(caps.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(caps.status().message(), message) << text;
  }
  json big_rules = json::array();
  for (size_t i = 0; i <= kCapabilityRulesMax; ++i) big_rules.push_back({{"type", "ACTION_DROP"}});
  auto too_many_rules = ParseCapabilities(json::array({{{"id", 1}, {"rules", big_rules}}}));
  EXPECT_EQ(too_many_rules.status().message(),
            "capabilities[0].rules: 65 rules, at most 64 are allowed");
  json big = json::array();
  for (size_t i = 0; i <= kNetworkCapabilitiesMax; ++i) big.push_back({{"id", i}});
  EXPECT_EQ(ParseCapabilities(big).status().message(),
            "capabilities: 129 entries, at most 128 are allowed");
}

TEST(TagsTest, ParsesAndRefuses) {
  auto tags = ParseTags(J(R"([{"id": 7, "default": 3}, {"id": 1, "default": null}, {"id": 4}])"));
  ASSERT_TRUE(tags.ok()) << tags.status();
  ASSERT_EQ(tags->size(), 3u);
  EXPECT_EQ((*tags)[0].id, 1u);
  EXPECT_FALSE((*tags)[0].default_value.has_value());
  EXPECT_EQ((*tags)[1].id, 4u);
  EXPECT_FALSE((*tags)[1].default_value.has_value());
  EXPECT_EQ((*tags)[2].id, 7u);
  EXPECT_EQ((*tags)[2].default_value, 3u);

  const std::pair<const char*, const char*> kCases[] = {
      {R"("x")", "tags: expected an array, got string"},
      {R"([[1,2]])", "tags[0]: expected an object, got array"},
      {R"([{"id":1,"default":"3"}])", "tags[0].default: expected integer 0..4294967295"},
      {R"([{"id":1.5}])", "tags[0].id: expected integer 0..4294967295"},
      {R"([{"id":1,"value":3}])", "tags[0].value: unknown field"},
      {R"([{"id":2},{"id":2,"default":1}])", "tags[1].id: duplicate id 2"},
  };
  for (const auto& [text, message] : kCases) {
    auto t = ParseTags(J(text));
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().message(), message) << text;
  }
}

}  // namespace
}  // namespace almanac::net
