#include "ctl/api/member_text.h"

#include <algorithm>
#include <vector>

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

bool RenderMemberList(const ReadState& read, uint64_t nwid, bool full,
                      const LiveFieldsOf& live, size_t chunk, std::string* out) {
  bool found = false;
  std::vector<uint64_t> addresses;
  read([&](const state::State& s) {
    const state::Network* network = s.FindNetwork(nwid);
    if (network == nullptr) return;
    found = true;
    addresses.reserve(network->members.size());
    for (const auto& [address, member] : network->members) addresses.push_back(address);
  });
  if (!found) return false;
  std::sort(addresses.begin(), addresses.end());
  // Fault the reply's pages in now, outside the lock: on this project's virtual machine a
  // page fault costs ~14 us, ~200 ms for the 60 MB of 100,000 full members (shrinking
  // keeps the capacity). A member bigger than the estimate only grows the string.
  const size_t base = out->size();
  out->resize(base + (full ? addresses.size() * 640 : addresses.size() * 16) + 64);
  out->resize(base);

  out->append(full ? "{\"data\":[" : "{");
  size_t listed = 0;
  size_t authorized = 0;
  for (size_t begin = 0; begin < addresses.size(); begin += chunk) {
    const size_t end = std::min(addresses.size(), begin + chunk);
    read([&](const state::State& s) {
      for (size_t i = begin; i < end; ++i) {
        const state::Member* m = s.FindMember(nwid, addresses[i]);
        if (m == nullptr) continue;  // deleted since the first step
        if (listed++ > 0) out->push_back(',');
        if (full) {
          AppendMemberJson(*m, live(m->address), out);
          authorized += m->config.authorized ? 1 : 0;
        } else {
          absl::StrAppend(out, "\"", state::AddressHex(m->address), "\":", m->revision);
        }
      }
    });
  }
  if (full) {
    absl::StrAppend(out, "],\"meta\":{\"authorizedCount\":", authorized,
                    ",\"totalCount\":", listed, "}}");
  } else {
    out->push_back('}');
  }
  return true;
}

}  // namespace almanac::api
