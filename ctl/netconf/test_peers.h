// Test-only builders for the peers that netconf tests and flood tests send from.
//
// Thread safety: pure functions (the caller's rng is not shared).
#ifndef ALMANAC_CTL_NETCONF_TEST_PEERS_H_
#define ALMANAC_CTL_NETCONF_TEST_PEERS_H_

#include <cstdint>
#include <string>

#include "absl/random/random.h"
#include "ctl/zt/identity.h"

namespace almanac::netconf {

// An identity with real Curve25519/Ed25519 keys but an arbitrary address: cheap to make
// (no memory-hard work), so it fails Validate. With `with_secret` it can sign and agree.
// Fails the calling test (and returns an empty identity) if it does not parse.
zt::Identity CheapIdentity(uint64_t address, bool with_secret, absl::BitGen& rng);

// The payload of a NETWORK_CONFIG_REQUEST for `nwid` with the metadata dictionary a
// ZeroTier 1.14.1 node sends (protocol doc §4), no revision fields.
std::string ConfigRequestPayload(uint64_t nwid);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_TEST_PEERS_H_
