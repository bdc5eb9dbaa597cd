// Goal: the direct member writer gives exactly DumpJson(RenderMember(...)) for default,
// full and awkward members (escapes, non-ASCII, invalid UTF-8, identity, telemetry), so
// lists and single GETs can never disagree. Method: byte comparison.
#include "ctl/api/member_text.h"

#include <string>

#include "ctl/api/json_fields.h"
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

}  // namespace
}  // namespace almanac::api
