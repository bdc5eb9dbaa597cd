// `field=value` words of `almanac network create|set` and `almanac member set`, and the
// human renderings of networks and members.
//
// A value is parsed as JSON when it parses (numbers, true/false, null, arrays, objects,
// "quoted strings"), else taken as a plain string, so `name=office`, `private=false`,
// `mtu=1400` and `routes=[{"target":"10.0.0.0/24"}]` all do what they look like. A dotted
// field (`v4AssignMode.zt=true`) sets a key inside an object.
//
// Thread safety: pure functions, any thread.
#ifndef ALMANAC_TOOLS_CLI_FIELDS_H_
#define ALMANAC_TOOLS_CLI_FIELDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace almanac::cli {

// Builds one JSON object from the words. InvalidArgument ("expected field=value, got
// 'x'", "empty field name in '=x'") on a word without '=' or with an empty field name.
absl::StatusOr<nlohmann::json> ParseFieldAssignments(const std::vector<std::string>& words);

// A JSON value as a table cell: strings without quotes, null as "-", others compact.
std::string CellText(const nlohmann::json& value);

// Left-aligned columns two spaces apart, a header row first. Rows may be shorter than the
// header (missing cells are blank).
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// "key  value" lines for every field of an object, `first` keys first (in that order),
// then the rest in key order. A non-object is printed as compact JSON.
std::string RenderObject(const nlohmann::json& object, const std::vector<std::string>& first);

// One member row: address, authorized, name, IPs, version, last seen (see member table).
std::vector<std::string> MemberRow(const nlohmann::json& member);
extern const std::vector<std::string> kMemberHeader;

// "2026-11-27 23:40:01 UTC" for a Unix time in ms; "-" for 0, negative or non-numbers.
std::string TimeCell(const nlohmann::json& time_ms);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_FIELDS_H_
