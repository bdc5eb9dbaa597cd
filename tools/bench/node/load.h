// The load generator of `almanac-bench netconf`: real members (identities with secrets)
// ask a controller for one network's config in rounds, each member once per round, with a
// fixed number of requests in flight, and the answers are timed. See netconf_bench.cc for
// why the controller's clock is stepped between rounds.
//
// Thread safety: WarmUp and RunLoad run on the calling thread; step_clock is called from
// it (WarmUp also calls it from a helper thread it owns).
#ifndef ALMANAC_TOOLS_BENCH_NODE_LOAD_H_
#define ALMANAC_TOOLS_BENCH_NODE_LOAD_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/zt/identity.h"
#include "ctl/zt/inet_address.h"

namespace almanac::bench {

struct LoadOptions {
  zt::InetAddress controller_physical;
  zt::Identity controller;
  std::vector<zt::Identity> members;  // with secrets, at most kSimMembersMax
  uint64_t nwid = 0;
  size_t window = 32;            // requests in flight
  absl::Duration duration = absl::Seconds(5);
  std::function<void()> step_clock;  // moves the controller's clock 1 s ahead
};

struct LoadResult {
  uint64_t answered = 0;    // complete configs received
  uint64_t unanswered = 0;  // no complete answer within a second of the round's end, or ERROR
  absl::Duration elapsed;
  absl::Duration latency_p50, latency_p99;
};

// HELLOs every member and has it ask for `nwid` once through the node simulator, which
// checks every answer fully; steps the clock every 250 ms meanwhile. FailedPrecondition
// (with counts) unless every member got a valid config; errors of RunSimulation.
absl::Status WarmUp(const LoadOptions& options);

// Rounds for `duration` (the round under way is finished). Unavailable when sockets
// cannot be made; InvalidArgument on bad options.
absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options);

}  // namespace almanac::bench

#endif  // ALMANAC_TOOLS_BENCH_NODE_LOAD_H_
