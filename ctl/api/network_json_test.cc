// Goal: networks render with exactly ZeroTier 1.14.1's field set and defaults, the labs'
// request bodies give exactly the recorded controller output, and every field parses,
// clamps, accepts string booleans and refuses bad values with an error naming it.
// Method: tables over ParseNetworkPatch/ApplyNetworkPatch/RenderNetwork, and the recorded
// vectors in shared/vectors/zerotier-1.14.1 (main and fragmented labs).
#include "ctl/api/network_json.h"

#include <set>
#include <string>

#include "base/testing.h"
#include "ctl/api/json_fields.h"
#include "gtest/gtest.h"

namespace almanac::api {
namespace {

using nlohmann::json;

constexpr uint64_t kNwid = 0x949cb95e9d7ceef9ULL;

state::NetworkConfig Apply(const std::string& body_text,
                           const state::NetworkConfig& old = state::NetworkConfig{}) {
  absl::StatusOr<json> body = ParseBodyObject(body_text);
  EXPECT_TRUE(body.ok()) << body.status();
  absl::StatusOr<NetworkPatch> patch = ParseNetworkPatch(*body);
  EXPECT_TRUE(patch.ok()) << body_text << ": " << patch.status();
  return patch.ok() ? ApplyNetworkPatch(old, *patch) : old;
}

std::string ErrorOf(const std::string& body_text) {
  absl::StatusOr<json> body = ParseBodyObject(body_text);
  if (!body.ok()) return std::string(body.status().message());
  absl::StatusOr<NetworkPatch> patch = ParseNetworkPatch(*body);
  if (patch.ok()) return "OK";
  EXPECT_EQ(patch.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(patch.status().message());
}

std::set<std::string> Keys(const json& j) {
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  return keys;
}

TEST(NetworkJsonTest, DefaultsAndFieldSetMatchZeroTier) {
  const json recorded =
      json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/controller_network.json"));
  state::Network network;
  network.nwid = kNwid;
  network.creation_time_ms = 5;
  network.revision = 1;
  const json j = RenderNetwork(network);
  EXPECT_EQ(Keys(j), Keys(recorded));
  EXPECT_EQ(j["id"], "949cb95e9d7ceef9");
  EXPECT_EQ(j["nwid"], "949cb95e9d7ceef9");
  EXPECT_EQ(j["objtype"], "network");
  EXPECT_EQ(j["name"], "");
  EXPECT_EQ(j["private"], true);
  EXPECT_EQ(j["enableBroadcast"], true);
  EXPECT_EQ(j["multicastLimit"], 32);
  EXPECT_EQ(j["mtu"], 2800);
  EXPECT_EQ(j["v4AssignMode"], json::parse(R"({"zt":false})"));
  EXPECT_EQ(j["v6AssignMode"], json::parse(R"({"zt":false,"rfc4193":false,"6plane":false})"));
  EXPECT_EQ(j["routes"], json::array());
  EXPECT_EQ(j["ipAssignmentPools"], json::array());
  EXPECT_EQ(j["rules"], json::parse(R"([{"type":"ACTION_ACCEPT"}])"));
  EXPECT_EQ(j["capabilities"], json::array());
  EXPECT_EQ(j["tags"], json::array());
  EXPECT_EQ(j["dns"], json::array());
  EXPECT_EQ(j["remoteTraceTarget"], nullptr);
  EXPECT_EQ(j["remoteTraceLevel"], 0);
  EXPECT_EQ(j["rulesSource"], "");
  EXPECT_EQ(j["ssoEnabled"], false);
  EXPECT_EQ(j["authTokens"], json::parse("[null]"));
  EXPECT_EQ(j["authorizationEndpoint"], "");
  EXPECT_EQ(j["clientId"], "");
  EXPECT_EQ(j["creationTime"], 5);
  EXPECT_EQ(j["revision"], 1);
}

// The lab's POST body, applied to a new network, renders exactly as ZeroTier's
// controller did (ids, creation time and revision taken from the recording).
void CheckLab(const std::string& dir) {
  const json lab = json::parse(testing::ReadFileOrFail(dir + "/lab.json"));
  const json recorded = json::parse(testing::ReadFileOrFail(dir + "/controller_network.json"));
  state::Network network;
  network.nwid = std::stoull(recorded["id"].get<std::string>(), nullptr, 16);
  network.creation_time_ms = recorded["creationTime"].get<int64_t>();
  network.revision = recorded["revision"].get<uint64_t>();
  network.config = Apply(lab["network_request_body"].dump());
  const json rendered = RenderNetwork(network);
  EXPECT_EQ(rendered, recorded) << "rendered:\n" << rendered.dump(1).substr(0, 3000);
}

TEST(NetworkJsonTest, MainLabRoundTrip) { CheckLab(testing::VectorsDir()); }
TEST(NetworkJsonTest, FragmentedLabRoundTrip) { CheckLab(testing::VectorsDir() + "/fragmented"); }

TEST(NetworkJsonTest, EveryFieldParses) {
  const state::NetworkConfig c = Apply(R"({
    "name": "n1", "private": false, "enableBroadcast": false, "multicastLimit": 7,
    "mtu": 1500, "v4AssignMode": {"zt": true},
    "v6AssignMode": {"zt": true, "rfc4193": true, "6plane": true},
    "routes": [{"target": "10.1.0.0/16", "via": null}, {"target": "fd00::/8", "via": "fd00::1"}],
    "ipAssignmentPools": [{"ipRangeStart": "10.1.0.10", "ipRangeEnd": "10.1.0.20"}],
    "rules": [{"type": "MATCH_ETHERTYPE", "not": true, "or": false, "etherType": 2048},
              {"type": "ACTION_DROP"}, {"type": "ACTION_ACCEPT"}],
    "capabilities": [{"id": 1, "default": true, "rules": [{"type": "ACTION_ACCEPT"}]}],
    "tags": [{"id": 3, "default": 4}],
    "dns": {"domain": "example.net", "servers": ["10.1.0.1", "fd00::53"]},
    "remoteTraceTarget": "73D8C8D12F", "remoteTraceLevel": 2,
    "rulesSource": "accept;", "ssoEnabled": false,
    "id": "ffffffffffffffff", "nwid": "x", "revision": 99, "creationTime": 1,
    "objtype": "bogus", "authTokens": 5, "unknownField": {"a": 1}
  })");
  EXPECT_EQ(c.name, "n1");
  EXPECT_FALSE(c.private_network);
  EXPECT_FALSE(c.enable_broadcast);
  EXPECT_EQ(c.multicast_limit, 7u);
  EXPECT_EQ(c.mtu, 1500u);
  EXPECT_TRUE(c.v4_assign_zt && c.v6_assign_zt && c.v6_assign_rfc4193 && c.v6_assign_6plane);
  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(c.routes[0], (state::Route{"10.1.0.0/16", ""}));
  EXPECT_EQ(c.routes[1], (state::Route{"fd00::/8", "fd00::1"}));
  EXPECT_EQ(c.ip_assignment_pools[0], (state::IpPool{"10.1.0.10", "10.1.0.20"}));
  EXPECT_EQ(json::parse(c.rules_json).size(), 3u);
  EXPECT_EQ(json::parse(c.capabilities_json)[0]["id"], 1);
  EXPECT_EQ(json::parse(c.tags_json)[0]["default"], 4);
  ASSERT_TRUE(c.dns.has_value());
  EXPECT_EQ(c.dns->servers, (std::vector<std::string>{"10.1.0.1", "fd00::53"}));
  EXPECT_EQ(c.remote_trace_target, "73d8c8d12f");
  EXPECT_EQ(c.remote_trace_level, 2);
  EXPECT_EQ(c.rules_source, "accept;");

  // What is POSTed is what is GET.
  state::Network n;
  n.config = c;
  const json j = RenderNetwork(n);
  EXPECT_EQ(j["rules"], json::parse(R"([{"type":"MATCH_ETHERTYPE","not":true,"or":false,
      "etherType":2048},{"type":"ACTION_DROP"},{"type":"ACTION_ACCEPT"}])"));
  EXPECT_EQ(j["capabilities"],
            json::parse(R"([{"id":1,"default":true,"rules":[{"type":"ACTION_ACCEPT"}]}])"));
  EXPECT_EQ(j["dns"], json::parse(R"({"domain":"example.net","servers":["10.1.0.1","fd00::53"]})"));
  EXPECT_EQ(j["routes"][1], json::parse(R"({"target":"fd00::/8","via":"fd00::1"})"));
}

TEST(NetworkJsonTest, PartialUpdateKeepsOtherFields) {
  state::NetworkConfig old = Apply(R"({"name":"a","mtu":1400,"private":false})");
  const state::NetworkConfig c = Apply(R"({"name":"b"})", old);
  EXPECT_EQ(c.name, "b");
  EXPECT_EQ(c.mtu, 1400u);
  EXPECT_FALSE(c.private_network);
  // Partial v6AssignMode changes only the named flag.
  const state::NetworkConfig d = Apply(R"({"v6AssignMode":{"6plane":true}})",
                                       Apply(R"({"v6AssignMode":{"rfc4193":true}})"));
  EXPECT_TRUE(d.v6_assign_6plane);
  EXPECT_TRUE(d.v6_assign_rfc4193);
  EXPECT_FALSE(d.v6_assign_zt);
}

TEST(NetworkJsonTest, ClampsLikeZeroTier) {
  EXPECT_EQ(Apply(R"({"mtu": 100})").mtu, 1280u);
  EXPECT_EQ(Apply(R"({"mtu": -5})").mtu, 1280u);
  EXPECT_EQ(Apply(R"({"mtu": 99999})").mtu, 10000u);
  EXPECT_EQ(Apply(R"({"mtu": 18446744073709551615})").mtu, 10000u);
  EXPECT_EQ(Apply(R"({"multicastLimit": -1})").multicast_limit, 0u);
  EXPECT_EQ(Apply(R"({"multicastLimit": 99999999999})").multicast_limit, 0xffffffffu);
}

TEST(NetworkJsonTest, StringBooleans) {
  EXPECT_FALSE(Apply(R"({"private": "false"})").private_network);
  EXPECT_FALSE(Apply(R"({"enableBroadcast": "false"})").enable_broadcast);
  EXPECT_TRUE(Apply(R"({"v4AssignMode": {"zt": "true"}})").v4_assign_zt);
  const state::NetworkConfig c =
      Apply(R"({"v6AssignMode": {"zt": "true", "rfc4193": "true", "6plane": "true"}})");
  EXPECT_TRUE(c.v6_assign_zt && c.v6_assign_rfc4193 && c.v6_assign_6plane);
}

TEST(NetworkJsonTest, DnsUnsetForms) {
  const state::NetworkConfig with = Apply(R"({"dns": {"domain": "a.b", "servers": []}})");
  ASSERT_TRUE(with.dns.has_value());
  EXPECT_FALSE(Apply(R"({"dns": []})", with).dns.has_value());
  EXPECT_FALSE(Apply(R"({"dns": null})", with).dns.has_value());
}

TEST(NetworkJsonTest, DefaultRulesStoreAsEmpty) {
  EXPECT_EQ(Apply(R"({"rules": [{"type": "ACTION_ACCEPT"}]})").rules_json, "");
  EXPECT_EQ(Apply(R"({"capabilities": [], "tags": []})").capabilities_json, "");
}

TEST(NetworkJsonTest, BadValuesNameTheField) {
  const struct {
    const char* body;
    const char* error_prefix;
  } kCases[] = {
      {R"({"mtu": "1500"})", "mtu: expected an integer"},
      {R"({"mtu": 1500.5})", "mtu: expected an integer"},
      {R"({"multicastLimit": true})", "multicastLimit: expected an integer"},
      {R"({"name": 5})", "name: expected a string"},
      {R"({"private": "yes"})", "private: expected true or false"},
      {R"({"private": 1})", "private: expected true or false"},
      {R"({"enableBroadcast": "TRUE"})", "enableBroadcast: expected true or false"},
      {R"({"v4AssignMode": true})", "v4AssignMode: expected an object"},
      {R"({"v4AssignMode": {"zt": "1"}})", "v4AssignMode.zt: expected true or false"},
      {R"({"v6AssignMode": {"6plane": null}})", "v6AssignMode.6plane: expected true or false"},
      {R"({"routes": {}})", "routes: expected an array"},
      {R"({"routes": [{"target": "10.0.0.0"}]})", "routes[0].target"},
      {R"({"routes": [{"target": "10.0.0.0/33"}]})", "routes[0].target"},
      {R"({"routes": [{"target": "300.0.0.0/8"}]})", "routes[0].target"},
      {R"({"routes": [{"via": "10.0.0.1"}]})", "routes[0].target"},
      {R"({"routes": [{"target": "10.0.0.0/8", "via": "fd00::1"}]})", "routes[0].via"},
      {R"({"routes": [{"target": "10.0.0.0/8", "via": "nope"}]})", "routes[0].via"},
      {R"({"routes": [5]})", "routes[0]: expected an object"},
      {R"({"ipAssignmentPools": [{"ipRangeStart": "10.0.0.9"}]})",
       "ipAssignmentPools[0].ipRangeEnd: missing"},
      {R"({"ipAssignmentPools": [{"ipRangeStart": "10.0.0.9", "ipRangeEnd": "10.0.0.1"}]})",
       "ipAssignmentPools[0]: ipRangeStart is after ipRangeEnd"},
      {R"({"ipAssignmentPools": [{"ipRangeStart": "10.0.0.1", "ipRangeEnd": "fd00::1"}]})",
       "ipAssignmentPools[0]: ipRangeStart and ipRangeEnd are of different"},
      {R"({"ipAssignmentPools": [{"ipRangeStart": "10.0.0.1/8", "ipRangeEnd": "10.0.0.2"}]})",
       "ipAssignmentPools[0].ipRangeStart"},
      {R"({"rules": [{"type": "ACTION_TELEPORT"}]})", "rules[0]"},
      {R"({"rules": [{"type": "MATCH_ETHERTYPE", "etherType": 70000}]})", "rules[0]"},
      {R"({"rules": {"type": "ACTION_ACCEPT"}})", "rules"},
      {R"({"capabilities": [{"rules": []}]})", "capabilities[0].id: missing"},
      {R"({"capabilities": [{"id": 1, "rules": [{"type": "X"}]}]})", "capabilities[0].rules[0]"},
      {R"({"tags": [{"id": -1}]})", "tags[0].id"},
      {R"({"tags": [{"id": 1, "default": "x"}]})", "tags[0].default"},
      {R"({"dns": "example.com"})", "dns: expected an object"},
      {R"({"dns": {"domain": "a", "servers": ["1.2.3.4", "1.2.3.5", "1.2.3.6", "1.2.3.7",
          "1.2.3.8"]}})", "dns.servers: more than 4 entries"},
      {R"({"dns": {"domain": "a", "servers": ["x"]}})", "dns.servers[0]"},
      {R"({"dns": {"domain": 7}})", "dns.domain"},
      {R"({"remoteTraceTarget": "xyz"})", "remoteTraceTarget"},
      {R"({"remoteTraceLevel": -1})", "remoteTraceLevel"},
      {R"({"rulesSource": []})", "rulesSource"},
      {R"([1, 2])", "body: expected a JSON object"},
      {R"({"name": )", "body: malformed JSON"},
  };
  for (const auto& c : kCases) {
    const std::string error = ErrorOf(c.body);
    EXPECT_EQ(error.rfind(c.error_prefix, 0), 0u) << c.body << " gave: " << error;
  }
}

TEST(NetworkJsonTest, ArraysAreCapped) {
  json routes = json::array();
  for (int i = 0; i < 16385; ++i) routes.push_back({{"target", "10.0.0.0/8"}});
  EXPECT_EQ(ErrorOf(json{{"routes", routes}}.dump()), "routes: more than 16384 entries");
}

TEST(NetworkJsonTest, DiffNamesChangedFieldsWithOldAndNewJson) {
  const state::NetworkConfig old = Apply(R"({"name":"a"})");
  const state::NetworkConfig updated = Apply(R"({"name":"b","v4AssignMode":{"zt":true}})", old);
  const auto changes = DiffNetworkConfig(old, updated);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0], (commands::FieldChange{"name", "\"a\"", "\"b\""}));
  EXPECT_EQ(changes[1], (commands::FieldChange{"v4AssignMode", R"({"zt":false})",
                                               R"({"zt":true})"}));
  EXPECT_TRUE(DiffNetworkConfig(old, old).empty());
}

}  // namespace
}  // namespace almanac::api
