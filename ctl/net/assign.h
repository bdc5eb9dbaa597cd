// Address assignment exactly as ZeroTier One 1.14.1's reference controller does it
// (shared/docs/zerotier-protocol.md §5; EmbeddedNetworkController's request handling).
//
// IPv4 (v4AssignMode.zt): pools are tried in the order given. A pool whose end is below
// its start, or whose start is 0.0.0.0, is skipped. With len = end - start and a counter
// starting at the low 32 bits of the member's address, each try takes
// start + (counter % len) (just start when len is 0), then increments the counter. At most
// min(end - start + 1, 1000) tries per pool. A candidate is refused when it ends in .255
// (the reference does NOT skip .0), when the first IPv4 route target (in route order)
// whose network equals the candidate's masked by that route's length is missing or is a
// /0, or when it is taken. Quirk kept on purpose: the route target is compared unmasked,
// so a target written with host bits ("10.147.20.1/24") never admits an address.
//
// IPv6 (v6AssignMode.zt): per IPv6 pool, in order, up to 1000 tries. The first try, when
// the pool's low 64 bits span at least 2^40 - 1, is start + member address (low 64 bits,
// wrapping); every other try adds a random offset below (end - start) to each 64-bit half
// separately (an offset of 0 where end's half is not above start's). A candidate needs a
// route without `via` containing it (the caller passes only those) and must not be taken.
//
// rfc4193 and 6plane addresses are computed, not picked: see Rfc4193Address and
// SixPlaneAddress.
//
// Pure functions, no clock, no I/O; randomness only through the BitGenRef passed in (the
// command draws it and records the result in its event). Safe from any thread.
#ifndef ALMANAC_CTL_NET_ASSIGN_H_
#define ALMANAC_CTL_NET_ASSIGN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "ctl/net/ip.h"

namespace almanac::net {

// One of a network's ipAssignmentPools: ipRangeStart..ipRangeEnd, both inclusive. Pools
// whose two ends differ in family are never used.
struct Pool {
  IpAddress start;
  IpAddress end;
};

// Is this address already assigned (to any member of the network, this one included)?
using TakenFn = std::function<bool(const IpAddress&)>;

// The IPv4 address the reference controller would give `member_address` (a 40-bit
// ZeroTier address), or nullopt when every try in every IPv4 pool fails. Non-IPv4 pools
// and non-IPv4 route targets are ignored. `taken` is called at most once per try.
std::optional<IpAddress> PickIpv4(uint64_t member_address, const std::vector<Pool>& pools,
                                  const std::vector<IpPrefix>& route_targets,
                                  const TakenFn& taken);

// The IPv6 address for v6AssignMode.zt, or nullopt when no try succeeds.
// `local_route_targets` are the targets of the network's routes that have no `via`
// (the reference only assigns inside those). `random` supplies the random tries.
std::optional<IpAddress> PickIpv6(uint64_t member_address, const std::vector<Pool>& pools,
                                  const std::vector<IpPrefix>& local_route_targets,
                                  const TakenFn& taken, absl::BitGenRef random);

// The prefix length a member's assigned address is sent with in the netconf `I` key: the
// longest route target containing it, or nullopt when no route contains it (the reference
// then leaves the address out). For IPv6 targets a target with host bits set contains
// nothing, as in the reference; IPv4 targets are compared masked.
std::optional<int> AssignedPrefixBits(const IpAddress& ip,
                                      const std::vector<IpPrefix>& route_targets);

// v6AssignMode.rfc4193: fd | nwid(8) | 99 93 | address(5), prefix /88.
IpPrefix Rfc4193Address(uint64_t nwid, uint64_t member_address);
// v6AssignMode.6plane: fc | low 32 bits of (nwid ^ nwid >> 32) | address(5) |
// 00 00 00 00 00 01, prefix /40.
IpPrefix SixPlaneAddress(uint64_t nwid, uint64_t member_address);

}  // namespace almanac::net

#endif  // ALMANAC_CTL_NET_ASSIGN_H_
