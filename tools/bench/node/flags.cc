#include "tools/bench/node/flags.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace almanac::bench {

absl::StatusOr<Flags> Flags::Parse(int argc, char** argv, const std::string& known) {
  std::set<std::string> names;
  for (absl::string_view n : absl::StrSplit(known, ' ', absl::SkipEmpty())) {
    names.insert(std::string(n));
  }
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", word, "'"));
    }
    word = word.substr(2);
    std::string value;
    size_t eq = word.find('=');
    if (eq != std::string::npos) {
      value = word.substr(eq + 1);
      word = word.substr(0, eq);
    } else if (word != "help" && i + 1 < argc) {
      value = argv[++i];
    }
    for (char& c : word) c = c == '_' ? '-' : c;
    if (names.count(word) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", word));
    }
    flags.values_[word] = value;
  }
  return flags;
}

std::string Flags::String(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

absl::StatusOr<double> Flags::Number(const std::string& name, double fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  double v = 0;
  if (!absl::SimpleAtod(it->second, &v)) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": not a number"));
  }
  return v;
}

}  // namespace almanac::bench
