// A tiny command-line reader for the almanac-bench subcommands of this package:
// "--name=value" or "--name value"; "--help" is a flag without value.
// Not thread-safe (one per main).
#ifndef ALMANAC_TOOLS_BENCH_NODE_FLAGS_H_
#define ALMANAC_TOOLS_BENCH_NODE_FLAGS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace almanac::bench {

class Flags {
 public:
  // argv[0] is the subcommand. InvalidArgument: a word that is not a flag, or a flag
  // not among `known` (space-separated names without dashes).
  static absl::StatusOr<Flags> Parse(int argc, char** argv, const std::string& known);

  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  std::string String(const std::string& name, const std::string& fallback) const;
  // InvalidArgument when present and not a number.
  absl::StatusOr<double> Number(const std::string& name, double fallback) const;

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace almanac::bench

#endif  // ALMANAC_TOOLS_BENCH_NODE_FLAGS_H_
