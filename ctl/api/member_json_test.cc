// Goal: members render with ZeroTier 1.14.1's field set (plus Almanac's name, lastSeen,
// physicalAddress) and values, and every writable field parses, accepts string booleans
// and refuses bad values naming the field.
// Method: the recorded controller_member.json rebuilt from a Member; tables of bodies.
#include "ctl/api/member_json.h"

#include <set>
#include <string>
#include <vector>

#include "base/testing.h"
#include "ctl/api/json_fields.h"
#include "gtest/gtest.h"

namespace almanac::api {
namespace {

using nlohmann::json;

state::MemberConfig Apply(const std::string& body_text,
                          const state::MemberConfig& old = state::MemberConfig{}) {
  absl::StatusOr<json> body = ParseBodyObject(body_text);
  EXPECT_TRUE(body.ok()) << body.status();
  absl::StatusOr<MemberPatch> patch = ParseMemberPatch(*body);
  EXPECT_TRUE(patch.ok()) << body_text << ": " << patch.status();
  return patch.ok() ? ApplyMemberPatch(old, *patch) : old;
}

std::string ErrorOf(const std::string& body_text) {
  absl::StatusOr<json> body = ParseBodyObject(body_text);
  if (!body.ok()) return std::string(body.status().message());
  absl::StatusOr<MemberPatch> patch = ParseMemberPatch(*body);
  return patch.ok() ? "OK" : std::string(patch.status().message());
}

TEST(MemberJsonTest, RendersRecordedMember) {
  const json recorded =
      json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/controller_member.json"));
  state::Member m;
  m.nwid = 0x949cb95e9d7ceef9ULL;
  uint64_t address = 0;
  ASSERT_TRUE(state::ParseIdentityText(recorded["identity"].get<std::string>(), &address,
                                       &m.identity_public));
  m.address = address;
  m.has_identity = true;
  m.config = Apply(R"({"authorized": true, "ipAssignments": ["10.147.20.137"]})");
  m.creation_time_ms = recorded["creationTime"].get<int64_t>();
  m.revision = recorded["revision"].get<uint64_t>();
  m.last_authorized_time_ms = recorded["lastAuthorizedTime"].get<int64_t>();
  m.last_authorized_credential_type = state::CredentialType::kApi;
  MemberLiveFields live;
  live.v_major = 1;
  live.v_minor = 14;
  live.v_rev = 1;
  live.v_proto = 12;
  live.last_seen_ms = 77;
  live.physical_address = "10.99.0.2/9992";
  json expected = recorded;
  expected["name"] = "";
  expected["lastSeen"] = 77;
  expected["physicalAddress"] = "10.99.0.2/9992";
  EXPECT_EQ(RenderMember(m, live), expected);
}

TEST(MemberJsonTest, NeverSeenMemberDefaults) {
  state::Member m;
  m.nwid = 0x949cb95e9d7ceef9ULL;
  m.address = 0x73d8c8d12fULL;
  const json j = RenderMember(m);
  EXPECT_EQ(j["vMajor"], -1);
  EXPECT_EQ(j["vMinor"], -1);
  EXPECT_EQ(j["vRev"], -1);
  EXPECT_EQ(j["vProto"], -1);
  EXPECT_EQ(j["identity"], nullptr);
  EXPECT_EQ(j["lastAuthorizedCredentialType"], nullptr);
  EXPECT_EQ(j["physicalAddress"], nullptr);
  EXPECT_EQ(j["lastSeen"], 0);
  EXPECT_EQ(j["authorized"], false);
  EXPECT_EQ(j["ipAssignments"], json::array());
  EXPECT_EQ(j["tags"], json::array());
  EXPECT_EQ(j["id"], "73d8c8d12f");
}

TEST(MemberJsonTest, EveryFieldParses) {
  const state::MemberConfig c = Apply(R"({
    "authorized": "true", "activeBridge": "true", "noAutoAssignIps": "true",
    "ssoExempt": true, "ipAssignments": ["10.0.0.5", "FD00:0:0::1", "10.0.0.5"],
    "tags": [[1, 2], [3, 4294967295]], "capabilities": [7, 8], "name": "laptop",
    "remoteTraceTarget": "73d8c8d12f", "remoteTraceLevel": 1,
    "identity": "ignored", "revision": 99, "vMajor": 3, "lastAuthorizedTime": 1
  })");
  EXPECT_TRUE(c.authorized);
  EXPECT_TRUE(c.active_bridge);
  EXPECT_TRUE(c.no_auto_assign_ips);
  EXPECT_TRUE(c.sso_exempt);
  EXPECT_EQ(c.ip_assignments, (std::vector<std::string>{"10.0.0.5", "fd00::1"}));
  EXPECT_EQ(c.tags, (std::vector<state::MemberTag>{{1, 2}, {3, 4294967295u}}));
  EXPECT_EQ(c.capabilities, (std::vector<uint32_t>{7, 8}));
  EXPECT_EQ(c.name, "laptop");
  EXPECT_EQ(c.remote_trace_target, "73d8c8d12f");
  EXPECT_EQ(c.remote_trace_level, 1);
  state::Member m;
  m.config = c;
  const json j = RenderMember(m);
  EXPECT_EQ(j["tags"], json::parse("[[1,2],[3,4294967295]]"));
  EXPECT_EQ(j["ipAssignments"], json::parse(R"(["10.0.0.5","fd00::1"])"));
  EXPECT_FALSE(Apply(R"({"authorized": "false"})", c).authorized);
  EXPECT_TRUE(Apply(R"({"name": "x"})", c).authorized);  // partial
  EXPECT_TRUE(Apply(R"({"ipAssignments": []})", c).ip_assignments.empty());
}

TEST(MemberJsonTest, BadValuesNameTheField) {
  const struct {
    const char* body;
    const char* error_prefix;
  } kCases[] = {
      {R"({"authorized": "yes"})", "authorized: expected true or false"},
      {R"({"authorized": 1})", "authorized: expected true or false"},
      {R"({"authorized": null})", "authorized: expected true or false"},
      {R"({"activeBridge": "True"})", "activeBridge: expected true or false"},
      {R"({"noAutoAssignIps": []})", "noAutoAssignIps: expected true or false"},
      {R"({"ipAssignments": "10.0.0.1"})", "ipAssignments: expected an array"},
      {R"({"ipAssignments": ["10.0.0.256"]})", "ipAssignments[0]"},
      {R"({"ipAssignments": ["10.0.0.1/24"]})", "ipAssignments[0]"},
      {R"({"ipAssignments": [7]})", "ipAssignments[0]: expected an IP address string"},
      {R"({"tags": [[1]]})", "tags[0]: expected [id, value]"},
      {R"({"tags": [[1, -2]]})", "tags[0][1]"},
      {R"({"tags": [["1", 2]]})", "tags[0][0]: expected an integer"},
      {R"({"capabilities": [4294967296]})", "capabilities[0]"},
      {R"({"name": {}})", "name: expected a string"},
      {R"({"remoteTraceTarget": "ff00000000"})", "remoteTraceTarget: reserved"},
      {R"({"remoteTraceLevel": "1"})", "remoteTraceLevel: expected an integer"},
  };
  for (const auto& c : kCases) {
    const std::string error = ErrorOf(c.body);
    EXPECT_EQ(error.rfind(c.error_prefix, 0), 0u) << c.body << " gave: " << error;
  }
}

TEST(MemberJsonTest, DiffListsAuthorizedAndIps) {
  const state::MemberConfig old;
  const state::MemberConfig updated = Apply(R"({"authorized":true,"ipAssignments":["10.0.0.1"]})");
  const auto changes = DiffMemberConfig(old, updated);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0], (commands::FieldChange{"authorized", "false", "true"}));
  EXPECT_EQ(changes[1], (commands::FieldChange{"ipAssignments", "[]", R"(["10.0.0.1"])"}));
}

// The diff as comparing the two whole renderings gives it (what DiffMemberConfig did
// before it rendered only the fields that differ): what it must still give.
std::vector<commands::FieldChange> DiffOfWholeRenderings(const state::MemberConfig& old,
                                                         const state::MemberConfig& updated) {
  const json a = RenderMemberConfig(old);
  const json b = RenderMemberConfig(updated);
  std::vector<commands::FieldChange> changes;
  for (auto it = b.begin(); it != b.end(); ++it) {
    const std::string old_text = DumpJson(a.at(it.key()));
    const std::string new_text = DumpJson(it.value());
    if (old_text != new_text) changes.push_back({it.key(), old_text, new_text});
  }
  return changes;
}

TEST(MemberJsonTest, DiffEqualsComparingWholeRenderings) {
  state::MemberConfig base;
  base.name = "office";
  base.ip_assignments = {"10.0.0.1"};
  base.tags = {{1, 2}};
  base.capabilities = {3};
  using Edit = void (*)(state::MemberConfig&);
  const Edit kEdits[] = {
      [](state::MemberConfig& c) { c.authorized = true; },
      [](state::MemberConfig& c) { c.active_bridge = true; },
      [](state::MemberConfig& c) { c.no_auto_assign_ips = true; },
      [](state::MemberConfig& c) { c.sso_exempt = true; },
      [](state::MemberConfig& c) { c.remote_trace_level = 7; },
      [](state::MemberConfig& c) { c.ip_assignments.push_back("fd00::1"); },
      [](state::MemberConfig& c) { c.ip_assignments.clear(); },
      [](state::MemberConfig& c) { c.tags = {{1, 3}}; },
      [](state::MemberConfig& c) { c.capabilities = {3, 4}; },
      [](state::MemberConfig& c) { c.name = "lab"; },
      [](state::MemberConfig& c) { c.remote_trace_target = "0123456789"; },
  };
  size_t edited = 0;
  state::MemberConfig all = base;
  for (const Edit edit : kEdits) {
    state::MemberConfig updated = base;
    edit(updated);
    edit(all);
    const std::vector<commands::FieldChange> changes = DiffMemberConfig(base, updated);
    EXPECT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes, DiffOfWholeRenderings(base, updated));
    EXPECT_EQ(DiffMemberConfig(updated, base), DiffOfWholeRenderings(updated, base));
    ++edited;
  }
  EXPECT_EQ(DiffMemberConfig(base, all).size(), 10u) << "one of the fields was edited twice";
  EXPECT_EQ(DiffMemberConfig(base, all), DiffOfWholeRenderings(base, all));
  EXPECT_TRUE(DiffMemberConfig(base, base).empty());
  // Different bytes that render alike (invalid UTF-8 becomes U+FFFD) are no change.
  state::MemberConfig a = base, b = base;
  a.name = "\xff";
  b.name = "\xfe";
  EXPECT_TRUE(DiffOfWholeRenderings(a, b).empty());
  EXPECT_TRUE(DiffMemberConfig(a, b).empty());
}

TEST(JsonFieldsTest, BodyParsing) {
  EXPECT_TRUE(ParseBodyObject("").ok());
  EXPECT_TRUE(ParseBodyObject("  \n").ok());
  EXPECT_EQ(ParseBodyObject(std::string(10000, '[')).status().message(),
            "body: nesting deeper than 32");
  EXPECT_EQ(ParseBodyObject("\"s\"").status().message(), "body: expected a JSON object");
  EXPECT_EQ(ParseBodyObject("{\"a\":1").status().message(), "body: malformed JSON");
  // Brackets inside strings do not count as nesting.
  EXPECT_TRUE(ParseBodyObject("{\"a\":\"" + std::string(100, '[') + "\"}").ok());
}

}  // namespace
}  // namespace almanac::api
