#include "ctl/api/member_json.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ctl/api/json_fields.h"
#include "ctl/api/limits.h"
#include "ctl/net/ip.h"

namespace almanac::api {
namespace {

using nlohmann::json;

constexpr int64_t kUint32Max = 0xffffffffLL;

absl::StatusOr<std::vector<std::string>> ReadIpAssignments(const json& value) {
  if (absl::Status s = CheckArray(value, "ipAssignments", kArrayEntriesMax); !s.ok()) return s;
  std::vector<std::string> ips;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = absl::StrCat("ipAssignments[", i, "]");
    if (!value[i].is_string()) return FieldError(at, "expected an IP address string");
    absl::StatusOr<net::IpAddress> ip = net::IpAddress::Parse(value[i].get<std::string>());
    if (!ip.ok()) return FieldError(at, ip.status().message());
    std::string text = ip->ToString();
    if (std::find(ips.begin(), ips.end(), text) == ips.end()) ips.push_back(std::move(text));
  }
  return ips;
}

absl::StatusOr<std::vector<state::MemberTag>> ReadTags(const json& value) {
  if (absl::Status s = CheckArray(value, "tags", kArrayEntriesMax); !s.ok()) return s;
  std::vector<state::MemberTag> tags;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = absl::StrCat("tags[", i, "]");
    const json& t = value[i];
    if (!t.is_array() || t.size() != 2) return FieldError(at, "expected [id, value]");
    absl::StatusOr<int64_t> id = ReadInteger(t[0], at + "[0]", 0, kUint32Max);
    if (!id.ok()) return id.status();
    absl::StatusOr<int64_t> v = ReadInteger(t[1], at + "[1]", 0, kUint32Max);
    if (!v.ok()) return v.status();
    tags.emplace_back(static_cast<uint32_t>(*id), static_cast<uint32_t>(*v));
  }
  return tags;
}

absl::StatusOr<std::vector<uint32_t>> ReadCapabilities(const json& value) {
  if (absl::Status s = CheckArray(value, "capabilities", kArrayEntriesMax); !s.ok()) return s;
  std::vector<uint32_t> caps;
  for (size_t i = 0; i < value.size(); ++i) {
    absl::StatusOr<int64_t> id =
        ReadInteger(value[i], absl::StrCat("capabilities[", i, "]"), 0, kUint32Max);
    if (!id.ok()) return id.status();
    caps.push_back(static_cast<uint32_t>(*id));
  }
  return caps;
}

absl::Status MaybeBool(const json& obj, const char* key, std::optional<bool>* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  absl::StatusOr<bool> v = ReadBool(*it, key);
  if (!v.ok()) return v.status();
  *out = *v;
  return absl::OkStatus();
}

absl::Status ReadScalars(const json& body, MemberPatch& p) {
  if (auto s = MaybeBool(body, "authorized", &p.authorized); !s.ok()) return s;
  if (auto s = MaybeBool(body, "activeBridge", &p.active_bridge); !s.ok()) return s;
  if (auto s = MaybeBool(body, "noAutoAssignIps", &p.no_auto_assign_ips); !s.ok()) return s;
  if (auto s = MaybeBool(body, "ssoExempt", &p.sso_exempt); !s.ok()) return s;
  if (auto it = body.find("name"); it != body.end()) {
    absl::StatusOr<std::string> v = ReadString(*it, "name", kNameBytesMax, true);
    if (!v.ok()) return v.status();
    p.name = *std::move(v);
  }
  if (absl::Status s = ReadRemoteTrace(body, &p.remote_trace_target, &p.remote_trace_level);
      !s.ok()) {
    return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MemberPatch> ParseMemberPatch(const json& body) {
  if (!body.is_object()) return FieldError("body", "expected a JSON object");
  MemberPatch p;
  if (absl::Status s = ReadScalars(body, p); !s.ok()) return s;
  if (auto it = body.find("ipAssignments"); it != body.end()) {
    auto v = ReadIpAssignments(*it);
    if (!v.ok()) return v.status();
    p.ip_assignments = *std::move(v);
  }
  if (auto it = body.find("tags"); it != body.end()) {
    auto v = ReadTags(*it);
    if (!v.ok()) return v.status();
    p.tags = *std::move(v);
  }
  if (auto it = body.find("capabilities"); it != body.end()) {
    auto v = ReadCapabilities(*it);
    if (!v.ok()) return v.status();
    p.capabilities = *std::move(v);
  }
  return p;
}

state::MemberConfig ApplyMemberPatch(const state::MemberConfig& old, const MemberPatch& p) {
  state::MemberConfig c = old;
  if (p.authorized) c.authorized = *p.authorized;
  if (p.active_bridge) c.active_bridge = *p.active_bridge;
  if (p.no_auto_assign_ips) c.no_auto_assign_ips = *p.no_auto_assign_ips;
  if (p.sso_exempt) c.sso_exempt = *p.sso_exempt;
  if (p.ip_assignments) c.ip_assignments = *p.ip_assignments;
  if (p.tags) c.tags = *p.tags;
  if (p.capabilities) c.capabilities = *p.capabilities;
  if (p.name) c.name = *p.name;
  if (p.remote_trace_target) c.remote_trace_target = *p.remote_trace_target;
  if (p.remote_trace_level) c.remote_trace_level = *p.remote_trace_level;
  return c;
}

namespace {

// One field of a member's config: its API name, whether two configs hold the same value
// in it, and its JSON. Listed by name, the order nlohmann's objects keep, so a diff lists
// its changes in the order it always has. RenderMemberConfig and DiffMemberConfig both
// read this table: a field added to MemberConfig is added here once.
struct MemberConfigField {
  const char* name;
  bool (*same)(const state::MemberConfig& a, const state::MemberConfig& b);
  json (*render)(const state::MemberConfig& c);
};

using Config = state::MemberConfig;
const MemberConfigField kMemberConfigFields[] = {
    {"activeBridge",
     [](const Config& a, const Config& b) { return a.active_bridge == b.active_bridge; },
     [](const Config& c) { return json(c.active_bridge); }},
    {"authorized", [](const Config& a, const Config& b) { return a.authorized == b.authorized; },
     [](const Config& c) { return json(c.authorized); }},
    {"capabilities",
     [](const Config& a, const Config& b) { return a.capabilities == b.capabilities; },
     [](const Config& c) { return json(c.capabilities); }},
    {"ipAssignments",
     [](const Config& a, const Config& b) { return a.ip_assignments == b.ip_assignments; },
     [](const Config& c) { return json(c.ip_assignments); }},
    {"name", [](const Config& a, const Config& b) { return a.name == b.name; },
     [](const Config& c) { return json(c.name); }},
    {"noAutoAssignIps",
     [](const Config& a, const Config& b) { return a.no_auto_assign_ips == b.no_auto_assign_ips; },
     [](const Config& c) { return json(c.no_auto_assign_ips); }},
    {"remoteTraceLevel",
     [](const Config& a, const Config& b) { return a.remote_trace_level == b.remote_trace_level; },
     [](const Config& c) { return json(c.remote_trace_level); }},
    {"remoteTraceTarget",
     [](const Config& a, const Config& b) {
       return a.remote_trace_target == b.remote_trace_target;
     },
     [](const Config& c) {
       return c.remote_trace_target.empty() ? json() : json(c.remote_trace_target);
     }},
    {"ssoExempt", [](const Config& a, const Config& b) { return a.sso_exempt == b.sso_exempt; },
     [](const Config& c) { return json(c.sso_exempt); }},
    {"tags", [](const Config& a, const Config& b) { return a.tags == b.tags; },
     [](const Config& c) {
       json tags = json::array();
       for (const state::MemberTag& t : c.tags) tags.push_back({t.first, t.second});
       return tags;
     }},
};

}  // namespace

json RenderMemberConfig(const state::MemberConfig& c) {
  json j = json::object();
  for (const MemberConfigField& field : kMemberConfigFields) j[field.name] = field.render(c);
  return j;
}

// Renders only the fields whose values differ: this runs on the sequencer's thread for
// every member change, and rendering both whole configs cost several microseconds there.
// Values that differ are still compared as text (two names with different invalid UTF-8
// can render alike), so the result equals comparing the two whole renderings.
std::vector<commands::FieldChange> DiffMemberConfig(const state::MemberConfig& old,
                                                    const state::MemberConfig& updated) {
  std::vector<commands::FieldChange> changes;
  for (const MemberConfigField& field : kMemberConfigFields) {
    if (field.same(old, updated)) continue;
    std::string old_text = DumpJson(field.render(old));
    std::string new_text = DumpJson(field.render(updated));
    if (old_text != new_text) {
      changes.push_back({field.name, std::move(old_text), std::move(new_text)});
    }
  }
  return changes;
}

commands::MemberEdit MakeMemberEdit(MemberPatch patch) {
  return [patch = std::move(patch)](const state::MemberConfig& old)
             -> absl::StatusOr<commands::MemberEditResult> {
    commands::MemberEditResult result;
    result.config = ApplyMemberPatch(old, patch);
    result.changes = DiffMemberConfig(old, result.config);
    return result;
  };
}

json RenderMember(const state::Member& m, const MemberLiveFields& live) {
  json j = RenderMemberConfig(m.config);
  const std::string address = state::AddressHex(m.address);
  j["id"] = address;
  j["address"] = address;
  j["nwid"] = state::NetworkIdHex(m.nwid);
  j["objtype"] = "member";
  j["identity"] = m.has_identity ? json(state::IdentityText(m)) : json();
  j["creationTime"] = m.creation_time_ms;
  j["revision"] = m.revision;
  j["lastAuthorizedTime"] = m.last_authorized_time_ms;
  j["lastDeauthorizedTime"] = m.last_deauthorized_time_ms;
  const char* credential = state::CredentialTypeName(m.last_authorized_credential_type);
  j["lastAuthorizedCredentialType"] = *credential ? json(credential) : json();
  j["lastAuthorizedCredential"] = nullptr;
  j["authenticationExpiryTime"] = 0;
  j["vMajor"] = live.v_major;
  j["vMinor"] = live.v_minor;
  j["vRev"] = live.v_rev;
  j["vProto"] = live.v_proto;
  j["lastSeen"] = live.last_seen_ms;
  j["physicalAddress"] = live.physical_address.empty() ? json() : json(live.physical_address);
  return j;
}

}  // namespace almanac::api
