// Wire rules back to the JSON ZeroTier's controller renders (its _renderRule): used to
// canonicalize API input and to check the compiler byte for byte in tests.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "ctl/net/ip.h"
#include "ctl/net/rule_table.h"
#include "ctl/net/rules.h"

namespace almanac::net {
namespace {

using nlohmann::json;

uint64_t GetBig(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

std::string Hex(uint64_t v, int digits) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%0*llx", digits, static_cast<unsigned long long>(v));
  return buffer;
}

std::string Prefix(const uint8_t* p, bool v4) {
  std::array<uint8_t, 16> b{};
  const int n = v4 ? 4 : 16;
  for (int i = 0; i < n; ++i) b[i] = p[i];
  const IpAddress a = v4 ? IpAddress::V4(static_cast<uint32_t>(GetBig(p, 4))) : IpAddress::V6(b);
  return absl::StrCat(a.ToString(), "/", static_cast<int>(p[n]));
}

std::string Mac(const uint8_t* p) {
  std::string out;
  for (int i = 0; i < 6; ++i) absl::StrAppend(&out, i ? ":" : "", Hex(p[i], 2));
  return out;
}

// Fills `r` with the fields of one rule. The data length was checked against the table.
void RenderData(RuleType t, const uint8_t* p, json& r) {
  switch (t) {
    case RuleType::kActionTee:
    case RuleType::kActionWatch:
    case RuleType::kActionRedirect:
      r["address"] = Hex(GetBig(p, 8) & 0xffffffffffULL, 10);
      r["flags"] = GetBig(p + 8, 4);
      if (t != RuleType::kActionRedirect) r["length"] = GetBig(p + 12, 2);
      return;
    case RuleType::kMatchSourceZeroTierAddress:
    case RuleType::kMatchDestZeroTierAddress: r["zt"] = Hex(GetBig(p, 5), 10); return;
    case RuleType::kMatchVlanId: r["vlanId"] = GetBig(p, 2); return;
    case RuleType::kMatchVlanPcp: r["vlanPcp"] = GetBig(p, 1); return;
    case RuleType::kMatchVlanDei: r["vlanDei"] = GetBig(p, 1); return;
    case RuleType::kMatchMacSource:
    case RuleType::kMatchMacDest: r["mac"] = Mac(p); return;
    case RuleType::kMatchIpv4Source:
    case RuleType::kMatchIpv4Dest: r["ip"] = Prefix(p, true); return;
    case RuleType::kMatchIpv6Source:
    case RuleType::kMatchIpv6Dest: r["ip"] = Prefix(p, false); return;
    case RuleType::kMatchIpTos:
      r["mask"] = GetBig(p, 1);
      r["start"] = GetBig(p + 1, 1);
      r["end"] = GetBig(p + 2, 1);
      return;
    case RuleType::kMatchIpProtocol: r["ipProtocol"] = GetBig(p, 1); return;
    case RuleType::kMatchEthertype: r["etherType"] = GetBig(p, 2); return;
    case RuleType::kMatchIcmp:
      r["icmpType"] = GetBig(p, 1);
      r["icmpCode"] = (p[2] & 0x01) ? json(GetBig(p + 1, 1)) : json(nullptr);
      return;
    case RuleType::kMatchIpSourcePortRange:
    case RuleType::kMatchIpDestPortRange:
    case RuleType::kMatchFrameSizeRange:
      r["start"] = GetBig(p, 2);
      r["end"] = GetBig(p + 2, 2);
      return;
    case RuleType::kMatchCharacteristics: r["mask"] = Hex(GetBig(p, 8), 16); return;
    case RuleType::kMatchRandom: r["probability"] = GetBig(p, 4); return;
    case RuleType::kMatchIntegerRange:
      r["start"] = Hex(GetBig(p, 8), 16);
      r["end"] = Hex(GetBig(p + 8, 8), 16);
      r["idx"] = GetBig(p + 16, 2);
      r["little"] = (p[18] & 0x80) != 0;
      r["bits"] = (p[18] & 63) + 1;
      return;
    case RuleType::kMatchTagsDifference:
    case RuleType::kMatchTagsBitwiseAnd:
    case RuleType::kMatchTagsBitwiseOr:
    case RuleType::kMatchTagsBitwiseXor:
    case RuleType::kMatchTagsEqual:
    case RuleType::kMatchTagSender:
    case RuleType::kMatchTagReceiver:
      r["id"] = GetBig(p, 4);
      r["value"] = GetBig(p + 4, 4);
      return;
    default:  // Data-less actions.
      return;
  }
}

}  // namespace

absl::StatusOr<json> DecodeRules(std::string_view wire, size_t rules_max) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(wire.data());
  json out = json::array();
  size_t pos = 0;
  while (pos < wire.size()) {
    const size_t index = out.size();
    if (index >= rules_max) {
      return absl::InvalidArgumentError(absl::StrCat("more than ", rules_max, " rules"));
    }
    if (wire.size() - pos < 2) {
      return absl::InvalidArgumentError(absl::StrCat("rule ", index, " at byte ", pos,
                                                     ": truncated header"));
    }
    const uint8_t type_byte = bytes[pos];
    const uint8_t length = bytes[pos + 1];
    const internal::RuleTypeInfo* info = internal::FindRuleType(type_byte & kRuleTypeMask);
    if (info == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("rule ", index, " at byte ", pos,
                                                     ": unknown type ", type_byte & 0x3f));
    }
    if (length != info->data_bytes || wire.size() - pos - 2 < length) {
      return absl::InvalidArgumentError(absl::StrCat("rule ", index, " (", std::string(info->name),
                                                     ") at byte ", pos, ": bad length ",
                                                     length));
    }
    json r = json::object();
    r["type"] = std::string(info->name);
    RenderData(info->type, bytes + pos + 2, r);
    // ZeroTier renders not/or on matches only (they mean nothing to an action).
    if (!internal::IsAction(info->type)) {
      r["not"] = (type_byte & kRuleNotBit) != 0;
      r["or"] = (type_byte & kRuleOrBit) != 0;
    } else if ((type_byte & (kRuleNotBit | kRuleOrBit)) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("rule ", index, " (", std::string(info->name),
                                                     "): not/or bits on an action"));
    }
    out.push_back(std::move(r));
    pos += 2u + length;
  }
  return out;
}

}  // namespace almanac::net
