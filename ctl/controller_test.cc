// Goal: a controller home starts, restarts and recovers exactly: secrets are created
// once with mode 0600, the state after a restart equals the state before it, state from
// (snapshot + journal tail) equals a full replay byte for byte, a damaged snapshot is
// skipped, and a journal that belongs to another identity stops the start.
// Method: real homes under $TEST_TMPDIR; changes go through the sequencer.
#include "ctl/controller.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "base/testing.h"
#include "ctl/state/snapshot.h"
#include "gtest/gtest.h"
#include "schemas/events_generated.h"

namespace almanac::ctl {
namespace {

namespace fs = std::filesystem;

ControllerOptions Options(const std::string& home) {
  ControllerOptions o;
  o.home = home;
  o.snapshot_interval_records = 0;  // the tests take snapshots explicitly
  return o;
}

std::unique_ptr<Controller> OpenOrDie(const std::string& home) {
  auto c = Controller::Open(Options(home));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

void AddNetworkWithMembers(Controller& c, uint64_t nwid, int members) {
  Command net;
  net.writes = {ObjectKey::Controller(), ObjectKey::Network(nwid)};
  net.decide = [nwid](const state::State&, CommandContext& ctx) {
    ctx.Emit(schema::Body::NetworkCreated, [nwid](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateNetworkCreated(b, nwid).Union();
    });
    return absl::OkStatus();
  };
  ASSERT_TRUE(c.sequencer()->Submit(std::move(net)).ok());
  for (int i = 1; i <= members; ++i) {
    const uint64_t address = 0x1000000000ULL + i;
    Command m;
    m.writes = {ObjectKey::Member(nwid, address)};
    m.decide = [nwid, address](const state::State&, CommandContext& ctx) {
      ctx.Emit(schema::Body::MemberCreated, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateMemberCreated(b, nwid, address).Union();
      });
      ctx.Emit(schema::Body::MemberAuthorized, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateMemberAuthorizedDirect(b, nwid, address, "api").Union();
      });
      return absl::OkStatus();
    };
    ASSERT_TRUE(c.sequencer()->Submit(std::move(m)).ok());
  }
}

std::string Serialized(Controller& c) {
  return c.sequencer()->Read([](const state::State& s) { return state::SerializeState(s); });
}

int Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(ControllerTest, FirstStartCreatesSecretsAndInitializesTheJournal) {
  const std::string home = testing::MakeTempDir("home") + "/var/almanac";
  auto c = OpenOrDie(home);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Mode(home + "/identity.secret"), 0600);
  EXPECT_EQ(Mode(home + "/authtoken.secret"), 0600);
  EXPECT_EQ(c->journal()->last_seq(), 1u);
  // By default the journal's logs start as zeroed spares of a whole memtable's log.
  EXPECT_EQ(c->journal()->logs_from_zeroed_spares(), 1u);
  EXPECT_EQ(ControllerOptions{}.zeroed_log_bytes, size_t{72} << 20);
  const std::string public_text = c->identity().ToString(false);
  c->sequencer()->Read([&](const state::State& s) {
    EXPECT_EQ(s.controller_identity(), public_text);
  });
  const std::string token = c->auth_token();
  EXPECT_EQ(token.size(), kAuthTokenChars);
  c.reset();
  // A restart keeps the identity and token and writes no second initialization.
  auto again = OpenOrDie(home);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->identity().ToString(true).size(), public_text.size() + 129);
  EXPECT_EQ(again->identity().ToString(false), public_text);
  EXPECT_EQ(again->auth_token(), token);
  EXPECT_EQ(again->journal()->last_seq(), 1u);
}

TEST(ControllerTest, SnapshotPlusTailEqualsFullReplay) {
  const std::string home = testing::MakeTempDir("home");
  std::string before;
  {
    auto c = OpenOrDie(home);
    ASSERT_NE(c, nullptr);
    AddNetworkWithMembers(*c, (c->identity().address() << 24) | 1, 20);
    ASSERT_TRUE(c->WriteSnapshotNow().ok());
    AddNetworkWithMembers(*c, (c->identity().address() << 24) | 2, 10);
    before = Serialized(*c);
  }
  {
    auto from_snapshot = OpenOrDie(home);
    ASSERT_NE(from_snapshot, nullptr);
    EXPECT_EQ(Serialized(*from_snapshot), before);
  }
  // Snapshots are only an accelerator: without any, the full replay gives the same bytes.
  for (const auto& entry : fs::directory_iterator(home + "/snapshots")) fs::remove(entry);
  auto full = OpenOrDie(home);
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(Serialized(*full), before);
}

TEST(ControllerTest, DamagedSnapshotIsSkipped) {
  const std::string home = testing::MakeTempDir("home");
  std::string before;
  {
    auto c = OpenOrDie(home);
    ASSERT_NE(c, nullptr);
    AddNetworkWithMembers(*c, (c->identity().address() << 24) | 1, 5);
    absl::StatusOr<std::string> path = c->WriteSnapshotNow();
    ASSERT_TRUE(path.ok()) << path.status();
    before = Serialized(*c);
    std::fstream f(*path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  auto c = OpenOrDie(home);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Serialized(*c), before);
}

TEST(ControllerTest, JournalOfAnotherControllerStopsTheStart) {
  const std::string a = testing::MakeTempDir("home_a");
  const std::string b = testing::MakeTempDir("home_b");
  { ASSERT_NE(OpenOrDie(a), nullptr); }
  { ASSERT_NE(OpenOrDie(b), nullptr); }
  fs::remove_all(b + "/journal");
  fs::copy(a + "/journal", b + "/journal", fs::copy_options::recursive);
  auto c = Controller::Open(Options(b));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("belongs to controller"), std::string::npos)
      << c.status();
}

}  // namespace
}  // namespace almanac::ctl
