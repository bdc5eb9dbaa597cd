#include "tools/cli/cli_args.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace almanac::cli {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

bool IsHex(const std::string& text, size_t digits) {
  if (text.size() != digits) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

bool ParsedArgs::Has(const std::string& flag) const {
  return values.count(flag) > 0 || Contains(switches, flag);
}

std::string ParsedArgs::Value(const std::string& flag, const std::string& fallback) const {
  auto it = values.find(flag);
  return it == values.end() ? fallback : it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<std::string>& value_flags,
                                     const std::vector<std::string>& switch_flags) {
  ParsedArgs parsed;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (flags_ended || word.size() < 2 || word[0] != '-') {
      parsed.positional.push_back(word);
      continue;
    }
    if (word == "--") {
      flags_ended = true;
      continue;
    }
    const size_t eq = word.find('=');
    const std::string name = word.substr(0, eq);
    if (Contains(switch_flags, name)) {
      if (eq != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("option '", name, "' takes no value"));
      }
      parsed.switches.push_back(name);
    } else if (Contains(value_flags, name)) {
      if (eq != std::string::npos) {
        parsed.values[name] = word.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        parsed.values[name] = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("option '", name, "' needs a value"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option '", name, "'"));
    }
  }
  return parsed;
}

bool IsNetworkId(const std::string& text) { return IsHex(text, 16); }
bool IsNodeAddress(const std::string& text) { return IsHex(text, 10); }

}  // namespace almanac::cli
