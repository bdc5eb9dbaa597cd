#include "tools/cli/fields.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace almanac::cli {

const std::vector<std::string> kMemberHeader = {"ADDRESS", "AUTHORIZED", "NAME",
                                                "IPS",     "VERSION",    "LAST SEEN"};

absl::StatusOr<nlohmann::json> ParseFieldAssignments(const std::vector<std::string>& words) {
  nlohmann::json object = nlohmann::json::object();
  for (const std::string& word : words) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected field=value, got '", word, "'"));
    }
    const std::string field = word.substr(0, eq);
    const std::string text = word.substr(eq + 1);
    std::vector<std::string> path = absl::StrSplit(field, '.');
    if (std::any_of(path.begin(), path.end(), [](const std::string& p) { return p.empty(); })) {
      return absl::InvalidArgumentError(absl::StrCat("empty field name in '", word, "'"));
    }
    nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = text;
    nlohmann::json* target = &object;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      nlohmann::json& next = (*target)[path[i]];
      if (!next.is_object()) next = nlohmann::json::object();
      target = &next;
    }
    (*target)[path.back()] = std::move(value);
  }
  return object;
}

std::string CellText(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < widths.size()) line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(header);
  for (const auto& row : rows) emit(row);
  return out;
}

std::string RenderObject(const nlohmann::json& object, const std::vector<std::string>& first) {
  if (!object.is_object()) return object.dump() + "\n";
  std::vector<std::string> keys;
  for (const std::string& key : first) {
    if (object.contains(key)) keys.push_back(key);
  }
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
  }
  size_t width = 0;
  for (const std::string& key : keys) width = std::max(width, key.size());
  std::string out;
  for (const std::string& key : keys) {
    out += absl::StrCat(key, std::string(width - key.size() + 2, ' '), CellText(object[key]),
                        "\n");
  }
  return out;
}

std::string TimeCell(const nlohmann::json& time_ms) {
  if (!time_ms.is_number() || time_ms.get<double>() <= 0) return "-";
  const absl::Time t = absl::FromUnixMillis(time_ms.get<int64_t>());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

namespace {

std::string VersionCell(const nlohmann::json& m) {
  const char* keys[] = {"vMajor", "vMinor", "vRev"};
  std::vector<std::string> parts;
  for (const char* key : keys) {
    auto it = m.find(key);
    if (it == m.end() || !it->is_number_integer() || it->get<int64_t>() < 0) return "-";
    parts.push_back(std::to_string(it->get<int64_t>()));
  }
  return absl::StrJoin(parts, ".");
}

}  // namespace

std::vector<std::string> MemberRow(const nlohmann::json& m) {
  if (!m.is_object()) return {CellText(m)};
  auto field = [&m](const char* key) {
    auto it = m.find(key);
    return it == m.end() ? nlohmann::json() : *it;
  };
  const nlohmann::json address = m.contains("address") ? field("address") : field("id");
  const nlohmann::json authorized = field("authorized");
  const nlohmann::json name = field("name");
  std::vector<std::string> ips;
  if (const nlohmann::json list = field("ipAssignments"); list.is_array()) {
    for (const auto& ip : list) ips.push_back(CellText(ip));
  }
  return {CellText(address),
          authorized.is_boolean() && authorized.get<bool>() ? "yes" : "no",
          name.is_string() && !name.get<std::string>().empty() ? name.get<std::string>() : "-",
          ips.empty() ? "-" : absl::StrJoin(ips, ","),
          VersionCell(m),
          TimeCell(field("lastSeen"))};
}

}  // namespace almanac::cli
