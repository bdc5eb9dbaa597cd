// Strict readers for fields of admin API request bodies (nlohmann::json, no exceptions).
//
// Every error is InvalidArgument whose message starts with the field's path and says what
// was expected ("mtu: expected an integer"), so the API can hand it back as
// {"error": message} and the admin sees which field to fix.
//
// ZeroTier UIs send booleans as the strings "true" and "false": ReadBool accepts exactly
// those two strings besides JSON booleans, and nothing else (no 0/1, no "yes").
//
// Thread safety: pure functions.
#ifndef ALMANAC_CTL_API_JSON_FIELDS_H_
#define ALMANAC_CTL_API_JSON_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace almanac::api {

// InvalidArgument "<field>: <problem>".
absl::Status FieldError(absl::string_view field, absl::string_view problem);

// Parses a request body. An empty (or all-whitespace) body is {} (ZeroTier's POST with no
// body). Errors: InvalidArgument "body: malformed JSON ..." for anything that does not
// parse, "body: nesting deeper than N" (checked before parsing), "body: expected a JSON
// object" for valid JSON that is not an object.
absl::StatusOr<nlohmann::json> ParseBodyObject(absl::string_view body);

// Compact JSON text of a value; invalid UTF-8 (impossible after ParseBodyObject, but
// cheap to guard) is replaced instead of throwing.
std::string DumpJson(const nlohmann::json& value);

absl::StatusOr<bool> ReadBool(const nlohmann::json& value, absl::string_view field);
// An integer (JSON integer, not a float, not a string) within [min, max], else
// "<field>: expected an integer" / "<field>: must be between min and max".
absl::StatusOr<int64_t> ReadInteger(const nlohmann::json& value, absl::string_view field,
                                    int64_t min, int64_t max);
// Any JSON integer, clamped into [min, max] (ZeroTier clamps mtu instead of refusing).
absl::StatusOr<int64_t> ReadClampedInteger(const nlohmann::json& value,
                                           absl::string_view field, int64_t min, int64_t max);
// A string of at most bytes_max bytes; null gives "" when null_ok.
absl::StatusOr<std::string> ReadString(const nlohmann::json& value, absl::string_view field,
                                       size_t bytes_max, bool null_ok = false);
// A ZeroTier address: exactly 10 hex digits, not 0 and not starting with ff (reserved).
// Returns its value; accepts upper case (rendered lower case).
absl::StatusOr<uint64_t> ReadAddressText(absl::string_view text, absl::string_view field);

// Reads the optional "remoteTraceTarget" (a 10-hex address, or null or "" for none;
// kept as lowercase hex) and "remoteTraceLevel" (0..255) that networks and members
// share. A field absent from `body` leaves its output unset. InvalidArgument naming
// the field otherwise.
absl::Status ReadRemoteTrace(const nlohmann::json& body, std::optional<std::string>* target,
                             std::optional<int32_t>* level);

// Checks that `value` is an array of at most entries_max entries.
absl::Status CheckArray(const nlohmann::json& value, absl::string_view field,
                        size_t entries_max);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_JSON_FIELDS_H_
