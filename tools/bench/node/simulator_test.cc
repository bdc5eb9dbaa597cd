// Goal: the node simulator reports what a controller really answered, checked as a node
// checks it. Method: an in-process controller (real journal, sequencer and UDP responder on
// loopback) with one private network that has an IPv4 pool; three members with the lab's
// identities (shared/vectors/zerotier-1.14.1/lab.json): one authorized, one unknown to the
// network, one asking for a network that does not exist. The simulator must report OK with
// an address from the pool (plus the route and rule counts of the network), ACCESS_DENIED
// and NOT_FOUND, and the responder's counters must agree.
#include "tools/bench/node/simulator.h"

#include "absl/strings/str_cat.h"
#include "base/testing.h"
#include "ctl/zt/messages.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tools/bench/node/in_process.h"

namespace almanac::bench {
namespace {

std::vector<zt::Identity> LabIdentities() {
  nlohmann::json lab = nlohmann::json::parse(
      testing::ReadFileOrFail(testing::VectorsDir() + "/lab.json"), nullptr, false);
  EXPECT_FALSE(lab.is_discarded());
  std::vector<zt::Identity> identities;
  for (const char* name : {"M", "R", "C"}) {
    auto id = zt::Identity::FromString(lab["nodes"][name]["secret"].get<std::string>());
    EXPECT_TRUE(id.ok()) << id.status();
    if (id.ok()) identities.push_back(*id);
  }
  return identities;
}

TEST(SimulatorTest, AuthorizedDeniedAndNotFound) {
  std::vector<zt::Identity> identities = LabIdentities();
  ASSERT_EQ(identities.size(), 3u);
  auto controller = InProcessController::Start(testing::MakeTempDir("sim") + "/home", {});
  ASSERT_TRUE(controller.ok()) << controller.status();
  InProcessController& c = **controller;

  const uint64_t nwid = c.NetworkId(0x51a);
  state::NetworkConfig config;
  config.name = "sim";
  config.v4_assign_zt = true;
  config.routes = {{"10.147.20.0/24", ""}, {"10.200.0.0/16", "10.147.20.1"}};
  config.ip_assignment_pools = {{"10.147.20.10", "10.147.20.200"}};
  config.rules_json = R"([{"type":"MATCH_ETHERTYPE","not":true,"etherType":2048},)"
                      R"({"type":"ACTION_DROP"},{"type":"ACTION_ACCEPT"}])";
  ASSERT_TRUE(c.CreateNetwork(nwid, config).ok());
  ASSERT_TRUE(c.AddMembers(nwid, {{identities[0].address(), &identities[0], true, ""}}).ok());

  SimulatorOptions options;
  options.controller_physical = c.address();
  options.controller = c.identity();
  options.members = identities;
  options.nwids = {nwid, nwid, c.NetworkId(0xbad)};
  options.timeout = absl::Seconds(20);
  auto report = RunSimulation(options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->members.size(), 3u);

  const MemberResult& ok = report->members[0];
  EXPECT_EQ(ok.address, identities[0].address());
  ASSERT_EQ(ok.status, SimStatus::kOk) << SimStatusName(ok.status) << " " << ok.detail;
  ASSERT_EQ(ok.config.ips.size(), 1u);
  const std::string& ip = ok.config.ips[0];  // "10.147.20.N/24"
  ASSERT_EQ(ip.rfind("10.147.20.", 0), 0u) << ip;
  ASSERT_EQ(ip.substr(ip.size() - 3), "/24") << ip;
  const int host = std::stoi(ip.substr(10, ip.size() - 13));
  EXPECT_GE(host, 10);
  EXPECT_LE(host, 200);
  EXPECT_EQ(ok.config.routes, 2u);
  EXPECT_EQ(ok.config.rules, 3u);
  EXPECT_EQ(ok.config.name, "sim");

  EXPECT_EQ(report->members[1].status, SimStatus::kAccessDenied)
      << SimStatusName(report->members[1].status);
  EXPECT_EQ(report->members[2].status, SimStatus::kNotFound)
      << SimStatusName(report->members[2].status);
  EXPECT_EQ(report->packets_rejected, 0u);

  netconf::ResponderCounters counters = c.counters();
  EXPECT_EQ(counters.answered_config, 1u);
  EXPECT_GE(counters.answered_denied, 1u);
  EXPECT_GE(counters.answered_not_found, 1u);
}

// A config over one chunk (1,000 IPv6 rules of 19 bytes each: about 19 KB, two chunks, each
// sent as a fragmented packet) is put back together and checked.
TEST(SimulatorTest, ReassemblesMultiChunkConfig) {
  std::vector<zt::Identity> identities = LabIdentities();
  ASSERT_FALSE(identities.empty());
  auto controller = InProcessController::Start(testing::MakeTempDir("sim") + "/home", {});
  ASSERT_TRUE(controller.ok()) << controller.status();
  InProcessController& c = **controller;
  const uint64_t nwid = c.NetworkId(0xb16);
  state::NetworkConfig config;
  config.name = "big";
  std::string rules = "[";
  for (int i = 0; i < 1000; ++i) {
    rules += absl::StrCat(R"({"type":"MATCH_IPV6_DEST","ip":"fd00:1234::)", absl::Hex(i),
                          R"(/128"},)");
  }
  rules += R"({"type":"ACTION_ACCEPT"}])";
  config.rules_json = rules;
  ASSERT_TRUE(c.CreateNetwork(nwid, config).ok());
  ASSERT_TRUE(c.AddMembers(nwid, {{identities[0].address(), &identities[0], true, ""}}).ok());

  SimulatorOptions options;
  options.controller_physical = c.address();
  options.controller = c.identity();
  options.members = {identities[0]};
  options.nwids = {nwid};
  options.timeout = absl::Seconds(20);
  auto report = RunSimulation(options);
  ASSERT_TRUE(report.ok()) << report.status();
  const MemberResult& m = report->members[0];
  ASSERT_EQ(m.status, SimStatus::kOk) << SimStatusName(m.status) << " " << m.detail;
  EXPECT_EQ(m.config.rules, 1001u);
  EXPECT_EQ(m.config.name, "big");
}

}  // namespace
}  // namespace almanac::bench
