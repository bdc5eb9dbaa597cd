#include "ctl/api/json_fields.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ctl/api/limits.h"
#include "ctl/state/state.h"

namespace almanac::api {
namespace {

// Deepest bracket nesting of a JSON text, ignoring brackets inside strings. Stops counting
// once past the limit. Malformed text is left to the parser.
size_t NestingDepth(absl::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kJsonDepthMax) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::StatusOr<nlohmann::json> ParseBodyObject(absl::string_view body) {
  if (absl::StripAsciiWhitespace(body).empty()) return nlohmann::json::object();
  if (NestingDepth(body) > kJsonDepthMax) {
    return FieldError("body", absl::StrCat("nesting deeper than ", kJsonDepthMax));
  }
  nlohmann::json parsed = nlohmann::json::parse(body.begin(), body.end(), nullptr,
                                                /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return FieldError("body", "malformed JSON");
  if (!parsed.is_object()) return FieldError("body", "expected a JSON object");
  return parsed;
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<bool> ReadBool(const nlohmann::json& value, absl::string_view field) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return FieldError(field, "expected true or false");
}

absl::StatusOr<int64_t> ReadClampedInteger(const nlohmann::json& value,
                                           absl::string_view field, int64_t min,
                                           int64_t max) {
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) return max;
    return std::max(static_cast<int64_t>(u), min);
  }
  if (value.is_number_integer()) return std::clamp(value.get<int64_t>(), min, max);
  return FieldError(field, "expected an integer");
}

absl::StatusOr<int64_t> ReadInteger(const nlohmann::json& value, absl::string_view field,
                                    int64_t min, int64_t max) {
  if (!value.is_number_integer()) return FieldError(field, "expected an integer");
  bool in_range;
  int64_t v = 0;
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    v = in_range ? static_cast<int64_t>(u) : 0;
    in_range = in_range && v >= min && v <= max;
  } else {
    v = value.get<int64_t>();
    in_range = v >= min && v <= max;
  }
  if (!in_range) return FieldError(field, absl::StrCat("must be between ", min, " and ", max));
  return v;
}

absl::StatusOr<std::string> ReadString(const nlohmann::json& value, absl::string_view field,
                                       size_t bytes_max, bool null_ok) {
  if (null_ok && value.is_null()) return std::string();
  if (!value.is_string()) {
    return FieldError(field, null_ok ? "expected a string or null" : "expected a string");
  }
  const std::string& s = value.get_ref<const std::string&>();
  if (s.size() > bytes_max) {
    return FieldError(field, absl::StrCat("longer than ", bytes_max, " bytes"));
  }
  return s;
}

absl::StatusOr<uint64_t> ReadAddressText(absl::string_view text, absl::string_view field) {
  if (text.size() != 10) return FieldError(field, "expected 10 hex digits");
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return FieldError(field, "expected 10 hex digits");
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  if (value == 0 || (value >> 32) == 0xff) {
    return FieldError(field, "reserved ZeroTier address");
  }
  return value;
}

absl::Status CheckArray(const nlohmann::json& value, absl::string_view field,
                        size_t entries_max) {
  if (!value.is_array()) return FieldError(field, "expected an array");
  if (value.size() > entries_max) {
    return FieldError(field, absl::StrCat("more than ", entries_max, " entries"));
  }
  return absl::OkStatus();
}

absl::Status ReadRemoteTrace(const nlohmann::json& body, std::optional<std::string>* target,
                             std::optional<int32_t>* level) {
  if (auto it = body.find("remoteTraceTarget"); it != body.end()) {
    absl::StatusOr<std::string> v = ReadString(*it, "remoteTraceTarget", 10, true);
    if (!v.ok()) return v.status();
    if (!v->empty()) {
      absl::StatusOr<uint64_t> a = ReadAddressText(*v, "remoteTraceTarget");
      if (!a.ok()) return a.status();
      *v = state::AddressHex(*a);
    }
    *target = *std::move(v);
  }
  if (auto it = body.find("remoteTraceLevel"); it != body.end()) {
    absl::StatusOr<int64_t> v = ReadInteger(*it, "remoteTraceLevel", 0, 255);
    if (!v.ok()) return v.status();
    *level = static_cast<int32_t>(*v);
  }
  return absl::OkStatus();
}

}  // namespace almanac::api
