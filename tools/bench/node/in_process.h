// An Almanac controller inside this process for the netconf benchmark and the simulator's
// test: ctl::Controller on a home directory plus the netconf UDP server on 127.0.0.1:0,
// and helpers that write networks and members straight through the sequencer (as the
// admin API and imports would, with events), so a run starts from a known population.
//
// Thread safety: the helpers may be called from any thread (they Submit to the
// sequencer); destroy from one thread after the last call.
#ifndef ALMANAC_TOOLS_BENCH_NODE_IN_PROCESS_H_
#define ALMANAC_TOOLS_BENCH_NODE_IN_PROCESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/controller.h"
#include "ctl/netconf/udp_server.h"
#include "ctl/state/state.h"
#include "ctl/zt/identity.h"
#include "ctl/zt/inet_address.h"

namespace almanac::bench {

// Events per Submit when adding members: below the journal's 1,024 records per batch.
inline constexpr size_t kInProcessEventsPerCommandMax = 500;

struct NewMember {
  uint64_t address = 0;
  const zt::Identity* identity = nullptr;  // nullptr: a member that never joined yet
  bool authorized = false;
  std::string ip;  // "" for none (the pool assigns one on the first request)
};

class InProcessController {
 public:
  // Opens (or creates) a controller home at `home` and starts netconf on 127.0.0.1:0 with
  // `clock` as the responder's clock (empty: absl::Now). Errors of Controller::Open and
  // StartNetconf, unchanged.
  static absl::StatusOr<std::unique_ptr<InProcessController>> Start(
      const std::string& home, std::function<absl::Time()> clock);

  const zt::Identity& identity() const { return controller_->identity(); }
  zt::InetAddress address() const;  // 127.0.0.1 and the UDP port
  ctl::Sequencer* sequencer() { return controller_->sequencer(); }
  netconf::ResponderCounters counters() const { return server_->counters(); }
  // A network id of this controller with the given low 24 bits.
  uint64_t NetworkId(uint32_t number) const;

  // Writes NetworkCreated. Errors from the sequencer (FailedPrecondition if it exists).
  absl::Status CreateNetwork(uint64_t nwid, const state::NetworkConfig& config);
  // Writes MemberCreated (authorized, ip) then MemberJoined (identity, if any) for each,
  // in commands of at most kInProcessEventsPerCommandMax events. Errors from the sequencer.
  absl::Status AddMembers(uint64_t nwid, const std::vector<NewMember>& members);

 private:
  InProcessController() = default;

  std::unique_ptr<ctl::Controller> controller_;
  std::unique_ptr<netconf::UdpServer> server_;
};

}  // namespace almanac::bench

#endif  // ALMANAC_TOOLS_BENCH_NODE_IN_PROCESS_H_
