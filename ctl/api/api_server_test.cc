// Goal: every admin API endpoint answers as ZeroTier's controller does (status codes and
// bodies), changes are visible to the next GET, no-ops write nothing, and auth, 404, 405
// and 400 behave. Method: the server on port 0 over a real journal (api_test_env.h),
// driven with httplib::Client; the journal's last_seq counts the events written.
#include <chrono>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/testing.h"
#include "ctl/api/api_test_env.h"
#include "ctl/sequencer.h"
#include "gtest/gtest.h"

namespace almanac::api {
namespace {

using nlohmann::json;

constexpr char kMemberAddress[] = "73d8c8d12f";

class ApiServerTest : public ApiServerTestBase {};

TEST_F(ApiServerTest, AuthAcceptsThreeFormsAndRefusesOthers) {
  EXPECT_EQ(GetWithHeaders("/controller", {{"X-ZT1-Auth", kTestToken}}).status, 200);
  EXPECT_EQ(GetWithHeaders("/controller", {{"Authorization", std::string("Bearer ") + kTestToken}})
                .status,
            200);
  EXPECT_EQ(GetWithHeaders(std::string("/controller?auth=") + kTestToken, {}).status, 200);
  for (const httplib::Headers& h : std::vector<httplib::Headers>{
           {}, {{"X-ZT1-Auth", "wrong"}}, {{"X-ZT1-Auth", std::string(kTestToken) + "x"}},
           {{"X-ZT1-Auth", "1123456789abcdefghijklmn"}}, {{"Authorization", kTestToken}},
           {{"Authorization", "Basic abc"}}}) {
    HttpResult r = GetWithHeaders("/controller/network", h);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, "{}");
  }
  EXPECT_EQ(GetWithHeaders("/status?auth=nope", {}).status, 401);
}

TEST_F(ApiServerTest, ControllerStatusPeersMetrics) {
  HttpResult c = Get("/controller");
  ASSERT_EQ(c.status, 200);
  EXPECT_EQ(c.json, json::parse(R"({"controller":true,"apiVersion":4,"clock":1795818880999,
                                    "databaseReady":true})"));
  HttpResult s = Get("/status");
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.json["address"], "949cb95e9d");
  EXPECT_EQ(s.json["publicIdentity"], "949cb95e9d:0:ff05");
  EXPECT_EQ(s.json["version"], "1.14.1");
  EXPECT_EQ(s.json["versionMajor"], 1);
  EXPECT_EQ(s.json["versionMinor"], 14);
  EXPECT_EQ(s.json["versionRev"], 1);
  EXPECT_EQ(s.json["online"], true);
  EXPECT_EQ(s.json["role"], "primary");
  EXPECT_EQ(s.json["lastSeq"], 0);
  EXPECT_EQ(s.json["epoch"], 1);
  EXPECT_EQ(s.json["networks"], 0);
  EXPECT_EQ(s.json["members"], 0);
  EXPECT_EQ(Get("/peer").json, json::array());
  const json peers = json::parse(R"([{"address":"6914243cae"}])");
  SetPeers(peers);
  EXPECT_EQ(Get("/peer").json, peers);
  EXPECT_EQ(Get("/peer/6914243cae").status, 404);
  HttpResult m = Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("almanac_networks 0\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("almanac_http_requests_total{endpoint=\"/status\",method=\"GET\","
                        "status=\"200\"} 1\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("almanac_sequencer_batches_written_total 0\n"), std::string::npos);
  EXPECT_NE(m.body.find("\nalmanac_journal_syncs_total "), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("\nalmanac_journal_sync_seconds_total "), std::string::npos) << m.body;
  for (const ctl::SequencerStage& stage : ctl::kSequencerStages) {
    EXPECT_NE(m.body.find(absl::StrCat("almanac_sequencer_seconds_total{stage=\"", stage.name,
                                       "\"} ")),
              std::string::npos)
        << stage.name;
  }
}

TEST_F(ApiServerTest, NetworkLifecycle) {
  const json lab = json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/lab.json"));
  const json recorded =
      json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/controller_network.json"));
  const std::string id = CreateNetwork(lab["network_request_body"].dump());
  ASSERT_EQ(id.size(), 16u);
  EXPECT_EQ(id.substr(0, 10), "949cb95e9d");
  EXPECT_EQ(last_seq(), 1u);

  HttpResult got = Get("/controller/network/" + id);
  ASSERT_EQ(got.status, 200);
  json expected = recorded;
  expected["id"] = id;
  expected["nwid"] = id;
  expected["creationTime"] = 1795818880722;
  EXPECT_EQ(got.json, expected);
  EXPECT_EQ(Get("/controller/network").json, json::array({id}));

  // An update bumps the revision; the same update again writes nothing.
  HttpResult changed = Put("/controller/network/" + id, R"({"mtu": 1400, "private": "false"})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.json["mtu"], 1400);
  EXPECT_EQ(changed.json["private"], false);
  EXPECT_EQ(changed.json["revision"], 2);
  EXPECT_EQ(last_seq(), 2u);
  HttpResult same = Post("/controller/network/" + id, R"({"mtu": 1400})");
  EXPECT_EQ(same.json["revision"], 2);
  EXPECT_EQ(last_seq(), 2u);

  // Create at a chosen id of ours; refuse another controller's.
  HttpResult chosen = Post("/controller/network/949cb95e9d000abc", R"({"name":"c"})");
  ASSERT_EQ(chosen.status, 200) << chosen.body;
  EXPECT_EQ(chosen.json["id"], "949cb95e9d000abc");
  EXPECT_EQ(chosen.json["revision"], 1);
  HttpResult foreign = Post("/controller/network/1111111111000abc", "{}");
  EXPECT_EQ(foreign.status, 400);
  EXPECT_NE(foreign.json["error"].get<std::string>().find("not this controller"),
            std::string::npos);
  EXPECT_EQ(Get("/controller/network/1111111111000abc").status, 404);

  // <address>______ creates with a random id; only our address, only POST/PUT.
  HttpResult underscore = Post("/controller/network/949cb95e9d______", R"({"name":"u"})");
  ASSERT_EQ(underscore.status, 200) << underscore.body;
  EXPECT_EQ(underscore.json["name"], "u");
  EXPECT_EQ(Post("/controller/network/0123456789______", "{}").status, 400);
  EXPECT_EQ(Get("/controller/network/949cb95e9d______").status, 405);

  HttpResult unstable = Get("/unstable/controller/network");
  ASSERT_EQ(unstable.status, 200);
  EXPECT_EQ(unstable.json["meta"]["totalCount"], 3);
  EXPECT_EQ(unstable.json["data"].size(), 3u);
  EXPECT_EQ(Get("/status").json["networks"], 3);

  // DELETE answers with the deleted object; then it is gone.
  HttpResult deleted = Delete("/controller/network/" + id);
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.json["id"], id);
  EXPECT_EQ(deleted.json["mtu"], 1400);
  EXPECT_EQ(Get("/controller/network/" + id).status, 404);
  EXPECT_EQ(Delete("/controller/network/" + id).status, 404);
  EXPECT_EQ(Get("/controller/network/" + id + "/member").status, 404);
}

TEST_F(ApiServerTest, MemberLifecycle) {
  const std::string id = CreateNetwork(R"({"name":"m"})");
  const std::string base = "/controller/network/" + id + "/member";
  const std::string path = base + "/" + kMemberAddress;
  EXPECT_EQ(Get(path).status, 404);
  EXPECT_EQ(Get(base).json, json::object());

  HttpResult created = Post(path, R"({"authorized": "true", "name": "laptop"})");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.json["authorized"], true);
  EXPECT_EQ(created.json["lastAuthorizedTime"], 1795818880722);
  EXPECT_EQ(created.json["lastAuthorizedCredentialType"], "api");
  EXPECT_EQ(created.json["revision"], 2);
  EXPECT_EQ(created.json["vMajor"], -1);
  EXPECT_EQ(created.json["vProto"], -1);
  EXPECT_EQ(created.json["nwid"], id);
  EXPECT_EQ(created.json["id"], kMemberAddress);
  const json recorded =
      json::parse(testing::ReadFileOrFail(testing::VectorsDir() + "/controller_member.json"));
  std::set<std::string> want;
  for (auto it = recorded.begin(); it != recorded.end(); ++it) want.insert(it.key());
  want.insert({"name", "lastSeen", "physicalAddress"});
  std::set<std::string> have;
  for (auto it = created.json.begin(); it != created.json.end(); ++it) have.insert(it.key());
  EXPECT_EQ(have, want);
  EXPECT_EQ(Get(base).json, json::parse(std::string(R"({")") + kMemberAddress + R"(":2})"));

  // Telemetry shows in the member.
  ctl::MemberTelemetry t;
  t.last_seen_ms = 42;
  t.physical_address = "10.99.0.2/9992";
  t.version_major = 1;
  t.version_minor = 14;
  t.version_revision = 1;
  t.protocol_version = 12;
  ASSERT_TRUE(telemetry_->Record(std::stoull(id, nullptr, 16), 0x73d8c8d12fULL, t));
  HttpResult seen = Get(path);
  EXPECT_EQ(seen.json["vMajor"], 1);
  EXPECT_EQ(seen.json["vProto"], 12);
  EXPECT_EQ(seen.json["lastSeen"], 42);
  EXPECT_EQ(seen.json["physicalAddress"], "10.99.0.2/9992");

  // A no-op POST writes nothing; a change is visible at once.
  const uint64_t seq = last_seq();
  EXPECT_EQ(Post(path, R"({"authorized": true})").json["revision"], 2);
  EXPECT_EQ(last_seq(), seq);
  HttpResult ips = Post(path, R"({"ipAssignments": ["10.147.20.5", "fd00::0:1"]})");
  EXPECT_EQ(ips.json["ipAssignments"], json::parse(R"(["10.147.20.5","fd00::1"])"));
  EXPECT_EQ(Get(path).json["ipAssignments"], ips.json["ipAssignments"]);
  HttpResult deauth = Put(path, R"({"authorized": false})");
  EXPECT_EQ(deauth.json["authorized"], false);
  EXPECT_EQ(deauth.json["lastDeauthorizedTime"], 1795818880722);

  HttpResult list = Get("/unstable/controller/network/" + id + "/member");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json["meta"]["totalCount"], 1);
  EXPECT_EQ(list.json["meta"]["authorizedCount"], 0);
  EXPECT_EQ(list.json["data"][0]["id"], kMemberAddress);

  HttpResult deleted = Delete(path);
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.json["name"], "laptop");
  EXPECT_EQ(Get(path).status, 404);
  EXPECT_FALSE(telemetry_->Get(std::stoull(id, nullptr, 16), 0x73d8c8d12fULL).has_value());
  EXPECT_EQ(Delete(path).status, 404);
}

TEST_F(ApiServerTest, NotFoundMethodNotAllowedBadRequest) {
  const std::string id = CreateNetwork("{}");
  EXPECT_EQ(Get("/nope").status, 404);
  EXPECT_EQ(Get("/controller/nope").status, 404);
  EXPECT_EQ(Get("/controller/network/" + id + "/nope").status, 404);
  EXPECT_EQ(Get("/controller/network/" + id + "/member/73d8c8d12f/x").status, 404);
  HttpResult patch = Patch("/controller/network/" + id, "{}");
  EXPECT_EQ(patch.status, 405);
  EXPECT_EQ(patch.header_allow, "GET, POST, PUT, DELETE");
  EXPECT_EQ(Delete("/controller").status, 405);
  EXPECT_EQ(Post("/status", "{}").status, 405);
  EXPECT_EQ(Delete("/controller/network/" + id + "/member").status, 405);
  HttpResult bad = Post("/controller/network/" + id, R"({"mtu": "big"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json, json::parse(R"({"error":"mtu: expected an integer"})"));
  EXPECT_EQ(Get("/controller/network/xyz").status, 400);
  EXPECT_EQ(Get("/controller/network/" + id + "/member/xyz").status, 400);
  EXPECT_EQ(Post("/controller/network/949cb95e9d00bad0/member/73d8c8d12f", "{}").status, 404);
}

// Keep-alive must not stall: many small requests on one connection complete quickly
// (with Nagle on, each would wait ~40 ms for a delayed ACK).
TEST_F(ApiServerTest, KeepAliveRequestsDoNotStall) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) ASSERT_EQ(Get("/controller").status, 200);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::printf("100 keep-alive requests took %lld ms\n", static_cast<long long>(ms));
  EXPECT_LT(ms, 3000);
}

}  // namespace
}  // namespace almanac::api
