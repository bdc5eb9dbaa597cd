// Tests of almanac network/member/status against a fake controller API: an in-process
// httplib::Server on 127.0.0.1 port 0 that keeps networks and members in maps, checks the
// token like almanacd (401 "{}"), and records every request, so each test can assert
// both what the CLI printed and what it sent.
#include "tools/cli/admin_commands.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/testing.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace almanac::cli {
namespace {

using nlohmann::json;

constexpr char kToken[] = "abcdefghijklmnopqrstuvwx";
constexpr char kNwid[] = "949cb95e9d7ceef9";
constexpr char kMissingNwid[] = "8056c2e21c000001";
constexpr char kMember[] = "73d8c8d12f";

class FakeController {
 public:
  FakeController() {
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req.method + " " + req.path);
      if (req.get_header_value("X-ZT1-Auth") != kToken) {
        res.status = 401;
        res.set_content("{}", "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server_.Get("/controller", [](const httplib::Request&, httplib::Response& res) {
      Reply(res, 200, {{"controller", true}, {"apiVersion", 4}, {"clock", 1795818880722},
                       {"databaseReady", true}});
    });
    server_.Get("/controller/network", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      json ids = json::array();
      for (const auto& [id, n] : networks_) ids.push_back(id);
      Reply(res, 200, ids);
    });
    server_.Post("/controller/network",
                 [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(req.body);
      const std::string id = "8056c2e21c00000" + std::to_string(++created_);
      networks_[id] = {{"id", id}, {"nwid", id}, {"name", ""}, {"private", true}};
      networks_[id].update(json::parse(req.body));
      Reply(res, 200, networks_[id]);
    });
    const std::string network = "/controller/network/([0-9a-f]{16})";
    server_.Get(network, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = networks_.find(req.matches[1]);
      if (it == networks_.end()) return Reply(res, 404, json::object());
      Reply(res, 200, it->second);
    });
    server_.Post(network, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(req.body);
      json body = json::parse(req.body);
      if (body.contains("mtu") && body["mtu"].get<int>() < 1280) {
        return Reply(res, 400, {{"message", "mtu must be 1280..10000"}});
      }
      networks_[req.matches[1]].update(body);
      Reply(res, 200, networks_[req.matches[1]]);
    });
    server_.Delete(network, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = networks_.find(req.matches[1]);
      if (it == networks_.end()) return Reply(res, 404, json::object());
      json old = it->second;
      networks_.erase(it);
      members_.erase(req.matches[1]);
      Reply(res, 200, old);
    });
    server_.Get(network + "/member", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!networks_.count(req.matches[1])) return Reply(res, 404, json::object());
      json list = json::object();
      for (const auto& [address, m] : members_[req.matches[1]]) list[address] = m["revision"];
      Reply(res, 200, list);
    });
    // ZeroTier's /unstable form: whole members (sorted by address) and counts.
    server_.Get("/unstable" + network + "/member",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard<std::mutex> lock(mu_);
                  if (!networks_.count(req.matches[1])) return Reply(res, 404, json::object());
                  json data = json::array();
                  for (const auto& [address, m] : members_[req.matches[1]]) data.push_back(m);
                  Reply(res, 200, {{"data", data}, {"meta", {{"totalCount", data.size()}}}});
                });
    const std::string member = network + "/member/([0-9a-f]{10})";
    server_.Get(member, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      auto& members = members_[req.matches[1]];
      auto it = members.find(req.matches[2]);
      if (it == members.end()) return Reply(res, 404, json::object());
      Reply(res, 200, it->second);
    });
    server_.Post(member, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(req.body);
      if (!networks_.count(req.matches[1])) return Reply(res, 404, json::object());
      json& m = members_[req.matches[1]][req.matches[2]];
      if (m.is_null()) m = {{"id", req.matches[2]}, {"address", req.matches[2]}, {"revision", 0}};
      m.update(json::parse(req.body));
      m["revision"] = m["revision"].get<int>() + 1;
      Reply(res, 200, m);
    });
    server_.Delete(member, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      auto& members = members_[req.matches[1]];
      auto it = members.find(req.matches[2]);
      if (it == members.end()) return Reply(res, 404, json::object());
      json old = it->second;
      members.erase(it);
      Reply(res, 200, old);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }

  ~FakeController() {
    // stop() only acts on a running server; the listen thread sets that flag first thing.
    while (!server_.is_running()) std::this_thread::yield();
    server_.stop();
    thread_.join();
  }

  static void Reply(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }

  void AddNetwork(const std::string& nwid, const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    networks_[nwid] = {{"id", nwid}, {"nwid", nwid}, {"name", name}, {"private", true},
                       {"mtu", 2800}, {"revision", 1}};
  }
  void AddMember(const std::string& nwid, const json& m) {
    std::lock_guard<std::mutex> lock(mu_);
    members_[nwid][m["address"].get<std::string>()] = m;
  }
  json Network(const std::string& nwid) {
    std::lock_guard<std::mutex> lock(mu_);
    return networks_[nwid];
  }
  json Member(const std::string& nwid, const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    return members_[nwid][address];
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::string last_body() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_.empty() ? "" : bodies_.back();
  }
  int port() const { return port_; }
  std::string api() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, json> networks_;
  std::map<std::string, std::map<std::string, json>> members_;
  std::vector<std::string> requests_;
  std::vector<std::string> bodies_;
  int created_ = 0;
};

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

using CommandFn = int (*)(const std::vector<std::string>&, std::ostream&, std::ostream&);

class AdminCommandsTest : public ::testing::Test {
 protected:
  // Runs a command against the fake, passing its address and the right token.
  Outcome Run(CommandFn fn, std::vector<std::string> args) {
    args.insert(args.end(), {"--api", fake_.api(), "--token", kToken});
    return RunRaw(fn, args);
  }
  static Outcome RunRaw(CommandFn fn, const std::vector<std::string>& args) {
    std::ostringstream out, err;
    const int code = fn(args, out, err);
    return {code, out.str(), err.str()};
  }

  void AddLabMember() {
    fake_.AddMember(kNwid, {{"address", kMember}, {"id", kMember}, {"authorized", true},
                            {"name", "laptop"}, {"ipAssignments", {"10.147.20.137"}},
                            {"vMajor", 1}, {"vMinor", 14}, {"vRev", 1}, {"revision", 3},
                            {"lastSeen", 1795818896186}});
    fake_.AddMember(kNwid, {{"address", "0123456789"}, {"authorized", false}, {"name", ""},
                            {"ipAssignments", json::array()}, {"vMajor", -1}, {"vMinor", -1},
                            {"vRev", -1}, {"revision", 1}});
  }

  FakeController fake_;
};

// --- network ---------------------------------------------------------------------------

TEST_F(AdminCommandsTest, NetworkListShowsNamesPrivacyAndMemberCounts) {
  fake_.AddNetwork(kNwid, "vectors-private");
  fake_.AddNetwork("949cb95e9d000002", "");
  AddLabMember();
  Outcome r = Run(RunNetworkCommand, {"list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NWID              NAME             PRIVATE  MEMBERS\n"
            "949cb95e9d000002  -                yes      0\n"
            "949cb95e9d7ceef9  vectors-private  yes      2\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(AdminCommandsTest, NetworkListJsonIsTheApiAnswer) {
  fake_.AddNetwork(kNwid, "x");
  Outcome r = Run(RunNetworkCommand, {"list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::array({kNwid}));
}

TEST_F(AdminCommandsTest, NetworkCreateSendsNameAndTypedFields) {
  Outcome r = Run(RunNetworkCommand,
                  {"create", "--name", "office", "private=false", "mtu=1400",
                   R"(routes=[{"target":"10.0.0.0/24"}])", "v4AssignMode.zt=true",
                   "rulesSource=accept;"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "created network 8056c2e21c000001\n");
  json sent = json::parse(fake_.last_body());
  EXPECT_EQ(sent, json::parse(R"({"name":"office","private":false,"mtu":1400,
      "routes":[{"target":"10.0.0.0/24"}],"v4AssignMode":{"zt":true},
      "rulesSource":"accept;"})"));
  EXPECT_EQ(fake_.Network("8056c2e21c000001")["name"], "office");
}

TEST_F(AdminCommandsTest, NetworkCreateRefusesAWordWithoutEqualsBeforeSending) {
  Outcome r = Run(RunNetworkCommand, {"create", "office"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "almanac: expected field=value, got 'office' (see 'almanac network create "
            "--help')\n");
  EXPECT_TRUE(fake_.requests().empty());
}

TEST_F(AdminCommandsTest, NetworkShowPrintsFieldsAndMissingIsExit1) {
  fake_.AddNetwork(kNwid, "vectors-private");
  Outcome r = Run(RunNetworkCommand, {"show", kNwid});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "id        949cb95e9d7ceef9\n"
            "name      vectors-private\n"
            "private   true\n"
            "revision  1\n"
            "mtu       2800\n"
            "nwid      949cb95e9d7ceef9\n");
  Outcome json_r = Run(RunNetworkCommand, {"show", kNwid, "--json"});
  EXPECT_EQ(json::parse(json_r.out), fake_.Network(kNwid));

  Outcome missing = Run(RunNetworkCommand, {"show", kMissingNwid});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err, "almanac: network 8056c2e21c000001 not found\n");
}

TEST_F(AdminCommandsTest, NetworkIdsAreCheckedAndLowerCased) {
  Outcome bad = Run(RunNetworkCommand, {"show", "949cb95e9d"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err, "almanac: '949cb95e9d' is not a network id (16 hex digits)\n");
  fake_.AddNetwork(kNwid, "n");
  EXPECT_EQ(Run(RunNetworkCommand, {"show", "949CB95E9D7CEEF9"}).code, 0);
  EXPECT_EQ(fake_.requests().size(), 1u);
}

TEST_F(AdminCommandsTest, NetworkSetChangesAnExistingNetworkOnly) {
  fake_.AddNetwork(kNwid, "old");
  Outcome r = Run(RunNetworkCommand, {"set", kNwid, "name=office", "private=false"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "updated network 949cb95e9d7ceef9\n");
  EXPECT_EQ(fake_.Network(kNwid)["name"], "office");
  EXPECT_EQ(fake_.Network(kNwid)["private"], false);

  Outcome missing = Run(RunNetworkCommand, {"set", kMissingNwid, "name=x"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "almanac: network 8056c2e21c000001 not found\n");
  // Only the GET went out: POST would have created the network.
  EXPECT_EQ(fake_.requests().back(), "GET /controller/network/8056c2e21c000001");

  Outcome nothing = Run(RunNetworkCommand, {"set", kNwid});
  EXPECT_EQ(nothing.code, 2);
}

TEST_F(AdminCommandsTest, FieldValuesAreJsonWhenTheyParseElseStrings) {
  fake_.AddNetwork(kNwid, "n");
  Outcome r = Run(RunNetworkCommand, {"set", kNwid, R"(name="2024")", "mtu=1400", "a.b.c=null",
                                      "rulesSource=drop not ethertype ipv4;", "empty="});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(fake_.last_body()),
            json::parse(R"({"name":"2024","mtu":1400,"a":{"b":{"c":null}},
                            "rulesSource":"drop not ethertype ipv4;","empty":""})"));
  Outcome bad = Run(RunNetworkCommand, {"set", kNwid, "=x"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err, "almanac: empty field name in '=x' (see 'almanac network set --help')\n");
}

TEST_F(AdminCommandsTest, NetworkSetReportsTheControllersRefusal) {
  fake_.AddNetwork(kNwid, "n");
  Outcome r = Run(RunNetworkCommand, {"set", kNwid, "mtu=100"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "almanac: the controller refused (HTTP 400): mtu must be 1280..10000\n");
}

TEST_F(AdminCommandsTest, NetworkDelete) {
  fake_.AddNetwork(kNwid, "n");
  Outcome r = Run(RunNetworkCommand, {"delete", kNwid});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "deleted network 949cb95e9d7ceef9\n");
  Outcome again = Run(RunNetworkCommand, {"delete", kNwid});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err, "almanac: network 949cb95e9d7ceef9 not found\n");
}

TEST_F(AdminCommandsTest, NetworkUsageErrorsAndHelp) {
  Outcome none = RunRaw(RunNetworkCommand, {});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("Usage: almanac network"), std::string::npos);
  Outcome help = RunRaw(RunNetworkCommand, {"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("create [--name N]"), std::string::npos);
  for (const char* sub : {"list", "create", "show", "set", "delete"}) {
    Outcome h = RunRaw(RunNetworkCommand, {sub, "--help"});
    EXPECT_EQ(h.code, 0) << sub;
    EXPECT_NE(h.out.find(std::string("Usage: almanac network ") + sub), std::string::npos);
    EXPECT_NE(h.out.find("--token-file"), std::string::npos);
  }
  Outcome unknown = Run(RunNetworkCommand, {"frob"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_EQ(unknown.err,
            "almanac: unknown subcommand 'frob' (see 'almanac network --help')\n");
  Outcome bad_flag = Run(RunNetworkCommand, {"list", "--verbose"});
  EXPECT_EQ(bad_flag.code, 2);
  EXPECT_EQ(bad_flag.err,
            "almanac: unknown option '--verbose' (see 'almanac network --help')\n");
  EXPECT_EQ(Run(RunNetworkCommand, {"show"}).code, 2);
  EXPECT_EQ(Run(RunNetworkCommand, {"show", kNwid, "extra"}).code, 2);
  EXPECT_TRUE(fake_.requests().empty());
}

// --- connection and auth ---------------------------------------------------------------

TEST_F(AdminCommandsTest, WrongTokenIsExit3) {
  Outcome r = RunRaw(RunNetworkCommand, {"list", "--api", fake_.api(), "--token", "wrong"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err, "almanac: the controller at " + fake_.api() +
                       " refused the admin token (check --token, --token-file or "
                       "<home>/authtoken.secret)\n");
}

TEST(AdminCommandsConnectionTest, UnreachableControllerIsExit3) {
  // A port that was just free: bind port 0 without listening, read it back, close.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  close(fd);
  const std::string api = "127.0.0.1:" + std::to_string(port);
  std::ostringstream out, err;
  const int code = RunStatusCommand({"--api", api, "--token", kToken}, out, err);
  EXPECT_EQ(code, 3);
  EXPECT_EQ(err.str(), "almanac: cannot reach the controller at " + api +
                           ": connection refused (is almanacd running?)\n");
}

TEST_F(AdminCommandsTest, HomeGivesAddressAndToken) {
  const std::string home = almanac::testing::MakeTempDir("home");
  std::ofstream(home + "/api.address") << fake_.api() << "\n";
  std::ofstream(home + "/authtoken.secret") << kToken;
  fake_.AddNetwork(kNwid, "n");
  Outcome r = RunRaw(RunNetworkCommand, {"--home", home, "list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::array({kNwid}));

  const std::string token_file = home + "/other-token";
  std::ofstream(token_file) << "wrong\n";
  Outcome wrong = RunRaw(RunNetworkCommand, {"list", "--home", home, "--token-file", token_file});
  EXPECT_EQ(wrong.code, 3);

  const std::string empty = almanac::testing::MakeTempDir("empty");
  Outcome none = RunRaw(RunStatusCommand, {"--home", empty});
  EXPECT_EQ(none.code, 3);
  EXPECT_EQ(none.err, "almanac: no controller address in " + empty +
                          "/api.address (is almanacd running with --home " + empty +
                          "? or pass --api HOST:PORT)\n");
  Outcome bad_api = RunRaw(RunStatusCommand, {"--api", "nonsense", "--token", kToken});
  EXPECT_EQ(bad_api.code, 2);
}

// --- member ----------------------------------------------------------------------------

TEST_F(AdminCommandsTest, MemberListTable) {
  fake_.AddNetwork(kNwid, "n");
  AddLabMember();
  const size_t before = fake_.requests().size();
  Outcome r = Run(RunMemberCommand, {"list", kNwid});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ADDRESS     AUTHORIZED  NAME    IPS            VERSION  LAST SEEN\n"
            "0123456789  no          -       -              -        -\n"
            "73d8c8d12f  yes         laptop  10.147.20.137  1.14.1   2026-11-27 22:34:56 UTC\n");
  // One request for the whole table, however many members: the /unstable list form.
  const std::vector<std::string> requests = fake_.requests();
  ASSERT_EQ(requests.size(), before + 1);
  EXPECT_EQ(requests.back(), std::string("GET /unstable/controller/network/") + kNwid + "/member");
  Outcome j = Run(RunMemberCommand, {"list", kNwid, "--json"});
  EXPECT_EQ(json::parse(j.out), json::parse(R"({"0123456789":1,"73d8c8d12f":3})"));
  Outcome missing = Run(RunMemberCommand, {"list", kMissingNwid});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "almanac: network 8056c2e21c000001 not found\n");
}

TEST_F(AdminCommandsTest, MemberShowNamesWhatIsMissing) {
  fake_.AddNetwork(kNwid, "n");
  AddLabMember();
  Outcome r = Run(RunMemberCommand, {"show", kNwid, kMember});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n', r.out.find('\n') + 1) + 1),
            "address        73d8c8d12f\n"
            "authorized     true\n");
  Outcome no_member = Run(RunMemberCommand, {"show", kNwid, "aaaaaaaaaa"});
  EXPECT_EQ(no_member.code, 1);
  EXPECT_EQ(no_member.err, "almanac: member aaaaaaaaaa not found in network 949cb95e9d7ceef9\n");
  Outcome no_network = Run(RunMemberCommand, {"show", kMissingNwid, kMember});
  EXPECT_EQ(no_network.code, 1);
  EXPECT_EQ(no_network.err, "almanac: network 8056c2e21c000001 not found\n");
  Outcome bad = Run(RunMemberCommand, {"show", kNwid, "73d8c8d12"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err, "almanac: '73d8c8d12' is not a member address (10 hex digits)\n");
}

TEST_F(AdminCommandsTest, MemberAuthorizeCreatesDeauthorizeNeedsTheMember) {
  fake_.AddNetwork(kNwid, "n");
  Outcome r = Run(RunMemberCommand, {"authorize", kNwid, "aaaaaaaaaa"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "authorized member aaaaaaaaaa in network 949cb95e9d7ceef9\n");
  EXPECT_EQ(json::parse(fake_.last_body()), json::parse(R"({"authorized":true})"));
  EXPECT_EQ(fake_.Member(kNwid, "aaaaaaaaaa")["authorized"], true);

  Outcome d = Run(RunMemberCommand, {"deauthorize", kNwid, "aaaaaaaaaa"});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(d.out, "deauthorized member aaaaaaaaaa in network 949cb95e9d7ceef9\n");
  EXPECT_EQ(fake_.Member(kNwid, "aaaaaaaaaa")["authorized"], false);

  Outcome missing = Run(RunMemberCommand, {"deauthorize", kNwid, "bbbbbbbbbb"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "almanac: member bbbbbbbbbb not found in network 949cb95e9d7ceef9\n");
  EXPECT_EQ(fake_.requests().back(), "GET /controller/network/949cb95e9d7ceef9");

  Outcome no_network = Run(RunMemberCommand, {"authorize", kMissingNwid, "aaaaaaaaaa"});
  EXPECT_EQ(no_network.code, 1);
  EXPECT_EQ(no_network.err, "almanac: network 8056c2e21c000001 not found\n");
}

TEST_F(AdminCommandsTest, MemberSetAndDelete) {
  fake_.AddNetwork(kNwid, "n");
  AddLabMember();
  Outcome r = Run(RunMemberCommand, {"set", kNwid, kMember, "name=desk",
                                     R"(ipAssignments=["10.147.20.5"])", "noAutoAssignIps=true"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "updated member 73d8c8d12f in network 949cb95e9d7ceef9\n");
  EXPECT_EQ(json::parse(fake_.last_body()),
            json::parse(R"({"name":"desk","ipAssignments":["10.147.20.5"],
                            "noAutoAssignIps":true})"));
  Outcome json_r = Run(RunMemberCommand, {"set", kNwid, kMember, "name=x", "--json"});
  EXPECT_EQ(json::parse(json_r.out)["name"], "x");
  EXPECT_EQ(Run(RunMemberCommand, {"set", kNwid, kMember}).code, 2);
  EXPECT_EQ(Run(RunMemberCommand, {"set", kNwid, "bbbbbbbbbb", "name=x"}).code, 1);

  Outcome del = Run(RunMemberCommand, {"delete", kNwid, kMember});
  ASSERT_EQ(del.code, 0) << del.err;
  EXPECT_EQ(del.out, "deleted member 73d8c8d12f from network 949cb95e9d7ceef9\n");
  Outcome again = Run(RunMemberCommand, {"delete", kNwid, kMember});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err, "almanac: member 73d8c8d12f not found in network 949cb95e9d7ceef9\n");
}

TEST_F(AdminCommandsTest, MemberHelpAndUsage) {
  for (const char* sub : {"list", "show", "authorize", "deauthorize", "set", "delete"}) {
    Outcome h = RunRaw(RunMemberCommand, {sub, "-h"});
    EXPECT_EQ(h.code, 0) << sub;
    EXPECT_NE(h.out.find(std::string("Usage: almanac member ") + sub), std::string::npos);
  }
  EXPECT_EQ(RunRaw(RunMemberCommand, {}).code, 2);
  EXPECT_EQ(RunRaw(RunMemberCommand, {"--help"}).code, 0);
  Outcome missing_args = Run(RunMemberCommand, {"show", kNwid});
  EXPECT_EQ(missing_args.code, 2);
  EXPECT_EQ(missing_args.err,
            "almanac: missing <nwid> <address> (see 'almanac member show --help')\n");
  EXPECT_TRUE(fake_.requests().empty());
}

// --- status ----------------------------------------------------------------------------

TEST_F(AdminCommandsTest, StatusSummarizesTheController) {
  fake_.AddNetwork(kNwid, "n");
  Outcome r = Run(RunStatusCommand, {});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "controller is up\n"
            "  api         http://" + fake_.api() + "\n"
            "  apiVersion  4\n"
            "  database    ready\n"
            "  clock       2026-11-27 22:34:40 UTC\n"
            "  networks    1\n");
  Outcome j = Run(RunStatusCommand, {"--json"});
  EXPECT_EQ(json::parse(j.out)["apiVersion"], 4);
  EXPECT_EQ(Run(RunStatusCommand, {"extra"}).code, 2);
  EXPECT_EQ(RunRaw(RunStatusCommand, {"--help"}).code, 0);
}

}  // namespace
}  // namespace almanac::cli
