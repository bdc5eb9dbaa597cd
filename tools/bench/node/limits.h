// Named limits of the ZeroTier node simulator (tools/bench/node/): everything the command
// line or the controller's answers can grow has a bound here, with its reason.
// Header-only constants; thread-safe.
#ifndef ALMANAC_TOOLS_BENCH_NODE_LIMITS_H_
#define ALMANAC_TOOLS_BENCH_NODE_LIMITS_H_

#include <cstddef>

#include "absl/time/time.h"

namespace almanac::bench {

// Simulated members in one run. The controller's peer cache holds 65,536 keys and every
// member needs one, so more would only measure evictions.
inline constexpr size_t kSimMembersMax = 65536;
// Identities kept in the cache file: 1,000,000 lines of 270 bytes is 270 MB, far past any
// useful run; the file is read up to this many lines.
inline constexpr size_t kIdentityCacheLinesMax = kSimMembersMax;
// UDP sockets one simulator opens. The controller checks at most 4 new identities per
// second per physical source and 16 in all, so 4 sockets reach its whole budget.
inline constexpr size_t kSimSocketsMax = 64;
// Config chunks collected for one member before its reply is declared malformed: a
// controller cuts a config in at most 16 chunks (ctl/netconf/limits.h kConfigBytesMax).
inline constexpr size_t kSimChunksPerConfigMax = 16;
// A member whose HELLO or request got no answer asks again after this long (longer than
// the controller's one-second rate limit, so a retry is never dropped as too early).
inline constexpr absl::Duration kSimRetryInterval = absl::Milliseconds(1500);

}  // namespace almanac::bench

#endif  // ALMANAC_TOOLS_BENCH_NODE_LIMITS_H_
