#include "ctl/net/assign.h"

#include <algorithm>
#include <array>

#include "base/check.h"
#include "ctl/net/limits.h"

namespace almanac::net {
namespace {

// The IPv6 route test of the reference (InetAddress::containsAddress): the candidate is
// masked, the target is not, so a target with host bits contains nothing.
bool ReferenceContainsV6(const IpPrefix& target, const IpAddress& ip) {
  return target.family() == IpFamily::kV6 && !target.HasHostBits() && target.Contains(ip);
}

// The prefix length the reference's IPv4 pick uses: the FIRST IPv4 target (route order)
// equal to the candidate masked by that target's length, compared against the target's
// address as stored. A /0 target compares the whole address (x86 shifts by 32 mod 32).
std::optional<int> FirstRoutedBitsV4(uint32_t ip, const std::vector<IpPrefix>& targets) {
  for (const IpPrefix& t : targets) {
    if (t.family() != IpFamily::kV4) continue;
    const int bits = t.bits();
    const uint32_t mask = bits == 0 ? 0xffffffffu : (0xffffffffu << (32 - bits));
    if ((ip & mask) == t.address().v4()) return bits;
  }
  return std::nullopt;
}

std::array<uint8_t, 16> FromHalves(uint64_t high, uint64_t low) {
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(high >> (56 - 8 * i));
    b[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
  }
  return b;
}

uint64_t Half(const IpAddress& ip, int which) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | ip.bytes()[which * 8 + i];
  return v;
}

}  // namespace

std::optional<IpAddress> PickIpv4(uint64_t member_address, const std::vector<Pool>& pools,
                                  const std::vector<IpPrefix>& route_targets,
                                  const TakenFn& taken) {
  for (const Pool& pool : pools) {
    if (!pool.start.is_v4() || !pool.end.is_v4()) continue;
    const uint32_t start = pool.start.v4();
    const uint32_t end = pool.end.v4();
    if (end < start || start == 0) continue;
    const uint32_t len = end - start;
    const uint64_t tries = std::min<uint64_t>(uint64_t{len} + 1, kAssignTriesMax);
    uint32_t counter = static_cast<uint32_t>(member_address & 0xffffffffu);
    for (uint64_t t = 0; t < tries; ++t) {
      const uint32_t ip = len > 0 ? start + (counter % len) : start;
      ++counter;
      if ((ip & 0xffu) == 0xffu) continue;  // Never hand out x.x.x.255.
      const std::optional<int> bits = FirstRoutedBitsV4(ip, route_targets);
      if (!bits.has_value() || *bits == 0) continue;
      const IpAddress candidate = IpAddress::V4(ip);
      if (taken(candidate)) continue;
      ALMANAC_CHECK(candidate.v4() >= start && candidate.v4() <= end);
      return candidate;
    }
  }
  return std::nullopt;
}

std::optional<IpAddress> PickIpv6(uint64_t member_address, const std::vector<Pool>& pools,
                                  const std::vector<IpPrefix>& local_route_targets,
                                  const TakenFn& taken, absl::BitGenRef random) {
  for (const Pool& pool : pools) {
    if (!pool.start.is_v6() || !pool.end.is_v6()) continue;
    const uint64_t s0 = Half(pool.start, 0), s1 = Half(pool.start, 1);
    const uint64_t e0 = Half(pool.end, 0), e1 = Half(pool.end, 1);
    for (int t = 0; t < kAssignTriesMax; ++t) {
      uint64_t high = 0, low = 0;
      if (t == 0 && e1 > s1 && (e1 - s1) >= 0xffffffffffULL) {
        // The reference first tries to put the member's address in the low 64 bits.
        high = s0;
        low = s1 + member_address;
      } else {
        const uint64_t r0 = random(), r1 = random();
        high = s0 + (e0 > s0 ? r0 % (e0 - s0) : 0);
        low = s1 + (e1 > s1 ? r1 % (e1 - s1) : 0);
      }
      const IpAddress candidate = IpAddress::V6(FromHalves(high, low));
      int routed_bits = 0;  // The LAST containing target wins, as in the reference.
      for (const IpPrefix& target : local_route_targets) {
        if (ReferenceContainsV6(target, candidate)) routed_bits = target.bits();
      }
      if (routed_bits <= 0 || taken(candidate)) continue;
      return candidate;
    }
  }
  return std::nullopt;
}

std::optional<int> AssignedPrefixBits(const IpAddress& ip,
                                      const std::vector<IpPrefix>& route_targets) {
  std::optional<int> best;
  for (const IpPrefix& target : route_targets) {
    const bool contains = ip.is_v4() ? target.Contains(ip) : ReferenceContainsV6(target, ip);
    if (contains && (!best.has_value() || target.bits() > *best)) best = target.bits();
  }
  return best;
}

IpPrefix Rfc4193Address(uint64_t nwid, uint64_t member_address) {
  std::array<uint8_t, 16> b{};
  b[0] = 0xfd;
  for (int i = 0; i < 8; ++i) b[1 + i] = static_cast<uint8_t>(nwid >> (56 - 8 * i));
  b[9] = 0x99;
  b[10] = 0x93;
  for (int i = 0; i < 5; ++i) b[11 + i] = static_cast<uint8_t>(member_address >> (32 - 8 * i));
  auto prefix = IpPrefix::Make(IpAddress::V6(b), 88);
  ALMANAC_CHECK(prefix.ok());
  return *prefix;
}

IpPrefix SixPlaneAddress(uint64_t nwid, uint64_t member_address) {
  const uint32_t folded = static_cast<uint32_t>(nwid ^ (nwid >> 32));
  std::array<uint8_t, 16> b{};
  b[0] = 0xfc;
  for (int i = 0; i < 4; ++i) b[1 + i] = static_cast<uint8_t>(folded >> (24 - 8 * i));
  for (int i = 0; i < 5; ++i) b[5 + i] = static_cast<uint8_t>(member_address >> (32 - 8 * i));
  b[15] = 0x01;
  auto prefix = IpPrefix::Make(IpAddress::V6(b), 40);
  ALMANAC_CHECK(prefix.ok());
  return *prefix;
}

}  // namespace almanac::net
