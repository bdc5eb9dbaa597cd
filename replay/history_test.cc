// Goal: after a scripted sequence of admin changes through the real admin API, `log`,
// `history`, `diff` and `state --at` say exactly what happened, including the state at a
// seq in the middle, which must equal what the API returned at that moment.
// Method: a real controller home under $TEST_TMPDIR with the ApiServer on 127.0.0.1 port
// 0, driven with httplib; almanac-replay runs in-process (RunReplay) on the LIVE home,
// read-only, while the daemon's journal is open. Times come from the wall clock, so
// lines are compared after their "YYYY-MM-DD HH:MM:SS " prefix (checked by pattern), and
// the times inside values are taken from the API's own answers.
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/testing.h"
#include "ctl/api/api_server.h"
#include "ctl/controller.h"
#include "ctl/state/state.h"
#include "ctl/telemetry.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "replay/cli.h"

namespace almanac::replay {
namespace {

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = testing::MakeTempDir("history") + "/home";
    ctl::ControllerOptions o;
    o.home = home_;
    o.snapshot_interval_records = 0;
    o.seal_interval_records = 0;
    o.seal_interval_seconds = 0;
    auto c = ctl::Controller::Open(o);
    ASSERT_TRUE(c.ok()) << c.status();
    controller_ = std::move(*c);
    api::ApiServerOptions api;
    api.listen_host = "127.0.0.1";
    api.listen_port = 0;
    api.auth_token = controller_->auth_token();
    api.controller_identity_public = controller_->identity().ToString(false);
    api.controller_address = controller_->identity().address();
    auto server = api::ApiServer::Start(api, controller_->sequencer(), &telemetry_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    nwid_ = state::NetworkIdHex((controller_->identity().address() << 24) | 1);
  }
  void TearDown() override {
    server_.reset();
    controller_.reset();
  }

  nlohmann::json Call(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    httplib::Headers h = {{"X-ZT1-Auth", controller_->auth_token()}};
    httplib::Result r = method == "GET"      ? client_->Get(path.c_str(), h)
                        : method == "DELETE" ? client_->Delete(path.c_str(), h)
                                             : client_->Post(path.c_str(), h, body,
                                                             "application/json");
    EXPECT_TRUE(r) << method << " " << path;
    if (!r) return nullptr;
    EXPECT_EQ(r->status, 200) << method << " " << path << ": " << r->body;
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  std::string Net() { return "/controller/network/" + nwid_; }
  std::string Member(const std::string& a) { return Net() + "/member/" + a; }

  // Runs almanac-replay on the live home; returns stdout, expects exit 0.
  std::string Replay(std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", home_});
    std::ostringstream out, err;
    EXPECT_EQ(RunReplay(args, out, err), 0) << err.str();
    return out.str();
  }
  // Lines with their time prefix checked and removed.
  static std::vector<std::string> Untimed(const std::string& text) {
    static const std::regex kTime("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ");
    std::vector<std::string> lines;
    for (absl::string_view l : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      std::string line(l);
      EXPECT_TRUE(std::regex_search(line, kTime)) << line;
      lines.push_back(line.substr(20));
    }
    return lines;
  }

  std::string home_;
  std::string nwid_;
  ctl::Telemetry telemetry_;
  std::unique_ptr<ctl::Controller> controller_;
  std::unique_ptr<api::ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HistoryTest, LogHistoryDiffAndStateTellExactlyWhatHappened) {
  const std::string a = "8056c2e21c", b = "1111111111";
  Call("POST", Net(), R"({"name":"lab"})");                         // 2
  Call("POST", Member(a), R"({"name":"m1"})");                      // 3
  Call("POST", Member(a), R"({"authorized":true})");                // 4
  Call("POST", Net(), R"({"mtu":1400,"name":"lab2"})");             // 5
  const nlohmann::json net_at_5 = Call("GET", Net());
  const nlohmann::json a_at_5 = Call("GET", Member(a));
  Call("POST", Member(a), R"({"ipAssignments":["10.0.0.5"]})");     // 6
  Call("POST", Member(b), R"({"authorized":true})");                // 7, 8
  Call("POST", Member(a), R"({"authorized":false})");               // 9
  Call("DELETE", Member(b));                                        // 10
  const nlohmann::json net_end = Call("GET", Net());
  const nlohmann::json a_end = Call("GET", Member(a));
  ASSERT_EQ(controller_->journal()->last_seq(), 10u);
  const std::string who = "token:admin@127.0.0.1 ";
  const std::string ma = "member " + a + " of " + nwid_ + ": ";
  const std::string mb = "member " + b + " of " + nwid_ + ": ";
  const std::string controller = controller_->identity().ToString(false).substr(0, 10);

  EXPECT_EQ(Untimed(Replay({"log"})),
            (std::vector<std::string>{
                "#1 system controller " + controller + " initialized",
                "#2 " + who + "network " + nwid_ + ": created",
                "#3 " + who + ma + "created",
                "#4 " + who + ma + "authorized false -> true",
                "#5 " + who + "network " + nwid_ + ": mtu 2800 -> 1400, name \"lab\" -> \"lab2\"",
                "#6 " + who + ma + "ipAssignments [] -> [\"10.0.0.5\"]",
                "#7 " + who + mb + "created",
                "#8 " + who + mb + "authorized false -> true",
                "#9 " + who + ma + "authorized true -> false",
                "#10 " + who + mb + "deleted",
            }));
  EXPECT_EQ(Untimed(Replay({"log", "--member", a, "--since", "4", "--until", "9"})),
            (std::vector<std::string>{"#4 " + who + ma + "authorized false -> true",
                                      "#6 " + who + ma + "ipAssignments [] -> [\"10.0.0.5\"]",
                                      "#9 " + who + ma + "authorized true -> false"}));
  EXPECT_EQ(Untimed(Replay({"log", "--actor", "system"})),
            (std::vector<std::string>{"#1 system controller " + controller + " initialized"}));
  EXPECT_EQ(Untimed(Replay({"log", "--network", nwid_, "--since", "10"})),
            (std::vector<std::string>{"#10 " + who + mb + "deleted"}));

  const std::string t4 = std::to_string(a_at_5["lastAuthorizedTime"].get<int64_t>());
  const std::string t9 = std::to_string(a_end["lastDeauthorizedTime"].get<int64_t>());
  EXPECT_EQ(Untimed(Replay({"history", nwid_ + "/" + a})),
            (std::vector<std::string>{
                "#3 " + who + ma + "created",
                "#4 " + who + ma + "authorized false -> true, lastAuthorizedCredentialType null "
                                   "-> \"api\", lastAuthorizedTime 0 -> " + t4 +
                    ", revision 1 -> 2",
                "#6 " + who + ma + "ipAssignments [] -> [\"10.0.0.5\"], revision 2 -> 3",
                "#9 " + who + ma + "authorized true -> false, lastDeauthorizedTime 0 -> " + t9 +
                    ", revision 3 -> 4",
            }));
  EXPECT_EQ(Untimed(Replay({"history", nwid_})),
            (std::vector<std::string>{
                "#2 " + who + "network " + nwid_ + ": created",
                "#5 " + who + "network " + nwid_ +
                    ": mtu 2800 -> 1400, name \"lab\" -> \"lab2\", revision 1 -> 2",
            }));

  EXPECT_EQ(Replay({"diff", "5", "10"}),
            "changes from record 5 to record 10:\n" + ma +
                "authorized true -> false, ipAssignments [] -> [\"10.0.0.5\"], "
                "lastDeauthorizedTime 0 -> " + t9 + ", revision 2 -> 4\n");
  const nlohmann::json diff_json = nlohmann::json::parse(Replay({"--json", "diff", "6", "8"}));
  ASSERT_EQ(diff_json["changes"].size(), 1u) << diff_json.dump();
  EXPECT_EQ(diff_json["changes"][0]["member"], b);
  EXPECT_EQ(diff_json["changes"][0]["change"], "created");

  // State in the middle and at the end: exactly what the API answered then.
  const nlohmann::json at5 = nlohmann::json::parse(Replay({"--json", "state", "--at", "5"}));
  EXPECT_EQ(at5["seq"], 5);
  EXPECT_EQ(at5["networks"][nwid_], net_at_5);
  EXPECT_EQ(at5["members"][nwid_].size(), 1u);
  EXPECT_EQ(at5["members"][nwid_][a], a_at_5);
  const nlohmann::json end = nlohmann::json::parse(Replay({"state", "--json"}));
  EXPECT_EQ(end["seq"], 10);
  EXPECT_EQ(end["networks"][nwid_], net_end);
  EXPECT_EQ(end["members"][nwid_].size(), 1u);
  EXPECT_EQ(end["members"][nwid_][a], a_end);
  // A time point: the time of record 4 (lastAuthorizedTime) gives state at 4 or later
  // records of the same millisecond, never earlier.
  const nlohmann::json at_t4 = nlohmann::json::parse(Replay(
      {"--json", "state", "--at",
       absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                        absl::FromUnixMillis(a_at_5["lastAuthorizedTime"].get<int64_t>()),
                        absl::UTCTimeZone())}));
  EXPECT_GE(at_t4["seq"].get<int>(), 4);
  EXPECT_EQ(at_t4["members"][nwid_][a]["authorized"], true);

  // --json log: one object per line with the structured change.
  const std::vector<std::string> json_lines =
      absl::StrSplit(Replay({"--json", "log", "--since", "4", "--until", "4"}), '\n',
                     absl::SkipEmpty());
  ASSERT_EQ(json_lines.size(), 1u);
  const nlohmann::json e4 = nlohmann::json::parse(json_lines[0]);
  EXPECT_EQ(e4["event"], "MemberAuthorized");
  EXPECT_EQ(e4["actor"]["kind"], "token");
  EXPECT_EQ(e4["changes"], nlohmann::json::parse(
                               R"([{"field":"authorized","old":false,"new":true}])"));

  // verify on the live home: clean.
  std::ostringstream out, err;
  EXPECT_EQ(RunReplay({"--home", home_, "verify"}, out, err), 0) << out.str();
}

TEST_F(HistoryTest, UsageErrorsExitTwo) {
  std::ostringstream out, err;
  EXPECT_EQ(RunReplay({"--home", home_, "frobnicate"}, out, err), 2);
  EXPECT_EQ(RunReplay({"--home", home_, "state", "--at", "yesterday-ish"}, out, err), 2);
  EXPECT_EQ(RunReplay({"--home", home_, "history", "xyz"}, out, err), 2);
  EXPECT_EQ(RunReplay({"--home", home_ + "/nope", "log"}, out, err), 1);
}

TEST(ReplayHelpTest, HelpExplainsEveryCommandAndExitsZero) {
  std::ostringstream out, err;
  EXPECT_EQ(RunReplay({"--help"}, out, err), 0);
  EXPECT_EQ(err.str(), "");
  for (const char* command : {"verify", "log", "state", "history", "diff", "Exit codes"}) {
    EXPECT_NE(out.str().find(command), std::string::npos) << command;
  }
}

}  // namespace
}  // namespace almanac::replay
