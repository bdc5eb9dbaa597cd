// Commands that create, change and delete networks (admin API and CLI).
//
// Each function builds a ctl::Command for Sequencer::Submit. Parsing and validation of
// the request happen before (ctl/api/network_json.h turns a body into a NetworkEdit);
// the command only decides against the current state: does the network exist, which id
// does a new one get, did anything change. A request that changes nothing emits no event.
//
// Outcomes are written into a caller-owned NetworkOutcome by decide (on the sequencer
// thread) and may be read once Submit has returned OK.
//
// Keys: create and delete write ObjectKey::Controller() (the set of networks) and the
// network's keys; a change writes ObjectKey::Network(nwid).
//
// Thread safety: building commands is pure; run them only through the sequencer.
#ifndef ALMANAC_CTL_COMMANDS_NETWORK_COMMANDS_H_
#define ALMANAC_CTL_COMMANDS_NETWORK_COMMANDS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/commands/field_change.h"
#include "ctl/sequencer.h"
#include "ctl/state/state.h"

namespace almanac::commands {

// A network config after an edit, and which fields differ from the old one.
struct NetworkEditResult {
  state::NetworkConfig config;
  std::vector<FieldChange> changes;  // empty: nothing changed
};

// Applies an already validated request to the old config (defaults for a new network).
// Must be pure and cheap: it runs on the sequencer thread. May return InvalidArgument
// for checks that need the old config.
using NetworkEdit =
    std::function<absl::StatusOr<NetworkEditResult>(const state::NetworkConfig& old)>;

struct NetworkOutcome {
  uint64_t nwid = 0;
  bool created = false;
  size_t changes = 0;  // fields changed (0 on a no-op update)
  // DeleteNetwork: the network as it was (members left out).
  std::optional<state::Network> deleted;
};

// Creates a network with a random 24-bit suffix under controller_address
// (shared protocol doc §4). Emits NetworkCreated. Errors: ResourceExhausted when no free
// id was found in kRandomNetworkIdAttempts tries; the edit's own errors.
ctl::Command CreateNetworkCommand(ctl::Actor actor, uint64_t controller_address,
                                  NetworkEdit edit, std::shared_ptr<NetworkOutcome> outcome);

// Creates the network `nwid` if it does not exist (NetworkCreated), else applies the edit
// to it (NetworkChanged with the changed fields; nothing when none changed).
// REQUIRES: nwid >> 24 is this controller's address (the caller checks; 400 otherwise).
ctl::Command PutNetworkCommand(ctl::Actor actor, uint64_t nwid, NetworkEdit edit,
                               std::shared_ptr<NetworkOutcome> outcome);

// Changes an existing network; NotFound when it does not exist.
ctl::Command ChangeNetworkCommand(ctl::Actor actor, uint64_t nwid, NetworkEdit edit,
                                  std::shared_ptr<NetworkOutcome> outcome);

// Deletes the network and its members (NetworkDeleted); NotFound when it does not exist.
ctl::Command DeleteNetworkCommand(ctl::Actor actor, uint64_t nwid,
                                  std::shared_ptr<NetworkOutcome> outcome);

}  // namespace almanac::commands

#endif  // ALMANAC_CTL_COMMANDS_NETWORK_COMMANDS_H_
