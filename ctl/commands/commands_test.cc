// Goal: admin commands emit exactly the events the audit story needs (one per accepted
// change, none for a no-op), refuse what the state forbids, and report their outcome.
// Method: a real journal and sequencer in $TEST_TMPDIR with a fixed clock; each case
// submits commands and checks the journal's records and the applied state.
#include <memory>
#include <string>
#include <vector>

#include "base/testing.h"
#include "ctl/commands/member_commands.h"
#include "ctl/commands/network_commands.h"
#include "ctl/sequencer.h"
#include "gtest/gtest.h"
#include "journal/journal.h"
#include "schemas/events_generated.h"

namespace almanac::commands {
namespace {

constexpr uint64_t kController = 0x949cb95e9dULL;
constexpr uint64_t kMember = 0x73d8c8d12fULL;
constexpr int64_t kNowMs = 1795818880722;

ctl::Actor Admin() {
  ctl::Actor a;
  a.kind = schema::ActorKind::AdminToken;
  a.id = "admin";
  a.source = "127.0.0.1:1";
  return a;
}

NetworkEdit SetName(std::string name) {
  return [name](const state::NetworkConfig& old) -> absl::StatusOr<NetworkEditResult> {
    NetworkEditResult r{old, {}};
    r.config.name = name;
    if (old.name != name) r.changes.push_back({"name", "\"" + old.name + "\"", "\"" + name + "\""});
    return r;
  };
}

MemberEdit SetMember(std::optional<bool> authorized, std::optional<std::string> name) {
  return [=](const state::MemberConfig& old) -> absl::StatusOr<MemberEditResult> {
    MemberEditResult r{old, {}};
    if (authorized && *authorized != old.authorized) {
      r.config.authorized = *authorized;
      r.changes.push_back({"authorized", old.authorized ? "true" : "false",
                           *authorized ? "true" : "false"});
    }
    if (name && *name != old.name) {
      r.config.name = *name;
      r.changes.push_back({"name", "\"" + old.name + "\"", "\"" + *name + "\""});
    }
    return r;
  };
}

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto journal = journal::Journal::Open(testing::MakeTempDir("commands") + "/journal",
                                          journal::JournalOptions{});
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = std::move(*journal);
    ctl::SequencerOptions options;
    options.clock_ms = [] { return kNowMs; };
    sequencer_ = std::make_unique<ctl::Sequencer>(journal_.get(), state::State{}, options);
    auto outcome = std::make_shared<NetworkOutcome>();
    auto created = sequencer_->Submit(CreateNetworkCommand(Admin(), kController,
                                                           SetName("lab"), outcome));
    ASSERT_TRUE(created.ok()) << created.status();
    nwid_ = outcome->nwid;
  }

  // The body types of records after `seq`.
  std::vector<schema::Body> BodiesAfter(uint64_t seq) {
    std::vector<schema::Body> bodies;
    if (journal_->last_seq() <= seq) return bodies;
    auto records = journal_->Read(seq + 1, 100);
    EXPECT_TRUE(records.ok());
    for (const auto& r : *records) {
      bodies.push_back(flatbuffers::GetRoot<schema::Record>(r.bytes.data())->body_type());
    }
    return bodies;
  }

  const schema::Record* LastRecord() {
    auto records = journal_->Read(journal_->last_seq(), 1);
    EXPECT_TRUE(records.ok());
    last_bytes_ = (*records)[0].bytes;
    return flatbuffers::GetRoot<schema::Record>(last_bytes_.data());
  }

  state::Member GetMember() {
    return sequencer_->Read([&](const state::State& s) { return *s.FindMember(nwid_, kMember); });
  }

  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<ctl::Sequencer> sequencer_;
  uint64_t nwid_ = 0;
  std::string last_bytes_;
};

TEST_F(CommandsTest, CreateNetworkPicksIdUnderController) {
  EXPECT_EQ(nwid_ >> 24, kController);
  const schema::Record* r = LastRecord();
  ASSERT_EQ(r->body_type(), schema::Body::NetworkCreated);
  EXPECT_EQ(r->body_as_NetworkCreated()->nwid(), nwid_);
  EXPECT_EQ(r->actor()->id()->str(), "admin");
  EXPECT_EQ(r->actor()->kind(), schema::ActorKind::AdminToken);
  const std::string name =
      sequencer_->Read([&](const state::State& s) { return s.FindNetwork(nwid_)->config.name; });
  EXPECT_EQ(name, "lab");
}

TEST_F(CommandsTest, PutNetworkNoOpWritesNothingAndChangeListsFields) {
  const uint64_t before = journal_->last_seq();
  auto outcome = std::make_shared<NetworkOutcome>();
  ASSERT_TRUE(sequencer_->Submit(PutNetworkCommand(Admin(), nwid_, SetName("lab"), outcome)).ok());
  EXPECT_EQ(journal_->last_seq(), before);
  EXPECT_FALSE(outcome->created);
  EXPECT_EQ(outcome->changes, 0u);

  ASSERT_TRUE(sequencer_->Submit(PutNetworkCommand(Admin(), nwid_, SetName("x"), outcome)).ok());
  EXPECT_EQ(BodiesAfter(before), std::vector<schema::Body>{schema::Body::NetworkChanged});
  const auto* changed = LastRecord()->body_as_NetworkChanged();
  ASSERT_EQ(changed->changes()->size(), 1u);
  EXPECT_EQ(changed->changes()->Get(0)->field()->str(), "name");
  EXPECT_EQ(changed->changes()->Get(0)->old_json()->str(), "\"lab\"");
  EXPECT_EQ(changed->changes()->Get(0)->new_json()->str(), "\"x\"");
}

TEST_F(CommandsTest, PutNetworkCreatesGivenIdAndChangeRefusesMissing) {
  const uint64_t nwid = (kController << 24) | 0xabcdef;
  auto outcome = std::make_shared<NetworkOutcome>();
  ASSERT_TRUE(sequencer_->Submit(PutNetworkCommand(Admin(), nwid, SetName("b"), outcome)).ok());
  EXPECT_TRUE(outcome->created);
  EXPECT_EQ(outcome->nwid, nwid);
  auto missing = sequencer_->Submit(
      ChangeNetworkCommand(Admin(), nwid + 1, SetName("c"), std::make_shared<NetworkOutcome>()));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CommandsTest, MemberCreateAuthorizeChangeDelete) {
  auto outcome = std::make_shared<MemberOutcome>();
  uint64_t seq = journal_->last_seq();
  ASSERT_TRUE(sequencer_->Submit(PutMemberCommand(Admin(), nwid_, kMember,
                                                  SetMember(true, std::nullopt), false, outcome))
                  .ok());
  EXPECT_TRUE(outcome->created);
  EXPECT_EQ(BodiesAfter(seq), (std::vector<schema::Body>{schema::Body::MemberCreated,
                                                         schema::Body::MemberAuthorized}));
  state::Member m = GetMember();
  EXPECT_TRUE(m.config.authorized);
  EXPECT_EQ(m.last_authorized_time_ms, kNowMs);
  EXPECT_EQ(m.last_authorized_credential_type, state::CredentialType::kApi);
  EXPECT_EQ(m.revision, 2u);

  // The same request again changes nothing: no event.
  seq = journal_->last_seq();
  ASSERT_TRUE(sequencer_->Submit(PutMemberCommand(Admin(), nwid_, kMember,
                                                  SetMember(true, std::nullopt), false, outcome))
                  .ok());
  EXPECT_EQ(journal_->last_seq(), seq);

  // Only authorized: one MemberDeauthorized.
  ASSERT_TRUE(sequencer_->Submit(PutMemberCommand(Admin(), nwid_, kMember,
                                                  SetMember(false, std::nullopt), false, outcome))
                  .ok());
  EXPECT_EQ(BodiesAfter(seq), std::vector<schema::Body>{schema::Body::MemberDeauthorized});
  EXPECT_EQ(GetMember().last_deauthorized_time_ms, kNowMs);

  // Only the name: one MemberChanged naming the field.
  seq = journal_->last_seq();
  ASSERT_TRUE(sequencer_->Submit(PutMemberCommand(Admin(), nwid_, kMember,
                                                  SetMember(std::nullopt, "laptop"), false,
                                                  outcome))
                  .ok());
  EXPECT_EQ(BodiesAfter(seq), std::vector<schema::Body>{schema::Body::MemberChanged});
  const auto* changed = LastRecord()->body_as_MemberChanged();
  ASSERT_EQ(changed->changes()->size(), 1u);
  EXPECT_EQ(changed->changes()->Get(0)->field()->str(), "name");

  // authorized and name together: MemberAuthorized, then MemberChanged without "authorized".
  seq = journal_->last_seq();
  ASSERT_TRUE(sequencer_->Submit(PutMemberCommand(Admin(), nwid_, kMember,
                                                  SetMember(true, "desk"), true, outcome))
                  .ok());
  EXPECT_EQ(BodiesAfter(seq), (std::vector<schema::Body>{schema::Body::MemberAuthorized,
                                                         schema::Body::MemberChanged}));
  const auto* both = LastRecord()->body_as_MemberChanged();
  ASSERT_EQ(both->changes()->size(), 1u);
  EXPECT_EQ(both->changes()->Get(0)->field()->str(), "name");
  m = GetMember();
  EXPECT_TRUE(m.config.authorized);
  EXPECT_EQ(m.config.name, "desk");

  ASSERT_TRUE(sequencer_->Submit(DeleteMemberCommand(Admin(), nwid_, kMember, outcome)).ok());
  ASSERT_TRUE(outcome->deleted.has_value());
  EXPECT_EQ(outcome->deleted->config.name, "desk");
  auto again = sequencer_->Submit(DeleteMemberCommand(Admin(), nwid_, kMember, outcome));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CommandsTest, MemberOfMissingNetworkIsNotFound) {
  auto r = sequencer_->Submit(PutMemberCommand(Admin(), nwid_ + 1, kMember,
                                               SetMember(true, std::nullopt), false,
                                               std::make_shared<MemberOutcome>()));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CommandsTest, DeleteNetworkReturnsItAndRemovesMembers) {
  ASSERT_TRUE(sequencer_->Submit(PutMemberCommand(Admin(), nwid_, kMember,
                                                  SetMember(false, std::nullopt), false,
                                                  std::make_shared<MemberOutcome>()))
                  .ok());
  auto outcome = std::make_shared<NetworkOutcome>();
  ASSERT_TRUE(sequencer_->Submit(DeleteNetworkCommand(Admin(), nwid_, outcome)).ok());
  ASSERT_TRUE(outcome->deleted.has_value());
  EXPECT_EQ(outcome->deleted->config.name, "lab");
  EXPECT_TRUE(outcome->deleted->members.empty());
  const size_t members = sequencer_->Read([](const state::State& s) { return s.member_count(); });
  EXPECT_EQ(members, 0u);
  auto again = sequencer_->Submit(DeleteNetworkCommand(Admin(), nwid_, outcome));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace almanac::commands
