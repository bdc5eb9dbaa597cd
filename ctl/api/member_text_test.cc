// Goal: the direct member writer gives exactly DumpJson(RenderMember(...)) for default,
// full and awkward members (escapes, non-ASCII, invalid UTF-8, identity, telemetry), so
// lists and single GETs can never disagree; a member list holds the state only in chunks
// and stays well formed when members are deleted between them. Method: byte comparison;
// lists read through a ReadState that counts its calls and can hand out a changed state
// from one call on, as the sequencer applying between chunks would.
#include "ctl/api/member_text.h"

#include <string>
#include <vector>

#include "ctl/api/json_fields.h"
#include "ctl/state/test_records.h"
#include "gtest/gtest.h"

namespace almanac::api {
namespace {

std::string Direct(const state::Member& m, const MemberLiveFields& live) {
  std::string out;
  AppendMemberJson(m, live, &out);
  return out;
}

TEST(MemberTextTest, SameBytesAsTheTreeRenderer) {
  state::Member plain;
  plain.nwid = 0x949cb95e9d000001ULL;
  plain.address = 0x73d8c8d12fULL;
  EXPECT_EQ(Direct(plain, {}), DumpJson(RenderMember(plain, {})));

  state::Member full = plain;
  full.config.authorized = true;
  full.config.active_bridge = true;
  full.config.no_auto_assign_ips = true;
  full.config.sso_exempt = true;
  full.config.ip_assignments = {"10.0.0.1", "fd00::1"};
  full.config.tags = {{1, 2}, {4294967295u, 0}};
  full.config.capabilities = {5, 7};
  full.config.name = "quote \" back \\ tab \t nl \n ctl \x01 del \x7f é 日本 bad \xff\xfe end";
  full.config.remote_trace_target = "6914243cae";
  full.config.remote_trace_level = -3;
  full.creation_time_ms = 1795818880722;
  full.revision = 42;
  full.last_authorized_time_ms = 1795818880723;
  full.last_deauthorized_time_ms = 1795818880724;
  full.last_authorized_credential_type = state::CredentialType::kApi;
  full.has_identity = true;
  full.identity_public.fill(0xab);
  MemberLiveFields live;
  live.last_seen_ms = 99;
  live.physical_address = "10.99.0.2/9992";
  live.v_major = 1;
  live.v_minor = 14;
  live.v_rev = 1;
  live.v_proto = 12;
  EXPECT_EQ(Direct(full, live), DumpJson(RenderMember(full, live)));
  EXPECT_EQ(Direct(full, {}), DumpJson(RenderMember(full, {})));
}

TEST(MemberTextTest, StringsEscapeLikeDumpJson) {
  for (const std::string s : {"", "plain", "\"", "\\", "\x1f", "\x7f", "\xc3\xa9", "\xff"}) {
    std::string out;
    AppendJsonString(s, &out);
    EXPECT_EQ(out, DumpJson(nlohmann::json(s))) << s;
  }
}

constexpr uint64_t kNwid = 0x949cb95e9d7ceef9;

// Network kNwid with a member at each address (authorized when its second hex digit from
// the right is odd: 0x10, 0x30, 0x50);
// then each of `deleted` deleted again.
state::State StateWithMembers(const std::vector<uint64_t>& addresses,
                              const std::vector<uint64_t>& deleted = {}) {
  state::State s;
  state::testing::RecordMaker maker;
  auto ok = [&s](const std::string& record) {
    absl::Status status = state::testing::ApplyBuffer(s, record);
    EXPECT_TRUE(status.ok()) << status;
  };
  ok(maker.ControllerInitialized(state::testing::TestIdentity(0x1122334455)));
  ok(maker.NetworkCreated(kNwid, state::NetworkConfig{}));
  for (uint64_t address : addresses) {
    state::MemberConfig config;
    config.authorized = (address >> 4) % 2 == 1;
    ok(maker.MemberCreated(kNwid, address, config));
  }
  for (uint64_t address : deleted) ok(maker.MemberDeleted(kNwid, address));
  return s;
}

// Serves `first` to the first read and `later` to every read after it, counting them.
struct SwitchingReader {
  const state::State* first;
  const state::State* later;
  int reads = 0;
  ReadState Read() {
    return [this](const std::function<void(const state::State&)>& f) {
      f(reads++ == 0 ? *first : *later);
    };
  }
};

MemberLiveFields NoLiveFields(uint64_t) { return {}; }

TEST(MemberListTest, ListsInAddressOrderOneReadPerChunk) {
  const state::State s = StateWithMembers({0x30, 0x10, 0x50, 0x20, 0x40});
  SwitchingReader reader{&s, &s};
  std::string map;
  ASSERT_TRUE(RenderMemberList(reader.Read(), kNwid, /*full=*/false, NoLiveFields,
                               /*chunk=*/2, &map));
  EXPECT_EQ(reader.reads, 1 + 3);  // the addresses, then chunks of 2, 2 and 1
  EXPECT_EQ(map,
            "{\"0000000010\":1,\"0000000020\":1,\"0000000030\":1,\"0000000040\":1,"
            "\"0000000050\":1}");

  // The full form: every member as a single GET renders it, and the counts.
  std::string full;
  ASSERT_TRUE(RenderMemberList(reader.Read(), kNwid, /*full=*/true, NoLiveFields,
                               /*chunk=*/2, &full));
  std::string want = "{\"data\":[";
  for (uint64_t address : {0x10, 0x20, 0x30, 0x40, 0x50}) {
    if (address != 0x10) want += ",";
    AppendMemberJson(*s.FindMember(kNwid, address), {}, &want);
  }
  want += "],\"meta\":{\"authorizedCount\":3,\"totalCount\":5}}";
  EXPECT_EQ(full, want);
  EXPECT_TRUE(nlohmann::json::parse(full, nullptr, false).is_object());

  // One chunk for all gives the same bytes.
  std::string whole;
  ASSERT_TRUE(RenderMemberList(reader.Read(), kNwid, /*full=*/true, NoLiveFields,
                               /*chunk=*/1000, &whole));
  EXPECT_EQ(whole, full);
}

TEST(MemberListTest, MembersDeletedBetweenChunksAreLeftOutAndTheListStaysWellFormed) {
  const state::State before = StateWithMembers({0x10, 0x20, 0x30, 0x40});
  // The first and last members go while the list renders: the commas and counts still fit.
  const state::State after = StateWithMembers({0x10, 0x20, 0x30, 0x40}, {0x10, 0x40});
  SwitchingReader reader{&before, &after};
  std::string full;
  ASSERT_TRUE(RenderMemberList(reader.Read(), kNwid, /*full=*/true, NoLiveFields,
                               /*chunk=*/1, &full));
  const nlohmann::json j = nlohmann::json::parse(full, nullptr, false);
  ASSERT_TRUE(j.is_object()) << full;
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][0]["address"], "0000000020");
  EXPECT_EQ(j["data"][1]["address"], "0000000030");
  EXPECT_EQ(j["meta"]["totalCount"], 2);
  EXPECT_EQ(j["meta"]["authorizedCount"], 1);  // 0x30

  SwitchingReader again{&before, &after};
  std::string map;
  ASSERT_TRUE(RenderMemberList(again.Read(), kNwid, /*full=*/false, NoLiveFields,
                               /*chunk=*/1, &map));
  EXPECT_EQ(map, "{\"0000000020\":1,\"0000000030\":1}");
}

TEST(MemberListTest, UnknownNetworkAppendsNothing) {
  const state::State s = StateWithMembers({0x10});
  SwitchingReader reader{&s, &s};
  std::string out = "kept";
  EXPECT_FALSE(RenderMemberList(reader.Read(), kNwid + 1, /*full=*/true, NoLiveFields,
                                /*chunk=*/1, &out));
  EXPECT_EQ(out, "kept");
  EXPECT_EQ(reader.reads, 1);

  // A network with no members: an empty map and an empty full list, one read.
  const state::State empty = StateWithMembers({});
  SwitchingReader none{&empty, &empty};
  std::string map;
  ASSERT_TRUE(RenderMemberList(none.Read(), kNwid, false, NoLiveFields, 1, &map));
  EXPECT_EQ(map, "{}");
  EXPECT_EQ(none.reads, 1);
}

}  // namespace
}  // namespace almanac::api
