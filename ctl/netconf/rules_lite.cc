#include "ctl/netconf/rules_lite.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "ctl/zt/wire.h"
#include "nlohmann/json.hpp"

namespace almanac::netconf {
namespace {

// ZeroTier rule type numbers (the low 6 bits of the type byte).
constexpr uint8_t kActionDrop = 0;
constexpr uint8_t kActionAccept = 1;
constexpr uint8_t kActionBreak = 5;
constexpr uint8_t kMatchSourceZtAddress = 24;
constexpr uint8_t kMatchDestZtAddress = 25;
constexpr uint8_t kMatchIpProtocol = 36;
constexpr uint8_t kMatchEthertype = 37;
constexpr uint8_t kRuleNot = 0x80;
constexpr uint8_t kRuleOr = 0x40;

absl::StatusOr<uint64_t> UintField(const nlohmann::json& rule, const char* field,
                                   uint64_t max) {
  auto it = rule.find(field);
  if (it == rule.end() || !it->is_number_unsigned()) {
    return absl::InvalidArgumentError(absl::StrCat("rule needs unsigned '", field, "'"));
  }
  uint64_t v = it->get<uint64_t>();
  if (v > max) return absl::InvalidArgumentError(absl::StrCat("'", field, "' out of range"));
  return v;
}

absl::StatusOr<uint64_t> HexAddressField(const nlohmann::json& rule) {
  auto it = rule.find("zt");
  if (it == rule.end() || !it->is_string()) {
    return absl::InvalidArgumentError("rule needs 'zt' address");
  }
  const std::string& text = it->get_ref<const std::string&>();
  if (text.size() != 10) return absl::InvalidArgumentError("'zt' is not 10 hex digits");
  uint64_t v = 0;
  for (char c : text) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return absl::InvalidArgumentError("'zt' is not 10 hex digits");
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

absl::Status AppendRule(const nlohmann::json& rule, std::string& out) {
  if (!rule.is_object()) return absl::InvalidArgumentError("a rule is not an object");
  auto type_it = rule.find("type");
  if (type_it == rule.end() || !type_it->is_string()) {
    return absl::InvalidArgumentError("rule without a 'type'");
  }
  const std::string& type = type_it->get_ref<const std::string&>();
  uint8_t flags = 0;
  if (auto n = rule.find("not"); n != rule.end() && n->is_boolean() && n->get<bool>()) {
    flags |= kRuleNot;
  }
  if (auto o = rule.find("or"); o != rule.end() && o->is_boolean() && o->get<bool>()) {
    flags |= kRuleOr;
  }
  std::string data;
  uint8_t code;
  if (type == "ACTION_DROP") {
    code = kActionDrop;
  } else if (type == "ACTION_ACCEPT") {
    code = kActionAccept;
  } else if (type == "ACTION_BREAK") {
    code = kActionBreak;
  } else if (type == "MATCH_ETHERTYPE") {
    auto v = UintField(rule, "etherType", 0xffff);
    if (!v.ok()) return v.status();
    code = kMatchEthertype;
    zt::AppendUint(data, 2, *v);
  } else if (type == "MATCH_IP_PROTOCOL") {
    auto v = UintField(rule, "ipProtocol", 0xff);
    if (!v.ok()) return v.status();
    code = kMatchIpProtocol;
    zt::AppendUint(data, 1, *v);
  } else if (type == "MATCH_SOURCE_ZEROTIER_ADDRESS" || type == "MATCH_DEST_ZEROTIER_ADDRESS") {
    auto v = HexAddressField(rule);
    if (!v.ok()) return v.status();
    code = type == "MATCH_SOURCE_ZEROTIER_ADDRESS" ? kMatchSourceZtAddress : kMatchDestZtAddress;
    zt::AppendUint(data, 5, *v);
  } else {
    return absl::UnimplementedError(absl::StrCat("rule type not supported yet: ", type));
  }
  // Actions carry no NOT/OR meaning; ZeroTier still writes the bits as given.
  out.push_back(static_cast<char>(code | flags));
  out.push_back(static_cast<char>(data.size()));
  out += data;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CompiledRules> CompileRulesLite(std::string_view rules_json) {
  if (rules_json.empty()) return AcceptAllRules();
  nlohmann::json parsed = nlohmann::json::parse(rules_json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return absl::InvalidArgumentError("rules are not a JSON array");
  }
  CompiledRules compiled;
  for (const nlohmann::json& rule : parsed) {
    if (absl::Status s = AppendRule(rule, compiled.bytes); !s.ok()) return s;
    ++compiled.count;
  }
  return compiled;
}

CompiledRules AcceptAllRules() { return CompiledRules{std::string("\x01\x00", 2), 1}; }
CompiledRules DropAllRules() { return CompiledRules{std::string("\x00\x00", 2), 1}; }

}  // namespace almanac::netconf
