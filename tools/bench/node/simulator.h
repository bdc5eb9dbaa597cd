// The node simulator behind `almanac-bench node`: N members with real identities talk to a
// controller over UDP exactly as ZeroTier 1.14.1 nodes that know its physical address do
// (HELLO, then NETWORK_CONFIG_REQUEST), check every answer as a node does (sim_member.h)
// and report what each one got.
//
// Members share a few UDP sockets (the controller keys peers by ZeroTier address, so one
// socket carries many members). HELLOs are paced per socket because the controller checks
// only a few new identities per second per source (memory-hard work); unanswered HELLOs and
// requests are sent again after kSimRetryInterval.
//
// Thread safety: RunSimulation is reentrant (everything lives in the call); it runs on the
// calling thread and returns when every member has an answer or the timeout passed.
#ifndef ALMANAC_TOOLS_BENCH_NODE_SIMULATOR_H_
#define ALMANAC_TOOLS_BENCH_NODE_SIMULATOR_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/zt/identity.h"
#include "ctl/zt/inet_address.h"
#include "tools/bench/node/sim_member.h"

namespace almanac::bench {

struct SimulatorOptions {
  zt::InetAddress controller_physical;  // IPv4 address and UDP port of the controller
  zt::Identity controller;              // its public identity (validated by the caller)
  std::vector<zt::Identity> members;    // with secrets; at most kSimMembersMax
  std::vector<uint64_t> nwids;          // the network each member asks for (same size)
  size_t sockets = 4;                   // 1..kSimSocketsMax
  double hellos_per_second_per_socket = 4;  // the controller's per-source budget
  absl::Duration timeout = absl::Seconds(60);
};

enum class SimStatus {
  kNoAnswer,      // nothing usable before the timeout
  kOk,            // a config that passed every check
  kAccessDenied,  // ERROR NETWORK_ACCESS_DENIED
  kNotFound,      // ERROR OBJ_NOT_FOUND
  kOtherError,    // another ERROR code
  kBadConfig,     // a config that failed a check (detail says which)
};
const char* SimStatusName(SimStatus status);  // "OK", "ACCESS_DENIED", ...

struct MemberResult {
  uint64_t address = 0;
  uint64_t nwid = 0;
  SimStatus status = SimStatus::kNoAnswer;
  std::string detail;     // why, for kBadConfig and kOtherError
  ConfigSummary config;   // for kOk
  absl::Duration latency;  // from the request that was answered to its last packet
};

struct SimulationReport {
  std::vector<MemberResult> members;  // in the order of SimulatorOptions::members
  uint64_t hellos_sent = 0;
  uint64_t requests_sent = 0;
  uint64_t pushes_seen = 0;       // NETWORK_CONFIG packets (unsolicited updates)
  uint64_t packets_rejected = 0;  // from the controller but failed to open (MAC, format)
  absl::Duration elapsed;
};

// Runs the simulation. InvalidArgument: bad options (no members, sizes differ, too many,
// a member without secret, sockets out of range); Unavailable: a socket cannot be made.
// Members that got no answer are reported as kNoAnswer, not as an error.
absl::StatusOr<SimulationReport> RunSimulation(const SimulatorOptions& options);

}  // namespace almanac::bench

#endif  // ALMANAC_TOOLS_BENCH_NODE_SIMULATOR_H_
