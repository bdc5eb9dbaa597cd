#include "ctl/api/member_text.h"

#include "absl/strings/str_cat.h"
#include "ctl/api/json_fields.h"
#include "nlohmann/json.hpp"

namespace almanac::api {
namespace {

void AppendBool(bool value, std::string* out) { out->append(value ? "true" : "false"); }

void AppendStringOrNull(const std::string& text, std::string* out) {
  if (text.empty()) {
    out->append("null");
  } else {
    AppendJsonString(text, out);
  }
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  bool plain = true;
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {  // the common case: printable ASCII needs no escaping
    out->push_back('"');
    out->append(text.data(), text.size());
    out->push_back('"');
    return;
  }
  out->append(DumpJson(nlohmann::json(std::string(text))));
}

// Keys in nlohmann's (sorted) order, so the bytes equal DumpJson(RenderMember(...)).
void AppendMemberJson(const state::Member& m, const MemberLiveFields& live, std::string* out) {
  const state::MemberConfig& c = m.config;
  const std::string address = state::AddressHex(m.address);
  absl::StrAppend(out, "{\"activeBridge\":", c.active_bridge ? "true" : "false",
                  ",\"address\":\"", address, "\",\"authenticationExpiryTime\":0,\"authorized\":",
                  c.authorized ? "true" : "false", ",\"capabilities\":[");
  for (size_t i = 0; i < c.capabilities.size(); ++i) {
    absl::StrAppend(out, i ? "," : "", c.capabilities[i]);
  }
  absl::StrAppend(out, "],\"creationTime\":", m.creation_time_ms, ",\"id\":\"", address,
                  "\",\"identity\":");
  if (m.has_identity) {
    AppendJsonString(state::IdentityText(m), out);
  } else {
    out->append("null");
  }
  out->append(",\"ipAssignments\":[");
  for (size_t i = 0; i < c.ip_assignments.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(c.ip_assignments[i], out);
  }
  out->append("],\"lastAuthorizedCredential\":null,\"lastAuthorizedCredentialType\":");
  const char* credential = state::CredentialTypeName(m.last_authorized_credential_type);
  AppendStringOrNull(credential, out);
  absl::StrAppend(out, ",\"lastAuthorizedTime\":", m.last_authorized_time_ms,
                  ",\"lastDeauthorizedTime\":", m.last_deauthorized_time_ms,
                  ",\"lastSeen\":", live.last_seen_ms, ",\"name\":");
  AppendJsonString(c.name, out);
  out->append(",\"noAutoAssignIps\":");
  AppendBool(c.no_auto_assign_ips, out);
  absl::StrAppend(out, ",\"nwid\":\"", state::NetworkIdHex(m.nwid),
                  "\",\"objtype\":\"member\",\"physicalAddress\":");
  AppendStringOrNull(live.physical_address, out);
  absl::StrAppend(out, ",\"remoteTraceLevel\":", c.remote_trace_level, ",\"remoteTraceTarget\":");
  AppendStringOrNull(c.remote_trace_target, out);
  absl::StrAppend(out, ",\"revision\":", m.revision, ",\"ssoExempt\":");
  AppendBool(c.sso_exempt, out);
  out->append(",\"tags\":[");
  for (size_t i = 0; i < c.tags.size(); ++i) {
    absl::StrAppend(out, i ? "," : "", "[", c.tags[i].first, ",", c.tags[i].second, "]");
  }
  absl::StrAppend(out, "],\"vMajor\":", live.v_major, ",\"vMinor\":", live.v_minor,
                  ",\"vProto\":", live.v_proto, ",\"vRev\":", live.v_rev, "}");
}

}  // namespace almanac::api
