// Members as ZeroTier's controller JSON (shared/docs/zerotier-protocol.md §6): render a
// Member with its telemetry, and turn a POST body into a validated partial update.
//
// Rendering gives the field set of ZeroTier 1.14.1's controller
// (shared/vectors/zerotier-1.14.1/controller_member.json), keys sorted, plus Almanac's
// own `name`, `lastSeen` (ms, 0 = never) and `physicalAddress` (null = unknown).
// vMajor/vMinor/vRev/vProto come from telemetry and are -1 until the first request.
// identity is null until the member's node has asked for a config.
//
// Parsing: fields present in the body change; read-only and unknown fields are ignored.
// Writable: authorized, activeBridge, noAutoAssignIps, ssoExempt (booleans, or the
// strings "true"/"false"), ipAssignments (array of IP addresses, replaced whole,
// canonicalized, duplicates dropped), tags ([[id, value], ...]), capabilities ([id, ...]),
// name, remoteTraceTarget, remoteTraceLevel. Bad values: InvalidArgument naming the field.
//
// Thread safety: pure functions.
#ifndef ALMANAC_CTL_API_MEMBER_JSON_H_
#define ALMANAC_CTL_API_MEMBER_JSON_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/commands/field_change.h"
#include "ctl/commands/member_commands.h"
#include "ctl/state/state.h"
#include "nlohmann/json.hpp"

namespace almanac::api {

struct MemberPatch {
  std::optional<bool> authorized;
  std::optional<bool> active_bridge;
  std::optional<bool> no_auto_assign_ips;
  std::optional<bool> sso_exempt;
  std::optional<std::vector<std::string>> ip_assignments;
  std::optional<std::vector<state::MemberTag>> tags;
  std::optional<std::vector<uint32_t>> capabilities;
  std::optional<std::string> name;
  std::optional<std::string> remote_trace_target;
  std::optional<int32_t> remote_trace_level;
};

// Validates a parsed body (a JSON object). InvalidArgument naming the field otherwise.
absl::StatusOr<MemberPatch> ParseMemberPatch(const nlohmann::json& body);

state::MemberConfig ApplyMemberPatch(const state::MemberConfig& old, const MemberPatch& patch);

// The config-backed fields as rendered JSON.
nlohmann::json RenderMemberConfig(const state::MemberConfig& config);

// The fields whose rendered JSON differs, in field-name order.
std::vector<commands::FieldChange> DiffMemberConfig(const state::MemberConfig& old,
                                                    const state::MemberConfig& updated);

commands::MemberEdit MakeMemberEdit(MemberPatch patch);

// What the controller last learned from the member's node (ctl/telemetry.h keeps it);
// the defaults render as "never seen".
struct MemberLiveFields {
  int64_t last_seen_ms = 0;
  std::string physical_address;  // "" renders null
  int32_t v_major = -1;
  int32_t v_minor = -1;
  int32_t v_rev = -1;
  int32_t v_proto = -1;
};

// The whole member object.
nlohmann::json RenderMember(const state::Member& member, const MemberLiveFields& live = {});

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_MEMBER_JSON_H_
