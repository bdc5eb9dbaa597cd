// FUZZ_ASSERT: a property a fuzz target checks beyond "does not crash" (round trips,
// bounds). On failure it prints the condition and aborts, which libFuzzer and the corpus
// replay both report as a crash with the input saved. Test-only.
#ifndef ALMANAC_FUZZ_FUZZ_CHECK_H_
#define ALMANAC_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_ASSERT(cond)                                                          \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "%s:%d: FUZZ_ASSERT failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                         \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

#endif  // ALMANAC_FUZZ_FUZZ_CHECK_H_
