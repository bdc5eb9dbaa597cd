// Command-line words of the almanac CLI's subcommands: flags anywhere among the
// positional words, "--flag value" or "--flag=value", and "--" to end the flags.
//
// Thread safety: pure functions, any thread.
#ifndef ALMANAC_TOOLS_CLI_CLI_ARGS_H_
#define ALMANAC_TOOLS_CLI_CLI_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace almanac::cli {

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // "--home" -> "DIR", for value flags given
  std::vector<std::string> switches;          // boolean flags given, e.g. "--json"

  bool Has(const std::string& flag) const;
  // The value of a value flag, or `fallback` when it was not given.
  std::string Value(const std::string& flag, const std::string& fallback) const;
};

// Splits `args` into positional words and flags. `value_flags` take a value (the next
// word, or after "="); `switch_flags` take none ("-h" may be listed as a switch).
// InvalidArgument ("unknown option '--x'", "option '--home' needs a value",
// "option '--json' takes no value") on anything else that starts with '-' (a lone "-"
// is positional).
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<std::string>& value_flags,
                                     const std::vector<std::string>& switch_flags);

// True when `text` is 16 hex digits (a network id).
bool IsNetworkId(const std::string& text);
// True when `text` is 10 hex digits (a ZeroTier address).
bool IsNodeAddress(const std::string& text);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_CLI_ARGS_H_
