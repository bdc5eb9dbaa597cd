#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace almanac::internal {

void CheckFailed(const char* file, int line, const char* condition, const char* message) {
  std::fprintf(stderr, "almanac: check failed at %s:%d: %s%s%s\n", file, line, condition,
               message != nullptr ? ": " : "", message != nullptr ? message : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace almanac::internal
