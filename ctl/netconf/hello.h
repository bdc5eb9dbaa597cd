// Building a HELLO packet (shared/docs/zerotier-protocol.md §3), which ctl/zt/messages.h
// only parses: Almanac sends HELLO to its roots, and tests play a node with it.
// HELLO is suite 0 (MAC only); its tail (moon count 0) is Salsa20/12-encrypted first,
// since the MAC covers the encrypted bytes. Pure; thread-safe.
#ifndef ALMANAC_CTL_NETCONF_HELLO_H_
#define ALMANAC_CTL_NETCONF_HELLO_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "ctl/zt/identity.h"
#include "ctl/zt/inet_address.h"
#include "ctl/zt/messages.h"
#include "ctl/zt/packet.h"

namespace almanac::netconf {

// The protocol Almanac advertises: 11, so 1.14 nodes speak suites 0/1 to it (§2).
inline constexpr zt::VersionInfo kAlmanacVersion{11, 1, 14, 1};

// A whole armored HELLO from `self` to `destination` (address), sent to physical address
// `sent_to`. InvalidArgument only if the packet cannot be built.
absl::StatusOr<std::string> BuildHelloPacket(uint64_t packet_id, const zt::Identity& self,
                                             uint64_t destination,
                                             const zt::InetAddress& sent_to,
                                             const zt::VersionInfo& version,
                                             uint64_t timestamp_ms, uint64_t planet_id,
                                             uint64_t planet_timestamp, const zt::Key48& key);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_HELLO_H_
