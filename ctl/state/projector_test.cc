// Goal: every body type of events.fbs changes the state as projector.h says, and every
// invariant violation is refused with the seq named and the state left untouched.
// Method: build records with RecordMaker, apply them, inspect the state.
#include "ctl/state/projector.h"

#include <string>

#include "absl/strings/match.h"
#include "ctl/state/test_records.h"
#include "gtest/gtest.h"

namespace almanac::state {
namespace {

using testing::ApplyBuffer;
using testing::RecordMaker;
using testing::TestIdentity;

constexpr uint64_t kNwid = 0x949cb95e9d7ceef9;
constexpr uint64_t kAddress = 0x73d8c8d12f;

class ProjectorTest : public ::testing::Test {
 protected:
  void Ok(const std::string& buffer) {
    absl::Status status = ApplyBuffer(state_, buffer);
    ASSERT_TRUE(status.ok()) << status;
  }
  // Applies a record that must be refused with `code` and a message naming `seq`, and
  // checks that the state did not change at all.
  void Refused(const std::string& buffer, absl::StatusCode code, uint64_t seq) {
    State before = state_;
    absl::Status status = ApplyBuffer(state_, buffer);
    EXPECT_EQ(status.code(), code) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), absl::StrCat("seq ", seq))) << status;
    EXPECT_TRUE(state_ == before);
    maker_.set_next_seq(state_.last_seq() + 1);
  }
  void InitNetwork() {
    Ok(maker_.ControllerInitialized(TestIdentity(0x1122334455)));
    Ok(maker_.NetworkCreated(kNwid, NetworkConfig{}));
  }

  State state_;
  RecordMaker maker_;
};

TEST_F(ProjectorTest, ControllerLevelRecords) {
  Ok(maker_.ControllerInitialized(TestIdentity(0x1122334455)));
  EXPECT_EQ(state_.controller_identity(), TestIdentity(0x1122334455));
  EXPECT_EQ(state_.last_seq(), 1u);
  EXPECT_EQ(state_.chain_hash(), testing::FakeChainHash(1));
  EXPECT_EQ(state_.epoch(), 1u);

  Ok(maker_.EpochStarted(5));
  EXPECT_EQ(state_.epoch(), 5u);

  State before_seal = state_;
  Ok(maker_.Seal(2));
  EXPECT_EQ(state_.last_seq(), 3u);
  EXPECT_EQ(state_.chain_hash(), testing::FakeChainHash(3));
  EXPECT_EQ(state_.epoch(), before_seal.epoch());
  EXPECT_EQ(state_.controller_identity(), before_seal.controller_identity());
  EXPECT_EQ(state_.network_count(), 0u);
}

TEST_F(ProjectorTest, NetworkLifecycle) {
  InitNetwork();
  const Network* network = state_.FindNetwork(kNwid);
  ASSERT_NE(network, nullptr);
  EXPECT_EQ(network->revision, 1u);
  EXPECT_EQ(network->creation_time_ms, maker_.last_time_ms());
  EXPECT_EQ(network->config, NetworkConfig{});
  EXPECT_TRUE(network->config.private_network);
  EXPECT_EQ(network->config.mtu, 2800u);
  const int64_t created_ms = maker_.last_time_ms();

  NetworkConfig config;
  config.name = "office";
  config.private_network = false;
  config.v4_assign_zt = true;
  config.routes = {{"10.147.20.0/24", ""}, {"0.0.0.0/0", "10.147.20.1"}};
  config.ip_assignment_pools = {{"10.147.20.1", "10.147.20.254"}};
  config.dns = Dns{"example.com", {"10.147.20.1"}};
  config.rules_json = R"([{"type":"ACTION_DROP"}])";
  Ok(maker_.NetworkChanged(kNwid, config));
  network = state_.FindNetwork(kNwid);
  EXPECT_EQ(network->config, config);
  EXPECT_EQ(network->revision, 2u);
  EXPECT_EQ(network->creation_time_ms, created_ms);

  Ok(maker_.MemberJoined(kNwid, kAddress, TestIdentity(kAddress)));
  Ok(maker_.MemberCreated(kNwid, kAddress + 1, MemberConfig{}));
  EXPECT_EQ(state_.member_count(), 2u);
  EXPECT_EQ(state_.FindNetwork(kNwid)->revision, 2u);  // member events leave it alone

  Ok(maker_.NetworkDeleted(kNwid));
  EXPECT_EQ(state_.FindNetwork(kNwid), nullptr);
  EXPECT_EQ(state_.FindMember(kNwid, kAddress), nullptr);
  EXPECT_EQ(state_.member_count(), 0u);
  EXPECT_EQ(state_.network_count(), 0u);
}

// changed_seq names one state of a network or member (the netconf caches key on it): it
// is the seq of the last record that created or changed that object, and a network and
// member deleted and created again at the same millisecond get new ones though their
// revisions and creation times repeat.
TEST_F(ProjectorTest, ChangedSeqIsTheLastRecordThatMadeTheObject) {
  InitNetwork();  // seqs 1, 2
  EXPECT_EQ(state_.FindNetwork(kNwid)->changed_seq, 2u);
  Ok(maker_.MemberJoined(kNwid, kAddress, TestIdentity(kAddress)));  // 3
  EXPECT_EQ(state_.FindMember(kNwid, kAddress)->changed_seq, 3u);
  EXPECT_EQ(state_.FindNetwork(kNwid)->changed_seq, 2u);  // member events leave it alone
  Ok(maker_.MemberAuthorized(kNwid, kAddress, "api"));  // 4
  EXPECT_EQ(state_.FindMember(kNwid, kAddress)->changed_seq, 4u);
  Ok(maker_.NetworkChanged(kNwid, NetworkConfig{}));  // 5
  EXPECT_EQ(state_.FindNetwork(kNwid)->changed_seq, 5u);
  EXPECT_EQ(state_.FindMember(kNwid, kAddress)->changed_seq, 4u);

  const Network before = *state_.FindNetwork(kNwid);
  const Member member_before = *state_.FindMember(kNwid, kAddress);
  Ok(maker_.NetworkDeleted(kNwid));                                   // 6
  Ok(maker_.NetworkCreated(kNwid, NetworkConfig{}));                  // 7
  Ok(maker_.NetworkChanged(kNwid, NetworkConfig{}));                  // 8
  Ok(maker_.MemberJoined(kNwid, kAddress, TestIdentity(kAddress)));  // 9
  Ok(maker_.MemberAuthorized(kNwid, kAddress, "api"));                // 10
  const Network& after = *state_.FindNetwork(kNwid);
  const Member& member_after = *state_.FindMember(kNwid, kAddress);
  EXPECT_EQ(after.revision, before.revision);
  EXPECT_EQ(member_after.revision, member_before.revision);
  EXPECT_EQ(after.changed_seq, 8u);
  EXPECT_EQ(member_after.changed_seq, 10u);
}

TEST_F(ProjectorTest, MemberJoinedCreatesThenRecordsIdentity) {
  InitNetwork();
  Ok(maker_.MemberJoined(kNwid, kAddress, TestIdentity(kAddress)));
  const Member* member = state_.FindMember(kNwid, kAddress);
  ASSERT_NE(member, nullptr);
  EXPECT_EQ(member->nwid, kNwid);
  EXPECT_EQ(member->address, kAddress);
  EXPECT_TRUE(member->has_identity);
  EXPECT_EQ(IdentityText(*member), TestIdentity(kAddress));
  EXPECT_EQ(member->revision, 1u);
  EXPECT_EQ(member->creation_time_ms, maker_.last_time_ms());
  EXPECT_FALSE(member->config.authorized);

  // An admin-created member that joins later keeps its config and creation time.
  MemberConfig config;
  config.name = "printer";
  Ok(maker_.MemberCreated(kNwid, kAddress + 1, config));
  const int64_t created_ms = maker_.last_time_ms();
  EXPECT_FALSE(state_.FindMember(kNwid, kAddress + 1)->has_identity);
  EXPECT_EQ(IdentityText(*state_.FindMember(kNwid, kAddress + 1)), "");
  Ok(maker_.MemberJoined(kNwid, kAddress + 1, TestIdentity(kAddress + 1)));
  member = state_.FindMember(kNwid, kAddress + 1);
  EXPECT_EQ(member->config, config);
  EXPECT_EQ(member->creation_time_ms, created_ms);
  EXPECT_EQ(member->revision, 2u);
  EXPECT_TRUE(member->has_identity);
}

TEST_F(ProjectorTest, AuthorizeDeauthorizeChangeIpsAndDelete) {
  InitNetwork();
  Ok(maker_.MemberJoined(kNwid, kAddress, TestIdentity(kAddress)));
  const int64_t joined_ms = maker_.last_time_ms();

  Ok(maker_.MemberAuthorized(kNwid, kAddress, "api"));
  const Member* member = state_.FindMember(kNwid, kAddress);
  EXPECT_TRUE(member->config.authorized);
  EXPECT_EQ(member->last_authorized_time_ms, maker_.last_time_ms());
  EXPECT_EQ(member->last_authorized_credential_type, CredentialType::kApi);
  EXPECT_EQ(member->last_deauthorized_time_ms, 0);
  EXPECT_EQ(member->revision, 2u);
  const int64_t authorized_ms = maker_.last_time_ms();

  Ok(maker_.IpAssigned(kNwid, kAddress, "10.147.20.137"));
  Ok(maker_.IpAssigned(kNwid, kAddress, "fd00::1"));
  Ok(maker_.IpAssigned(kNwid, kAddress, "10.147.20.137"));  // already there: no duplicate
  EXPECT_EQ(member->config.ip_assignments,
            (std::vector<std::string>{"10.147.20.137", "fd00::1"}));
  EXPECT_EQ(member->revision, 5u);
  Ok(maker_.IpReleased(kNwid, kAddress, "10.147.20.137"));
  Ok(maker_.IpReleased(kNwid, kAddress, "10.1.1.1"));  // absent: nothing to remove
  EXPECT_EQ(member->config.ip_assignments, (std::vector<std::string>{"fd00::1"}));
  EXPECT_EQ(member->revision, 7u);

  Ok(maker_.MemberDeauthorized(kNwid, kAddress));
  EXPECT_FALSE(member->config.authorized);
  EXPECT_EQ(member->last_deauthorized_time_ms, maker_.last_time_ms());
  EXPECT_EQ(member->last_authorized_time_ms, authorized_ms);
  EXPECT_EQ(member->last_authorized_credential_type, CredentialType::kApi);
  EXPECT_EQ(member->revision, 8u);

  MemberConfig config;
  config.authorized = true;
  config.active_bridge = true;
  config.no_auto_assign_ips = true;
  config.ip_assignments = {"10.147.20.5"};
  config.tags = {{1, 2}, {3, 4}};
  config.capabilities = {7};
  config.name = "laptop";
  config.sso_exempt = true;
  config.remote_trace_target = "1122334455";
  config.remote_trace_level = 2;
  Ok(maker_.MemberChanged(kNwid, kAddress, config));
  EXPECT_EQ(member->config, config);
  EXPECT_EQ(member->revision, 9u);
  EXPECT_EQ(member->creation_time_ms, joined_ms);
  EXPECT_EQ(IdentityText(*member), TestIdentity(kAddress));
  EXPECT_EQ(member->last_authorized_time_ms, authorized_ms);

  Ok(maker_.MemberAuthorized(kNwid, kAddress, "public"));
  EXPECT_EQ(state_.FindMember(kNwid, kAddress)->last_authorized_credential_type,
            CredentialType::kPublic);

  Ok(maker_.MemberDeleted(kNwid, kAddress));
  EXPECT_EQ(state_.FindMember(kNwid, kAddress), nullptr);
  EXPECT_EQ(state_.member_count(), 0u);
  EXPECT_NE(state_.FindNetwork(kNwid), nullptr);
}

TEST_F(ProjectorTest, SortedViews) {
  InitNetwork();
  Ok(maker_.NetworkCreated(1, NetworkConfig{}));
  for (uint64_t address : {0x30ull, 0x10ull, 0x20ull}) {
    Ok(maker_.MemberCreated(kNwid, address, MemberConfig{}));
  }
  EXPECT_EQ(state_.NetworkIdsSorted(), (std::vector<uint64_t>{1, kNwid}));
  std::vector<const Member*> sorted = state_.MembersSorted(kNwid);
  ASSERT_EQ(sorted.size(), 3u);
  EXPECT_EQ(sorted[0]->address, 0x10u);
  EXPECT_EQ(sorted[2]->address, 0x30u);
  EXPECT_TRUE(state_.MembersSorted(2).empty());
}

TEST_F(ProjectorTest, SeqMustFollow) {
  InitNetwork();  // seqs 1, 2
  maker_.set_next_seq(4);
  State before = state_;
  absl::Status status = ApplyBuffer(state_, maker_.NetworkCreated(7, NetworkConfig{}));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(status.message(), "seq 4")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "last seq 2")) << status;
  EXPECT_TRUE(state_ == before);
  maker_.set_next_seq(2);  // a replayed record
  EXPECT_EQ(ApplyBuffer(state_, maker_.Seal(1)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(state_ == before);
}

TEST_F(ProjectorTest, EpochNeverGoesDown) {
  InitNetwork();
  Ok(maker_.EpochStarted(3));
  maker_.set_epoch(2);
  Refused(maker_.Seal(1), absl::StatusCode::kFailedPrecondition, 4);
  maker_.set_epoch(3);
  Refused(maker_.EpochStarted(2), absl::StatusCode::kFailedPrecondition, 4);
  EXPECT_EQ(state_.epoch(), 3u);
}

TEST_F(ProjectorTest, ObjectsMustExistOrNot) {
  InitNetwork();  // network kNwid exists; seq 3 is next
  Ok(maker_.MemberCreated(kNwid, kAddress, MemberConfig{}));  // seq 3
  const uint64_t other = 0xdead;
  Refused(maker_.ControllerInitialized(TestIdentity(1)), absl::StatusCode::kFailedPrecondition, 4);
  Refused(maker_.NetworkCreated(kNwid, NetworkConfig{}), absl::StatusCode::kFailedPrecondition,
          4);
  Refused(maker_.NetworkChanged(other, NetworkConfig{}), absl::StatusCode::kFailedPrecondition,
          4);
  Refused(maker_.NetworkDeleted(other), absl::StatusCode::kFailedPrecondition, 4);
  Refused(maker_.MemberJoined(other, kAddress, TestIdentity(kAddress)),
          absl::StatusCode::kFailedPrecondition, 4);
  Refused(maker_.MemberCreated(other, kAddress, MemberConfig{}),
          absl::StatusCode::kFailedPrecondition, 4);
  Refused(maker_.MemberCreated(kNwid, kAddress, MemberConfig{}),
          absl::StatusCode::kFailedPrecondition, 4);
  for (uint64_t nwid : {kNwid, other}) {
    const uint64_t address = kAddress + 1;  // never created
    Refused(maker_.MemberAuthorized(nwid, address, "api"),
            absl::StatusCode::kFailedPrecondition, 4);
    Refused(maker_.MemberDeauthorized(nwid, address), absl::StatusCode::kFailedPrecondition,
            4);
    Refused(maker_.MemberChanged(nwid, address, MemberConfig{}),
            absl::StatusCode::kFailedPrecondition, 4);
    Refused(maker_.MemberDeleted(nwid, address), absl::StatusCode::kFailedPrecondition, 4);
    Refused(maker_.IpAssigned(nwid, address, "10.0.0.1"), absl::StatusCode::kFailedPrecondition,
            4);
    Refused(maker_.IpReleased(nwid, address, "10.0.0.1"), absl::StatusCode::kFailedPrecondition,
            4);
  }
  EXPECT_EQ(state_.last_seq(), 3u);
}

TEST_F(ProjectorTest, MalformedBodiesAreRefused) {
  InitNetwork();
  Ok(maker_.MemberCreated(kNwid, kAddress, MemberConfig{}));  // seq 3
  Refused(maker_.Empty(), absl::StatusCode::kInvalidArgument, 4);
  Refused(maker_.MemberJoined(kNwid, kAddress, "not an identity"),
          absl::StatusCode::kInvalidArgument, 4);
  // A valid identity of another address.
  Refused(maker_.MemberJoined(kNwid, kAddress, TestIdentity(kAddress + 1)),
          absl::StatusCode::kInvalidArgument, 4);
  Refused(maker_.MemberAuthorized(kNwid, kAddress, "magic"), absl::StatusCode::kInvalidArgument,
          4);
  Refused(maker_.MemberAuthorized(kNwid, kAddress, ""), absl::StatusCode::kInvalidArgument, 4);
  Refused(maker_.IpAssigned(kNwid, kAddress, ""), absl::StatusCode::kInvalidArgument, 4);
  // A member that joined and then received a bad event keeps everything.
  EXPECT_FALSE(state_.FindMember(kNwid, kAddress)->has_identity);
}

}  // namespace
}  // namespace almanac::state
