#include "ctl/state/state.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace almanac::state {

bool NetworkConfig::operator==(const NetworkConfig& o) const {
  return name == o.name && private_network == o.private_network &&
         enable_broadcast == o.enable_broadcast && multicast_limit == o.multicast_limit &&
         mtu == o.mtu && v4_assign_zt == o.v4_assign_zt &&
         v6_assign_rfc4193 == o.v6_assign_rfc4193 && v6_assign_zt == o.v6_assign_zt &&
         v6_assign_6plane == o.v6_assign_6plane && routes == o.routes &&
         ip_assignment_pools == o.ip_assignment_pools && rules_json == o.rules_json &&
         capabilities_json == o.capabilities_json && tags_json == o.tags_json &&
         dns == o.dns && remote_trace_target == o.remote_trace_target &&
         remote_trace_level == o.remote_trace_level && rules_source == o.rules_source &&
         sso_enabled == o.sso_enabled;
}

bool MemberConfig::operator==(const MemberConfig& o) const {
  return authorized == o.authorized && active_bridge == o.active_bridge &&
         no_auto_assign_ips == o.no_auto_assign_ips && sso_exempt == o.sso_exempt &&
         remote_trace_level == o.remote_trace_level && ip_assignments == o.ip_assignments &&
         tags == o.tags && capabilities == o.capabilities && name == o.name &&
         remote_trace_target == o.remote_trace_target;
}

bool Member::operator==(const Member& o) const {
  return nwid == o.nwid && address == o.address && config == o.config &&
         creation_time_ms == o.creation_time_ms && revision == o.revision &&
         changed_seq == o.changed_seq && last_authorized_time_ms == o.last_authorized_time_ms &&
         last_deauthorized_time_ms == o.last_deauthorized_time_ms &&
         has_identity == o.has_identity && identity_public == o.identity_public &&
         last_authorized_credential_type == o.last_authorized_credential_type;
}

bool Network::operator==(const Network& o) const {
  if (nwid != o.nwid || config != o.config || creation_time_ms != o.creation_time_ms ||
      revision != o.revision || changed_seq != o.changed_seq ||
      members.size() != o.members.size()) {
    return false;
  }
  for (const auto& [address, member] : members) {
    auto it = o.members.find(address);
    if (it == o.members.end() || it->second != member) return false;
  }
  return true;
}

const char* CredentialTypeName(CredentialType type) {
  switch (type) {
    case CredentialType::kNone:
      return "";
    case CredentialType::kApi:
      return "api";
    case CredentialType::kPublic:
      return "public";
    case CredentialType::kImport:
      return "import";
    case CredentialType::kSso:
      return "sso";
  }
  return "";
}

std::optional<CredentialType> ParseCredentialType(const std::string& text) {
  for (CredentialType type : {CredentialType::kNone, CredentialType::kApi,
                              CredentialType::kPublic, CredentialType::kImport,
                              CredentialType::kSso}) {
    if (text == CredentialTypeName(type)) return type;
  }
  return std::nullopt;
}

std::string AddressHex(uint64_t address) { return absl::StrFormat("%010x", address); }

std::string NetworkIdHex(uint64_t nwid) { return absl::StrFormat("%016x", nwid); }

std::string IdentityText(const Member& member) {
  if (!member.has_identity) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = AddressHex(member.address);
  text += ":0:";
  text.reserve(text.size() + 2 * kIdentityPublicBytes);
  for (uint8_t byte : member.identity_public) {
    text.push_back(kHex[byte >> 4]);
    text.push_back(kHex[byte & 0xf]);
  }
  return text;
}

namespace {
// Value of each hex digit, -1 for other bytes: identity parsing runs once per member at
// start (a million times), so a table beats branches.
struct HexTable {
  int8_t value[256];
  constexpr HexTable() : value() {
    for (int i = 0; i < 256; ++i) value[i] = -1;
    for (int i = 0; i < 10; ++i) value['0' + i] = static_cast<int8_t>(i);
    for (int i = 0; i < 6; ++i) {
      value['a' + i] = static_cast<int8_t>(10 + i);
      value['A' + i] = static_cast<int8_t>(10 + i);
    }
  }
};
constexpr HexTable kHexTable;

int HexDigit(char c) { return kHexTable.value[static_cast<uint8_t>(c)]; }
}  // namespace

bool ParseIdentityText(const std::string& text, uint64_t* address,
                       std::array<uint8_t, kIdentityPublicBytes>* key) {
  // Exactly "<10 hex>:0:<128 hex>".
  constexpr size_t kAddressDigits = 10;
  constexpr size_t kTextBytes = kAddressDigits + 3 + 2 * kIdentityPublicBytes;
  if (text.size() != kTextBytes || text[kAddressDigits] != ':' ||
      text[kAddressDigits + 1] != '0' || text[kAddressDigits + 2] != ':') {
    return false;
  }
  uint64_t parsed_address = 0;
  for (size_t i = 0; i < kAddressDigits; ++i) {
    int digit = HexDigit(text[i]);
    if (digit < 0) return false;
    parsed_address = (parsed_address << 4) | static_cast<uint64_t>(digit);
  }
  std::array<uint8_t, kIdentityPublicBytes> parsed_key;
  const char* hex = text.data() + kAddressDigits + 3;
  for (size_t i = 0; i < kIdentityPublicBytes; ++i) {
    int high = HexDigit(hex[2 * i]);
    int low = HexDigit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    parsed_key[i] = static_cast<uint8_t>((high << 4) | low);
  }
  *address = parsed_address;
  *key = parsed_key;
  return true;
}

const Network* State::FindNetwork(uint64_t nwid) const {
  auto it = networks_.find(nwid);
  return it == networks_.end() ? nullptr : &it->second;
}

const Member* State::FindMember(uint64_t nwid, uint64_t address) const {
  const Network* network = FindNetwork(nwid);
  if (network == nullptr) return nullptr;
  auto it = network->members.find(address);
  return it == network->members.end() ? nullptr : &it->second;
}

std::vector<uint64_t> State::NetworkIdsSorted() const {
  std::vector<uint64_t> ids;
  ids.reserve(networks_.size());
  for (const auto& [nwid, network] : networks_) ids.push_back(nwid);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<const Member*> State::MembersSorted(uint64_t nwid) const {
  std::vector<const Member*> sorted;
  const Network* network = FindNetwork(nwid);
  if (network == nullptr) return sorted;
  sorted.reserve(network->members.size());
  for (const auto& [address, member] : network->members) sorted.push_back(&member);
  std::sort(sorted.begin(), sorted.end(),
            [](const Member* a, const Member* b) { return a->address < b->address; });
  return sorted;
}

bool State::operator==(const State& o) const {
  if (last_seq_ != o.last_seq_ || chain_hash_ != o.chain_hash_ || epoch_ != o.epoch_ ||
      controller_identity_ != o.controller_identity_ || member_count_ != o.member_count_ ||
      networks_.size() != o.networks_.size()) {
    return false;
  }
  for (const auto& [nwid, network] : networks_) {
    auto it = o.networks_.find(nwid);
    if (it == o.networks_.end() || it->second != network) return false;
  }
  return true;
}

}  // namespace almanac::state
