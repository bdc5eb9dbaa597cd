// JSON rules to wire bytes. The layouts are in rules.h; the type table is here.
#include "ctl/net/rules.h"

#include <initializer_list>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/net/ip.h"
#include "ctl/net/rule_table.h"

namespace almanac::net {
namespace internal {
namespace {

constexpr RuleTypeInfo kRuleTypes[] = {
    {"ACTION_DROP", RuleType::kActionDrop, 0},
    {"ACTION_ACCEPT", RuleType::kActionAccept, 0},
    {"ACTION_TEE", RuleType::kActionTee, 14},
    {"ACTION_WATCH", RuleType::kActionWatch, 14},
    {"ACTION_REDIRECT", RuleType::kActionRedirect, 14},
    {"ACTION_BREAK", RuleType::kActionBreak, 0},
    {"MATCH_SOURCE_ZEROTIER_ADDRESS", RuleType::kMatchSourceZeroTierAddress, 5},
    {"MATCH_DEST_ZEROTIER_ADDRESS", RuleType::kMatchDestZeroTierAddress, 5},
    {"MATCH_VLAN_ID", RuleType::kMatchVlanId, 2},
    {"MATCH_VLAN_PCP", RuleType::kMatchVlanPcp, 1},
    {"MATCH_VLAN_DEI", RuleType::kMatchVlanDei, 1},
    {"MATCH_MAC_SOURCE", RuleType::kMatchMacSource, 6},
    {"MATCH_MAC_DEST", RuleType::kMatchMacDest, 6},
    {"MATCH_IPV4_SOURCE", RuleType::kMatchIpv4Source, 5},
    {"MATCH_IPV4_DEST", RuleType::kMatchIpv4Dest, 5},
    {"MATCH_IPV6_SOURCE", RuleType::kMatchIpv6Source, 17},
    {"MATCH_IPV6_DEST", RuleType::kMatchIpv6Dest, 17},
    {"MATCH_IP_TOS", RuleType::kMatchIpTos, 3},
    {"MATCH_IP_PROTOCOL", RuleType::kMatchIpProtocol, 1},
    {"MATCH_ETHERTYPE", RuleType::kMatchEthertype, 2},
    {"MATCH_ICMP", RuleType::kMatchIcmp, 3},
    {"MATCH_IP_SOURCE_PORT_RANGE", RuleType::kMatchIpSourcePortRange, 4},
    {"MATCH_IP_DEST_PORT_RANGE", RuleType::kMatchIpDestPortRange, 4},
    {"MATCH_CHARACTERISTICS", RuleType::kMatchCharacteristics, 8},
    {"MATCH_FRAME_SIZE_RANGE", RuleType::kMatchFrameSizeRange, 4},
    {"MATCH_RANDOM", RuleType::kMatchRandom, 4},
    {"MATCH_TAGS_DIFFERENCE", RuleType::kMatchTagsDifference, 8},
    {"MATCH_TAGS_BITWISE_AND", RuleType::kMatchTagsBitwiseAnd, 8},
    {"MATCH_TAGS_BITWISE_OR", RuleType::kMatchTagsBitwiseOr, 8},
    {"MATCH_TAGS_BITWISE_XOR", RuleType::kMatchTagsBitwiseXor, 8},
    {"MATCH_TAGS_EQUAL", RuleType::kMatchTagsEqual, 8},
    {"MATCH_TAG_SENDER", RuleType::kMatchTagSender, 8},
    {"MATCH_TAG_RECEIVER", RuleType::kMatchTagReceiver, 8},
    {"INTEGER_RANGE", RuleType::kMatchIntegerRange, 19},
};

}  // namespace

const RuleTypeInfo* FindRuleType(std::string_view name) {
  for (const RuleTypeInfo& info : kRuleTypes) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

const RuleTypeInfo* FindRuleType(uint8_t type_code) {
  for (const RuleTypeInfo& info : kRuleTypes) {
    if (static_cast<uint8_t>(info.type) == type_code) return &info;
  }
  return nullptr;
}

}  // namespace internal

namespace {

using nlohmann::json;
using internal::RuleTypeInfo;

void PutBig(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(value >> (8 * i)));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 1..max_digits hex digits, nothing else.
std::optional<uint64_t> ParseHex(const std::string& s, size_t min_digits, size_t max_digits) {
  if (s.size() < min_digits || s.size() > max_digits) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    const int d = HexValue(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

// Reads the fields of one rule object, each read naming "<path>[i].<field>" on error.
class RuleReader {
 public:
  RuleReader(const json& rule, std::string prefix) : rule_(rule), prefix_(std::move(prefix)) {}

  absl::Status Error(std::string_view field, const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(prefix_, ".", std::string(field), ": ", what));
  }
  const json* Find(const char* key) const {
    auto it = rule_.find(key);
    return it == rule_.end() ? nullptr : &*it;
  }

  // An unsigned integer in 0..max; `fallback` when absent (required when it is nullopt).
  absl::StatusOr<uint64_t> Uint(const char* key, uint64_t max,
                                std::optional<uint64_t> fallback = std::nullopt) const {
    const std::string expected = absl::StrCat("expected integer 0..", max);
    const json* v = Find(key);
    if (v == nullptr) {
      if (fallback.has_value()) return *fallback;
      return Error(key, "missing, " + expected);
    }
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      if (u <= max) return u;
      return Error(key, absl::StrCat(expected, ", got ", u));
    }
    if (v->is_number_integer()) {
      const int64_t i = v->get<int64_t>();
      if (i >= 0 && static_cast<uint64_t>(i) <= max) return static_cast<uint64_t>(i);
      return Error(key, absl::StrCat(expected, ", got ", i));
    }
    return Error(key, absl::StrCat(expected, ", got ", v->type_name()));
  }

  absl::StatusOr<bool> Bool(const char* key) const {
    const json* v = Find(key);
    if (v == nullptr) return false;
    if (!v->is_boolean()) return Error(key, absl::StrCat("expected true or false, got ",
                                                         v->type_name()));
    return v->get<bool>();
  }

  absl::StatusOr<std::string> String(const char* key, const char* expected) const {
    const json* v = Find(key);
    if (v == nullptr) return Error(key, absl::StrCat("missing, expected ", expected));
    if (!v->is_string()) {
      return Error(key, absl::StrCat("expected ", expected, ", got ", v->type_name()));
    }
    return v->get<std::string>();
  }

  // A 64-bit value written as 1..16 hex digits (how ZeroTier renders it) or an integer.
  absl::StatusOr<uint64_t> Hex64(const char* key) const {
    const json* v = Find(key);
    if (v != nullptr && v->is_string()) {
      auto parsed = ParseHex(v->get<std::string>(), 1, 16);
      if (parsed.has_value()) return *parsed;
      return Error(key, "expected 1 to 16 hex digits or an integer");
    }
    return Uint(key, UINT64_MAX);
  }

  absl::Status OnlyFields(std::initializer_list<const char*> allowed) const {
    for (auto it = rule_.begin(); it != rule_.end(); ++it) {
      bool known = it.key() == "type" || it.key() == "not" || it.key() == "or";
      for (const char* a : allowed) known = known || it.key() == a;
      if (!known) return Error(it.key(), "unknown field for this rule type");
    }
    return absl::OkStatus();
  }

 private:
  const json& rule_;
  std::string prefix_;
};

#define ALMANAC_ASSIGN_OR_RETURN_NET(lhs, expr) \
  auto lhs##_or = (expr);                       \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  const auto lhs = *lhs##_or

absl::Status ForwardData(const RuleReader& r, RuleType t, std::string& out) {
  const bool redirect = t == RuleType::kActionRedirect;
  if (auto s = redirect ? r.OnlyFields({"address", "flags"})
                        : r.OnlyFields({"address", "flags", "length"});
      !s.ok()) {
    return s;
  }
  ALMANAC_ASSIGN_OR_RETURN_NET(text, r.String("address", "a 10-hex-digit ZeroTier address"));
  const std::optional<uint64_t> address = ParseHex(text, 10, 10);
  if (!address.has_value()) return r.Error("address", "expected 10 hex digits");
  ALMANAC_ASSIGN_OR_RETURN_NET(flags, r.Uint("flags", UINT32_MAX, 0));
  ALMANAC_ASSIGN_OR_RETURN_NET(length, r.Uint("length", UINT16_MAX, 0));
  PutBig(out, *address, 8);
  PutBig(out, flags, 4);
  PutBig(out, length, 2);
  return absl::OkStatus();
}

absl::Status IpData(const RuleReader& r, IpFamily family, std::string& out) {
  if (auto s = r.OnlyFields({"ip"}); !s.ok()) return s;
  const bool v4 = family == IpFamily::kV4;
  const char* expected = v4 ? "an IPv4 prefix like 10.0.0.0/8" : "an IPv6 prefix like fd00::/8";
  ALMANAC_ASSIGN_OR_RETURN_NET(text, r.String("ip", expected));
  auto prefix = IpPrefix::Parse(text);
  if (!prefix.ok()) return r.Error("ip", std::string(prefix.status().message()));
  if (prefix->family() != family) return r.Error("ip", absl::StrCat("expected ", expected));
  const size_t bytes = v4 ? 4 : 16;
  out.append(reinterpret_cast<const char*>(prefix->address().bytes().data()), bytes);
  out.push_back(static_cast<char>(prefix->bits()));
  return absl::OkStatus();
}

absl::Status MacData(const RuleReader& r, std::string& out) {
  if (auto s = r.OnlyFields({"mac"}); !s.ok()) return s;
  ALMANAC_ASSIGN_OR_RETURN_NET(text, r.String("mac", "a MAC like fa:9d:a4:55:8f:96"));
  // aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff (one separator throughout) or aabbccddeeff.
  std::string digits;
  if (text.size() == 17 && (text[2] == ':' || text[2] == '-')) {
    bool separators_ok = true;
    for (size_t i = 0; i < text.size(); ++i) {
      if (i % 3 != 2) {
        digits.push_back(text[i]);
      } else if (text[i] != text[2]) {
        separators_ok = false;
      }
    }
    if (!separators_ok) digits.clear();
  } else if (text.size() == 12) {
    digits = text;
  }
  const std::optional<uint64_t> mac = ParseHex(digits, 12, 12);
  if (!mac.has_value()) return r.Error("mac", "expected a MAC like fa:9d:a4:55:8f:96");
  PutBig(out, *mac, 6);
  return absl::OkStatus();
}

// start/end pairs of 16 bits (ports, frame sizes); end defaults to start.
absl::Status RangeData(const RuleReader& r, std::string& out) {
  if (auto s = r.OnlyFields({"start", "end"}); !s.ok()) return s;
  ALMANAC_ASSIGN_OR_RETURN_NET(start, r.Uint("start", UINT16_MAX));
  ALMANAC_ASSIGN_OR_RETURN_NET(end, r.Uint("end", UINT16_MAX, start));
  if (end < start) return r.Error("end", absl::StrCat("must be >= start (", start, ")"));
  PutBig(out, start, 2);
  PutBig(out, end, 2);
  return absl::OkStatus();
}

absl::Status IntegerRangeData(const RuleReader& r, std::string& out) {
  if (auto s = r.OnlyFields({"start", "end", "idx", "little", "bits"}); !s.ok()) return s;
  ALMANAC_ASSIGN_OR_RETURN_NET(start, r.Hex64("start"));
  ALMANAC_ASSIGN_OR_RETURN_NET(end, r.Hex64("end"));
  // The node keeps end as a 32-bit distance from start.
  if (end < start || end - start > UINT32_MAX) {
    return r.Error("end", "must be >= start and at most start + 0xffffffff");
  }
  ALMANAC_ASSIGN_OR_RETURN_NET(idx, r.Uint("idx", UINT16_MAX, 0));
  ALMANAC_ASSIGN_OR_RETURN_NET(little, r.Bool("little"));
  const absl::StatusOr<uint64_t> bits_or = r.Uint("bits", 64, 1);
  if (!bits_or.ok() || *bits_or == 0) return r.Error("bits", "expected integer 1..64");
  const uint64_t bits = *bits_or;
  PutBig(out, start, 8);
  PutBig(out, end, 8);
  PutBig(out, idx, 2);
  out.push_back(static_cast<char>((little ? 0x80 : 0x00) | (bits - 1)));
  return absl::OkStatus();
}

// One field holding one integer of `bytes` bytes.
absl::Status ScalarData(const RuleReader& r, const char* key, uint64_t max, int bytes,
                        std::string& out) {
  if (auto s = r.OnlyFields({key}); !s.ok()) return s;
  ALMANAC_ASSIGN_OR_RETURN_NET(v, r.Uint(key, max));
  PutBig(out, v, bytes);
  return absl::OkStatus();
}

absl::Status OtherMatchData(const RuleReader& r, RuleType t, std::string& out) {
  switch (t) {
    case RuleType::kMatchIpTos: {
      if (auto s = r.OnlyFields({"mask", "start", "end"}); !s.ok()) return s;
      ALMANAC_ASSIGN_OR_RETURN_NET(mask, r.Uint("mask", 255));
      ALMANAC_ASSIGN_OR_RETURN_NET(start, r.Uint("start", 255));
      ALMANAC_ASSIGN_OR_RETURN_NET(end, r.Uint("end", 255));
      if (end < start) return r.Error("end", absl::StrCat("must be >= start (", start, ")"));
      for (uint64_t v : {mask, start, end}) out.push_back(static_cast<char>(v));
      return absl::OkStatus();
    }
    case RuleType::kMatchIcmp: {
      if (auto s = r.OnlyFields({"icmpType", "icmpCode"}); !s.ok()) return s;
      ALMANAC_ASSIGN_OR_RETURN_NET(type, r.Uint("icmpType", 255));
      const json* code_json = r.Find("icmpCode");
      uint64_t code = 0, flags = 0;
      if (code_json != nullptr && !code_json->is_null()) {
        ALMANAC_ASSIGN_OR_RETURN_NET(c, r.Uint("icmpCode", 255));
        code = c;
        flags = 0x01;
      }
      for (uint64_t v : {type, code, flags}) out.push_back(static_cast<char>(v));
      return absl::OkStatus();
    }
    case RuleType::kMatchCharacteristics: {
      if (auto s = r.OnlyFields({"mask"}); !s.ok()) return s;
      ALMANAC_ASSIGN_OR_RETURN_NET(mask, r.Hex64("mask"));
      PutBig(out, mask, 8);
      return absl::OkStatus();
    }
    case RuleType::kMatchIntegerRange:
      return IntegerRangeData(r, out);
    default: {  // The tag matches: id and value, 32 bits each.
      if (auto s = r.OnlyFields({"id", "value"}); !s.ok()) return s;
      ALMANAC_ASSIGN_OR_RETURN_NET(id, r.Uint("id", UINT32_MAX));
      ALMANAC_ASSIGN_OR_RETURN_NET(value, r.Uint("value", UINT32_MAX));
      PutBig(out, id, 4);
      PutBig(out, value, 4);
      return absl::OkStatus();
    }
  }
}

absl::Status RuleData(const RuleReader& r, RuleType t, std::string& out) {
  switch (t) {
    case RuleType::kActionDrop:
    case RuleType::kActionAccept:
    case RuleType::kActionBreak:
      return r.OnlyFields({});
    case RuleType::kActionTee:
    case RuleType::kActionWatch:
    case RuleType::kActionRedirect:
      return ForwardData(r, t, out);
    case RuleType::kMatchSourceZeroTierAddress:
    case RuleType::kMatchDestZeroTierAddress: {
      if (auto s = r.OnlyFields({"zt"}); !s.ok()) return s;
      ALMANAC_ASSIGN_OR_RETURN_NET(text, r.String("zt", "a 10-hex-digit ZeroTier address"));
      const std::optional<uint64_t> zt = ParseHex(text, 10, 10);
      if (!zt.has_value()) return r.Error("zt", "expected 10 hex digits");
      PutBig(out, *zt, 5);
      return absl::OkStatus();
    }
    case RuleType::kMatchVlanId: return ScalarData(r, "vlanId", 4095, 2, out);
    case RuleType::kMatchVlanPcp: return ScalarData(r, "vlanPcp", 7, 1, out);
    case RuleType::kMatchVlanDei: return ScalarData(r, "vlanDei", 1, 1, out);
    case RuleType::kMatchMacSource:
    case RuleType::kMatchMacDest: return MacData(r, out);
    case RuleType::kMatchIpv4Source:
    case RuleType::kMatchIpv4Dest: return IpData(r, IpFamily::kV4, out);
    case RuleType::kMatchIpv6Source:
    case RuleType::kMatchIpv6Dest: return IpData(r, IpFamily::kV6, out);
    case RuleType::kMatchIpProtocol: return ScalarData(r, "ipProtocol", 255, 1, out);
    case RuleType::kMatchEthertype: return ScalarData(r, "etherType", 65535, 2, out);
    case RuleType::kMatchIpSourcePortRange:
    case RuleType::kMatchIpDestPortRange:
    case RuleType::kMatchFrameSizeRange: return RangeData(r, out);
    case RuleType::kMatchRandom: return ScalarData(r, "probability", UINT32_MAX, 4, out);
    default: return OtherMatchData(r, t, out);
  }
}

absl::Status UnknownType(const std::string& prefix, const std::string& name) {
  std::string hint;
  if (name == "ACTION_PRIORITY") {
    hint = " (ZeroTier's controller does not accept it: 1.14.1 sends it without its argument)";
  } else if (name == "MATCH_TAGS_SENDER" || name == "MATCH_TAGS_RECEIVER") {
    hint = absl::StrCat(" (did you mean MATCH_TAG_", name.substr(11), "?)");
  } else if (name == "MATCH_INTEGER_RANGE") {
    hint = " (did you mean INTEGER_RANGE?)";
  }
  return absl::InvalidArgumentError(
      absl::StrCat(prefix, ".type: unknown rule type \"", name, "\"", hint));
}

absl::Status CompileRule(const json& rule, const std::string& prefix, std::string& out) {
  if (!rule.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ": expected a rule object, got ", rule.type_name()));
  }
  const RuleReader r(rule, prefix);
  ALMANAC_ASSIGN_OR_RETURN_NET(name, r.String("type", "a rule type like \"ACTION_ACCEPT\""));
  const RuleTypeInfo* info = internal::FindRuleType(name);
  if (info == nullptr) return UnknownType(prefix, name);
  ALMANAC_ASSIGN_OR_RETURN_NET(is_not, r.Bool("not"));
  ALMANAC_ASSIGN_OR_RETURN_NET(is_or, r.Bool("or"));
  if (internal::IsAction(info->type) && (is_not || is_or)) {
    return r.Error(is_not ? "not" : "or", "must be false on an action");
  }
  const size_t begin = out.size();
  out.push_back(static_cast<char>(static_cast<uint8_t>(info->type) |
                                  (is_not ? kRuleNotBit : 0) | (is_or ? kRuleOrBit : 0)));
  out.push_back(static_cast<char>(info->data_bytes));
  if (auto s = RuleData(r, info->type, out); !s.ok()) return s;
  ALMANAC_CHECK(out.size() - begin == 2u + info->data_bytes);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CompileRules(const json& rules, size_t rules_max,
                                         std::string_view path) {
  const std::string where(path);
  if (!rules.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected an array of rules, got ", rules.type_name()));
  }
  if (rules.size() > rules_max) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", rules.size(),
                                                   " rules, at most ", rules_max,
                                                   " are allowed"));
  }
  std::string out;
  out.reserve(rules.size() * 4);
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string prefix = absl::StrCat(where, "[", i, "]");
    if (auto s = CompileRule(rules[i], prefix, out); !s.ok()) return s;
  }
  return out;
}

absl::Status ValidateRules(const json& rules, size_t rules_max, std::string_view path) {
  return CompileRules(rules, rules_max, path).status();
}

absl::StatusOr<json> CanonicalRulesJson(const json& rules) {
  auto wire = CompileRules(rules);
  if (!wire.ok()) return wire.status();
  return DecodeRules(*wire);
}

}  // namespace almanac::net
