#include "ctl/net/capabilities.h"

#include <algorithm>
#include <initializer_list>
#include <set>

#include "absl/strings/str_cat.h"
#include "ctl/net/limits.h"
#include "ctl/net/rules.h"

namespace almanac::net {
namespace {

using nlohmann::json;

absl::Status Bad(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// A uint32 field: InvalidArgument naming it unless present and in range.
absl::StatusOr<uint32_t> Uint32(const json& object, const char* key, const std::string& where) {
  const std::string field = absl::StrCat(where, ".", key);
  auto it = object.find(key);
  if (it == object.end()) return Bad(field, "missing, expected integer 0..4294967295");
  if (it->is_number_unsigned() && it->get<uint64_t>() <= UINT32_MAX) {
    return static_cast<uint32_t>(it->get<uint64_t>());
  }
  if (it->is_number_integer() && it->get<int64_t>() >= 0 && it->get<int64_t>() <= UINT32_MAX) {
    return static_cast<uint32_t>(it->get<int64_t>());
  }
  return Bad(field, "expected integer 0..4294967295");
}

absl::Status OnlyFields(const json& object, const std::string& where,
                        std::initializer_list<const char*> allowed) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool known = false;
    for (const char* a : allowed) known = known || it.key() == a;
    if (!known) return Bad(absl::StrCat(where, ".", it.key()), "unknown field");
  }
  return absl::OkStatus();
}

absl::Status CheckArray(const json& array, const char* name, size_t max) {
  if (!array.is_array()) {
    return Bad(name, absl::StrCat("expected an array, got ", array.type_name()));
  }
  if (array.size() > max) {
    return Bad(name, absl::StrCat(array.size(), " entries, at most ", max, " are allowed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<CapabilityDef> ParseCapability(const json& cap, const std::string& where) {
  if (!cap.is_object()) {
    return Bad(where, absl::StrCat("expected an object, got ", cap.type_name()));
  }
  if (auto s = OnlyFields(cap, where, {"id", "default", "rules"}); !s.ok()) return s;
  CapabilityDef def;
  auto id = Uint32(cap, "id", where);
  if (!id.ok()) return id.status();
  def.id = *id;
  if (auto it = cap.find("default"); it != cap.end()) {
    if (!it->is_boolean()) return Bad(where + ".default", "expected true or false");
    def.default_grant = it->get<bool>();
  }
  if (auto it = cap.find("rules"); it != cap.end()) {
    auto wire = CompileRules(*it, kCapabilityRulesMax, where + ".rules");
    if (!wire.ok()) return wire.status();
    def.rules_wire = std::move(*wire);
    def.rule_count = it->size();
  }
  return def;
}

}  // namespace

absl::StatusOr<std::vector<CapabilityDef>> ParseCapabilities(const json& caps) {
  if (auto s = CheckArray(caps, "capabilities", kNetworkCapabilitiesMax); !s.ok()) return s;
  std::vector<CapabilityDef> out;
  std::set<uint32_t> ids;
  for (size_t i = 0; i < caps.size(); ++i) {
    const std::string where = absl::StrCat("capabilities[", i, "]");
    auto def = ParseCapability(caps[i], where);
    if (!def.ok()) return def.status();
    if (!ids.insert(def->id).second) {
      return Bad(where + ".id", absl::StrCat("duplicate id ", def->id));
    }
    out.push_back(std::move(*def));
  }
  std::sort(out.begin(), out.end(),
            [](const CapabilityDef& a, const CapabilityDef& b) { return a.id < b.id; });
  return out;
}

absl::StatusOr<std::vector<TagDef>> ParseTags(const json& tags) {
  if (auto s = CheckArray(tags, "tags", kNetworkTagsMax); !s.ok()) return s;
  std::vector<TagDef> out;
  std::set<uint32_t> ids;
  for (size_t i = 0; i < tags.size(); ++i) {
    const std::string where = absl::StrCat("tags[", i, "]");
    const json& tag = tags[i];
    if (!tag.is_object()) {
      return Bad(where, absl::StrCat("expected an object, got ", tag.type_name()));
    }
    if (auto s = OnlyFields(tag, where, {"id", "default"}); !s.ok()) return s;
    TagDef def;
    auto id = Uint32(tag, "id", where);
    if (!id.ok()) return id.status();
    def.id = *id;
    if (auto it = tag.find("default"); it != tag.end() && !it->is_null()) {
      auto value = Uint32(tag, "default", where);
      if (!value.ok()) return value.status();
      def.default_value = *value;
    }
    if (!ids.insert(def.id).second) {
      return Bad(where + ".id", absl::StrCat("duplicate id ", def.id));
    }
    out.push_back(def);
  }
  std::sort(out.begin(), out.end(), [](const TagDef& a, const TagDef& b) { return a.id < b.id; });
  return out;
}

}  // namespace almanac::net
