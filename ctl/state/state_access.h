// Write access to State for the projector and the snapshot loader only (private to
// //ctl/state; not in the library's hdrs). Everyone else reads State through its const API.
#ifndef ALMANAC_CTL_STATE_STATE_ACCESS_H_
#define ALMANAC_CTL_STATE_STATE_ACCESS_H_

#include <array>
#include <cstdint>
#include <string>

#include "ctl/state/state.h"

namespace almanac::state::internal {

class StateAccess {
 public:
  static NetworkMap& networks(State& s) { return s.networks_; }
  static size_t& member_count(State& s) { return s.member_count_; }
  static uint64_t& last_seq(State& s) { return s.last_seq_; }
  static std::array<uint8_t, 32>& chain_hash(State& s) { return s.chain_hash_; }
  static uint64_t& epoch(State& s) { return s.epoch_; }
  static std::string& controller_identity(State& s) { return s.controller_identity_; }
};

}  // namespace almanac::state::internal

#endif  // ALMANAC_CTL_STATE_STATE_ACCESS_H_
