// Tests of almanac import-zerotier. Goal: a ZeroTier controller.d (the lab's real
// network and member from ZeroTier 1.14.1, plus a second network written here) becomes a
// journal whose state keeps network ids, configs, member identities, authorizations and
// IPs, under the ZeroTier controller's own identity; bad files are reported and left out;
// used homes, other identities and a running daemon are refused.
// Method: write the fixture under $TEST_TMPDIR, run the command, then open the home with
// Controller::Open and read the state through the sequencer.
#include "tools/cli/import_zerotier.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/testing.h"
#include "ctl/controller.h"
#include "ctl/state/state.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "schemas/events_generated.h"
#include "tools/cli/limits.h"

namespace almanac::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr char kLabNwid[] = "949cb95e9d7ceef9";
constexpr char kSecondNwid[] = "949cb95e9d000002";
constexpr uint64_t kLabNwidValue = 0x949cb95e9d7ceef9ull;
constexpr uint64_t kSecondNwidValue = 0x949cb95e9d000002ull;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome Import(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = RunImportCommand(args, out, err);
  return {code, out.str(), err.str()};
}

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

json ReadJson(const std::string& path) { return json::parse(testing::ReadFileOrFail(path)); }

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string vectors = testing::VectorsDir();
    lab_ = ReadJson(vectors + "/lab.json");
    identities_ = ReadJson(vectors + "/identities.json")["valid"];
    root_ = testing::MakeTempDir("import");
    controller_d_ = root_ + "/controller.d";
    home_ = root_ + "/home";
    identity_file_ = root_ + "/zerotier-one/identity.secret";
    WriteFile(identity_file_, lab_["nodes"]["C"]["secret"].get<std::string>() + "\n");
    const fs::path net = fs::path(controller_d_) / "network";
    WriteFile(net / (std::string(kLabNwid) + ".json"),
              testing::ReadFileOrFail(vectors + "/controller_network.json"));
    WriteFile(net / kLabNwid / "member" / "73d8c8d12f.json",
              testing::ReadFileOrFail(vectors + "/controller_member.json"));
    WriteFile(net / (std::string(kSecondNwid) + ".json"),
              json{{"id", kSecondNwid}, {"nwid", kSecondNwid}, {"objtype", "network"},
                   {"name", "second"}, {"private", false}, {"mtu", 1400},
                   {"routes", {{{"target", "10.9.0.0/16"}, {"via", nullptr}}}},
                   {"ipAssignmentPools", {{{"ipRangeStart", "10.9.0.1"},
                                           {"ipRangeEnd", "10.9.0.100"}}}},
                   {"v4AssignMode", {{"zt", true}}}, {"creationTime", 1}, {"revision", 7}}
                  .dump());
    // Authorized with an identity and two IPs; never joined, pre-created and named;
    // joined but deauthorized.
    AddSecondMember(0, true, true, {"10.9.0.5", "fd00::5"}, "alpha");
    AddSecondMember(1, false, false, {}, "pre-made");
    AddSecondMember(2, true, false, {"10.9.0.7"}, "");
  }

  void AddSecondMember(int i, bool with_identity, bool authorized,
                       const std::vector<std::string>& ips, const std::string& name) {
    const std::string address = identities_[i]["address"];
    json m = {{"id", address}, {"address", address}, {"nwid", kSecondNwid},
              {"objtype", "member"}, {"authorized", authorized}, {"ipAssignments", ips},
              {"name", name}, {"identity", with_identity ? identities_[i]["public"] : json("")},
              {"vMajor", with_identity ? 1 : -1}, {"vMinor", with_identity ? 12 : -1},
              {"vRev", with_identity ? 2 : -1}, {"vProto", with_identity ? 12 : -1},
              {"lastAuthorizedCredentialType", authorized ? json("api") : json(nullptr)}};
    WriteFile(fs::path(controller_d_) / "network" / kSecondNwid / "member" / (address + ".json"),
              m.dump());
  }

  Outcome RunImport(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {controller_d_, "--home", home_, "--identity",
                                     identity_file_};
    args.insert(args.end(), extra.begin(), extra.end());
    return Import(args);
  }

  // The home's state after the import, as the daemon would load it.
  state::State OpenState() {
    ctl::ControllerOptions options;
    options.home = home_;
    options.snapshot_interval_records = 0;
    auto controller = ctl::Controller::Open(options);
    EXPECT_TRUE(controller.ok()) << controller.status();
    if (!controller.ok()) return state::State();
    return (*controller)->sequencer()->Read([](const state::State& s) { return s; });
  }

  json lab_;
  json identities_;
  std::string root_, controller_d_, home_, identity_file_;
};

TEST_F(ImportTest, ImportsNetworksMembersIdentitiesAndIps) {
  Outcome r = RunImport();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("read 2 networks and 4 members from " + controller_d_), std::string::npos);
  EXPECT_NE(r.out.find("imported network 949cb95e9d7ceef9 (vectors-private): 1 members"),
            std::string::npos);
  EXPECT_NE(r.out.find("imported 2 networks and 4 members into " + home_), std::string::npos);

  // The home took the ZeroTier controller's identity, so members keep their controller.
  EXPECT_NE(testing::ReadFileOrFail(home_ + "/identity.secret")
                .find(lab_["nodes"]["C"]["secret"].get<std::string>()),
            std::string::npos);
  state::State s = OpenState();
  EXPECT_EQ(s.controller_identity(), lab_["nodes"]["C"]["public"].get<std::string>());
  ASSERT_EQ(s.network_count(), 2u);
  ASSERT_EQ(s.member_count(), 4u);

  const state::Network* lab = s.FindNetwork(kLabNwidValue);
  ASSERT_NE(lab, nullptr);
  EXPECT_EQ(lab->config.name, "vectors-private");
  EXPECT_TRUE(lab->config.private_network);
  EXPECT_TRUE(lab->config.v4_assign_zt);
  EXPECT_TRUE(lab->config.v6_assign_6plane);
  EXPECT_TRUE(lab->config.v6_assign_rfc4193);
  ASSERT_EQ(lab->config.routes.size(), 2u);
  EXPECT_EQ(lab->config.routes[1].target, "192.168.77.0/24");
  EXPECT_EQ(lab->config.routes[1].via, "10.147.20.1");
  ASSERT_EQ(lab->config.ip_assignment_pools.size(), 1u);
  EXPECT_EQ(lab->config.ip_assignment_pools[0].start, "10.147.20.10");
  ASSERT_TRUE(lab->config.dns.has_value());
  EXPECT_EQ(lab->config.dns->domain, "vectors.zt.example");
  EXPECT_EQ(json::parse(lab->config.rules_json).size(), 5u);

  const state::Member* m = s.FindMember(kLabNwidValue, 0x73d8c8d12full);
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->config.authorized);
  EXPECT_EQ(m->last_authorized_credential_type, state::CredentialType::kImport);
  EXPECT_EQ(state::IdentityText(*m), lab_["nodes"]["M"]["public"].get<std::string>());
  EXPECT_EQ(m->config.ip_assignments, std::vector<std::string>{"10.147.20.137"});

  const state::Network* second = s.FindNetwork(kSecondNwidValue);
  ASSERT_NE(second, nullptr);
  EXPECT_FALSE(second->config.private_network);
  EXPECT_EQ(second->config.mtu, 1400u);
  std::vector<const state::Member*> members = s.MembersSorted(kSecondNwidValue);
  ASSERT_EQ(members.size(), 3u);
  for (const state::Member* member : members) {
    const std::string address = state::AddressHex(member->address);
    if (address == identities_[0]["address"]) {
      EXPECT_TRUE(member->config.authorized);
      EXPECT_EQ(member->config.name, "alpha");
      EXPECT_EQ(member->config.ip_assignments, (std::vector<std::string>{"10.9.0.5", "fd00::5"}));
      EXPECT_EQ(state::IdentityText(*member), identities_[0]["public"].get<std::string>());
    } else if (address == identities_[1]["address"]) {
      EXPECT_FALSE(member->config.authorized);
      EXPECT_FALSE(member->has_identity);
      EXPECT_EQ(member->config.name, "pre-made");
      EXPECT_EQ(member->last_authorized_credential_type, state::CredentialType::kNone);
    } else {
      EXPECT_EQ(address, identities_[2]["address"].get<std::string>());
      EXPECT_FALSE(member->config.authorized);
      EXPECT_TRUE(member->has_identity);
      EXPECT_EQ(member->config.ip_assignments, std::vector<std::string>{"10.9.0.7"});
    }
  }
}

TEST_F(ImportTest, EventsAreWrittenByTheImportActor) {
  ASSERT_EQ(RunImport().code, 0);
  ctl::ControllerOptions options;
  options.home = home_;
  options.snapshot_interval_records = 0;
  auto controller = ctl::Controller::Open(options);
  ASSERT_TRUE(controller.ok()) << controller.status();
  auto records = (*controller)->journal()->Read(1, 100);
  ASSERT_TRUE(records.ok()) << records.status();
  // 1 init; lab: network, member created+joined+authorized+ip (5);
  // second: network, alpha 1+1+1+2, pre-made 1, third 1+1+1 (10).
  ASSERT_EQ(records->size(), 16u);
  std::vector<schema::Body> bodies;
  for (size_t i = 1; i < records->size(); ++i) {
    const auto* record = schema::GetRecord((*records)[i].bytes.data());
    EXPECT_EQ(record->actor()->kind(), schema::ActorKind::Import) << "record " << i + 1;
    bodies.push_back(record->body_type());
  }
  // Networks in id order (the second network's id is lower), members in address order.
  using B = schema::Body;
  const std::vector<B> expected = {
      B::NetworkCreated,                                                      // 949cb95e9d000002
      B::MemberCreated, B::MemberJoined, B::IpAssigned,                       // 968687f6a5
      B::MemberCreated,                                                       // a42d370224
      B::MemberCreated, B::MemberJoined, B::MemberAuthorized, B::IpAssigned,  // e62f792a24
      B::IpAssigned,
      B::NetworkCreated,                                                      // lab network
      B::MemberCreated, B::MemberJoined, B::MemberAuthorized, B::IpAssigned,  // 73d8c8d12f
  };
  EXPECT_EQ(bodies, expected);
  const auto* auth = schema::GetRecord((*records)[14].bytes.data())->body_as_MemberAuthorized();
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->address(), 0x73d8c8d12full);
  EXPECT_EQ(auth->credential_type()->str(), "import");
}

TEST_F(ImportTest, BadFilesAreReportedWithPathAndReasonAndTheRestImported) {
  const fs::path net = fs::path(controller_d_) / "network";
  const std::string bad_ip = (net / kSecondNwid / "member" / "aaaaaaaaaa.json").string();
  WriteFile(bad_ip, R"({"address":"aaaaaaaaaa","ipAssignments":["10.9.0.300"]})");
  const std::string wrong_id = (net / kSecondNwid / "member" / "bbbbbbbbbb.json").string();
  WriteFile(wrong_id, R"({"address":"cccccccccc"})");
  const std::string foreign = (net / "1111111111000001.json").string();
  WriteFile(foreign, R"({"id":"1111111111000001"})");
  const std::string orphan = (net / "1111111111000001" / "member" / "eeeeeeeeee.json").string();
  WriteFile(orphan, R"({"address":"eeeeeeeeee"})");
  const std::string not_json = (net / "949cb95e9d000003.json").string();
  WriteFile(not_json, "{not json");
  const std::string huge = (net / kSecondNwid / "member" / "0000000001.json").string();
  WriteFile(huge, std::string(kImportFileBytesMax + 1, ' '));
  json many_ips = json::array();
  for (size_t i = 0; i <= kImportMemberIpsMax; ++i) {
    many_ips.push_back("10.8." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  }
  const std::string too_many = (net / kSecondNwid / "member" / "0000000002.json").string();
  WriteFile(too_many, json{{"ipAssignments", many_ips}}.dump());

  Outcome r = RunImport();
  EXPECT_EQ(r.code, 1);
  auto expect_rejected = [&r](const std::string& path, const std::string& reason) {
    const std::string line = "almanac: rejected " + path + ": ";
    const size_t at = r.err.find(line);
    ASSERT_NE(at, std::string::npos) << r.err;
    const size_t from = at + line.size();
    const std::string rest = r.err.substr(from, r.err.find('\n', at) - from);
    EXPECT_NE(rest.find(reason), std::string::npos) << rest;
  };
  expect_rejected(bad_ip, "ipAssignments");
  expect_rejected(wrong_id, "address: \"cccccccccc\" does not match the file name");
  expect_rejected(foreign, "belongs to controller 1111111111, not to this controller 949cb95e9d");
  expect_rejected(orphan, "its network file was rejected");
  expect_rejected(not_json, "malformed JSON");
  expect_rejected(huge, "larger than 16777216 bytes");
  expect_rejected(too_many, "ipAssignments: 257 addresses, max 256");
  EXPECT_NE(r.err.find("almanac: 7 files rejected\n"), std::string::npos);

  state::State s = OpenState();
  EXPECT_EQ(s.network_count(), 2u);
  EXPECT_EQ(s.member_count(), 4u);
}

// One rule for an IP two members hold, the admin API's and ZeroTier's: accepted. The
// second member gets it too; the import refuses nothing for it.
TEST_F(ImportTest, AnIpHeldByAnotherMemberIsImportedAsTheApiAcceptsIt) {
  const fs::path net = fs::path(controller_d_) / "network";
  WriteFile((net / kSecondNwid / "member" / "fe00000000.json").string(),
            R"({"address":"fe00000000","ipAssignments":["10.9.0.5"]})");
  Outcome r = RunImport();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("rejected"), std::string::npos) << r.err;
  state::State s = OpenState();
  const state::Member* taker = s.FindMember(kSecondNwidValue, 0xfe00000000ull);
  ASSERT_NE(taker, nullptr);
  EXPECT_EQ(taker->config.ip_assignments, std::vector<std::string>{"10.9.0.5"});
  const uint64_t holder_address =
      std::stoull(identities_[0]["address"].get<std::string>(), nullptr, 16);
  const state::Member* holder = s.FindMember(kSecondNwidValue, holder_address);
  ASSERT_NE(holder, nullptr);
  EXPECT_EQ(holder->config.ip_assignments, (std::vector<std::string>{"10.9.0.5", "fd00::5"}));
}

TEST_F(ImportTest, RefusesAUsedJournalUnlessForced) {
  ASSERT_EQ(RunImport().code, 0);
  Outcome again = RunImport();
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already holds 16 records: import into a new home, or pass --force"),
            std::string::npos)
      << again.err;
  Outcome forced = RunImport({"--force"});
  EXPECT_EQ(forced.code, 1);
  EXPECT_NE(forced.err.find("the network already exists in " + home_), std::string::npos);
  EXPECT_EQ(OpenState().last_seq(), 16u);  // nothing written twice
}

TEST_F(ImportTest, RefusesAHomeWithAnotherIdentity) {
  WriteFile(home_ + "/identity.secret", identities_[0]["secret"].get<std::string>());
  Outcome r = RunImport();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(home_ + " already has controller identity " +
                       identities_[0]["address"].get<std::string>() +
                       ", not 949cb95e9d from --identity"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(home_ + "/journal"));
}

TEST_F(ImportTest, RefusesWhileTheDaemonHoldsTheJournal) {
  WriteFile(home_ + "/identity.secret", lab_["nodes"]["C"]["secret"].get<std::string>());
  ctl::ControllerOptions options;
  options.home = home_;
  options.snapshot_interval_records = 0;
  auto running = ctl::Controller::Open(options);  // stands in for almanacd
  ASSERT_TRUE(running.ok()) << running.status();
  Outcome r = RunImport();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is in use: stop almanacd on this home before importing"),
            std::string::npos)
      << r.err;
}

TEST_F(ImportTest, UsageAndMissingIdentity) {
  EXPECT_EQ(Import({}).code, 2);
  Outcome help = Import({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Usage: almanac import-zerotier"), std::string::npos);
  EXPECT_EQ(Import({controller_d_, "--bogus"}).code, 2);
  Outcome no_identity = Import({controller_d_, "--home", home_});
  EXPECT_EQ(no_identity.code, 2);
  EXPECT_EQ(no_identity.err, "almanac: " + home_ +
                                 " has no identity yet: give the ZeroTier controller's "
                                 "identity.secret with --identity\n");
  Outcome no_dir = Import({root_ + "/nope", "--home", home_, "--identity", identity_file_});
  EXPECT_EQ(no_dir.code, 1);
  EXPECT_EQ(no_dir.err, "almanac: " + root_ + "/nope is not a directory\n");
}

TEST_F(ImportTest, LargeImportPrintsProgress) {
  const fs::path members = fs::path(controller_d_) / "network" / kSecondNwid / "member";
  for (int i = 0; i < 1100; ++i) {
    char address[11];
    std::snprintf(address, sizeof(address), "ab%08x", i);
    WriteFile(members / (std::string(address) + ".json"),
              json{{"address", address}, {"authorized", i % 2 == 0}}.dump());
  }
  Outcome r = RunImport();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(" of 1104 members\n"), std::string::npos) << r.out;
  EXPECT_EQ(OpenState().member_count(), 1104u);
}

}  // namespace
}  // namespace almanac::cli
