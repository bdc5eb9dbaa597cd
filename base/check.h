// Always-on assertions for invariants (Debian's Abseil 20220623 has no absl/log).
//
// ALMANAC_CHECK(cond) aborts the process with the file, line and condition when cond is
// false, in every build mode. Use it for programmer errors and for invariants that guard
// the journal (sequence is last + 1, the chain links, epochs never go down): stopping
// beats running wrong. Never use it on a condition the outside world controls (packet
// bytes, HTTP bodies, disk contents): those become an absl::Status.
#ifndef ALMANAC_BASE_CHECK_H_
#define ALMANAC_BASE_CHECK_H_

namespace almanac::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const char* message);
}  // namespace almanac::internal

#define ALMANAC_CHECK(cond)                                                  \
  do {                                                                       \
    if (__builtin_expect(!(cond), 0)) {                                      \
      ::almanac::internal::CheckFailed(__FILE__, __LINE__, #cond, nullptr);  \
    }                                                                        \
  } while (0)

#define ALMANAC_CHECK_MSG(cond, msg)                                         \
  do {                                                                       \
    if (__builtin_expect(!(cond), 0)) {                                      \
      ::almanac::internal::CheckFailed(__FILE__, __LINE__, #cond, (msg));    \
    }                                                                        \
  } while (0)

#endif  // ALMANAC_BASE_CHECK_H_
