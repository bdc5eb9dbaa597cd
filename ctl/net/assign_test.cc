// Goal: address assignment gives exactly what ZeroTier 1.14.1's controller gave real
// members, and follows its skipping rules. Method: known answers from the captured labs
// (shared/vectors/zerotier-1.14.1), then small hand-made pools where the counter's path is
// computed by hand.
#include "ctl/net/assign.h"

#include <random>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace almanac::net {
namespace {

IpAddress Ip(const std::string& s) {
  auto ip = IpAddress::Parse(s);
  EXPECT_TRUE(ip.ok()) << s;
  return ip.ok() ? *ip : IpAddress();
}
IpPrefix Prefix(const std::string& s) {
  auto p = IpPrefix::Parse(s);
  EXPECT_TRUE(p.ok()) << s;
  return p.ok() ? *p : IpPrefix();
}
const TakenFn kNothingTaken = [](const IpAddress&) { return false; };

TEST(PickIpv4Test, KnownAnswersFromRealControllers) {
  const std::vector<Pool> pools = {{Ip("10.147.20.10"), Ip("10.147.20.200")}};
  const std::vector<IpPrefix> routes = {Prefix("10.147.20.0/24"),
                                        Prefix("192.168.77.0/24")};
  // protocol doc §5.
  auto a = PickIpv4(0x641ff38b6cULL, pools, routes, kNothingTaken);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ToString(), "10.147.20.46");
  // Main lab: member 73d8c8d12f.
  auto b = PickIpv4(0x73d8c8d12fULL, pools, routes, kNothingTaken);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->ToString(), "10.147.20.137");
  // Fragmented lab: member e66106d9f9, pool 10.147.21.10-200, route 10.147.21.0/24.
  auto c = PickIpv4(0xe66106d9f9ULL, {{Ip("10.147.21.10"), Ip("10.147.21.200")}},
                    {Prefix("10.147.21.0/24")}, kNothingTaken);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->ToString(), "10.147.21.109");
}

TEST(PickIpv4Test, TakenAddressesAdvanceTheCounter) {
  const std::vector<Pool> pools = {{Ip("10.147.20.10"), Ip("10.147.20.200")}};
  const std::vector<IpPrefix> routes = {Prefix("10.147.20.0/24")};
  std::set<IpAddress> taken = {Ip("10.147.20.46"), Ip("10.147.20.47")};
  auto a = PickIpv4(0x641ff38b6cULL, pools, routes,
                    [&](const IpAddress& ip) { return taken.count(ip) > 0; });
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ToString(), "10.147.20.48");
  // 190 % 190 == 0: the counter wraps to the start, and the end itself is never tried
  // first (start + counter % (end - start) < end).
  taken.clear();
  for (int i = 46; i < 200; ++i) taken.insert(IpAddress::V4(0x0a931400u + i));
  auto b = PickIpv4(0x641ff38b6cULL, pools, routes,
                    [&](const IpAddress& ip) { return taken.count(ip) > 0; });
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->ToString(), "10.147.20.10");
}

TEST(PickIpv4Test, SkipsDot255ButNotDot0) {
  // Counter starts at the member's low 32 bits: member 5 with pool 10.0.0.250-10.0.1.10
  // (len 16) first tries 10.0.0.255 (skipped), then 10.0.1.0, which the reference allows.
  const std::vector<Pool> pools = {{Ip("10.0.0.250"), Ip("10.0.1.10")}};
  const std::vector<IpPrefix> routes = {Prefix("10.0.0.0/16")};
  int calls = 0;
  auto a = PickIpv4(0xaa00000005ULL, pools, routes, [&](const IpAddress& ip) {
    ++calls;
    EXPECT_NE(ip.ToString(), "10.0.0.255");
    return false;
  });
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ToString(), "10.0.1.0");
  EXPECT_EQ(calls, 1);
}

TEST(PickIpv4Test, NeedsARouteAndUsesTheFirstMatchingOne) {
  const std::vector<Pool> pools = {{Ip("10.147.20.10"), Ip("10.147.20.200")}};
  // Only .0-.15 is routed: member 641ff38b6c's counter gives 46, 47, ... 199, 10..15.
  auto a = PickIpv4(0x641ff38b6cULL, pools, {Prefix("10.147.20.0/28")}, kNothingTaken);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ToString(), "10.147.20.10");
  // No IPv4 route at all, or only a /0: nothing is assignable.
  EXPECT_FALSE(PickIpv4(0x641ff38b6cULL, pools, {}, kNothingTaken).has_value());
  EXPECT_FALSE(PickIpv4(0x641ff38b6cULL, pools, {Prefix("fd00::/8")}, kNothingTaken));
  EXPECT_FALSE(PickIpv4(0x641ff38b6cULL, pools, {Prefix("0.0.0.0/0")}, kNothingTaken));
  // Reference quirk: a target written with host bits is compared unmasked, never matches.
  EXPECT_FALSE(PickIpv4(0x641ff38b6cULL, pools, {Prefix("10.147.20.1/24")}, kNothingTaken));
  // The first matching route decides, even if it is a /0 listed before a good route.
  auto b = PickIpv4(0x641ff38b6cULL, pools,
                    {Prefix("10.147.20.46/0"), Prefix("10.147.20.0/24")}, kNothingTaken);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->ToString(), "10.147.20.47");
}

TEST(PickIpv4Test, PoolOrderAndBadPools) {
  const std::vector<IpPrefix> routes = {Prefix("10.0.0.0/8")};
  const std::vector<Pool> pools = {
      {Ip("10.1.0.9"), Ip("10.1.0.1")},    // end < start: skipped
      {Ip("0.0.0.0"), Ip("10.9.9.9")},     // start 0: skipped
      {Ip("fd00::1"), Ip("fd00::9")},      // IPv6: not for PickIpv4
      {Ip("10.2.0.7"), Ip("fd00::1")},     // mixed families: skipped
      {Ip("10.3.0.5"), Ip("10.3.0.5")},    // single address (len 0)
      {Ip("10.4.0.1"), Ip("10.4.0.100")},
  };
  auto a = PickIpv4(0x0102030405ULL, pools, routes, kNothingTaken);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ToString(), "10.3.0.5");
  auto b = PickIpv4(0x0102030405ULL, pools, routes,
                    [](const IpAddress& ip) { return ip.ToString() == "10.3.0.5"; });
  ASSERT_TRUE(b.has_value());
  // 0x02030405 % 99 = 33752069 % 99 = 98 -> 10.4.0.1 + 98.
  EXPECT_EQ(b->ToString(), "10.4.0.99");
}

TEST(PickIpv4Test, GivesUpAfterTheTryLimit) {
  int calls = 0;
  const TakenFn all_taken = [&](const IpAddress&) {
    ++calls;
    return true;
  };
  // A big pool: at most 1000 tries.
  EXPECT_FALSE(PickIpv4(0x641ff38b6cULL, {{Ip("10.0.0.1"), Ip("10.255.255.254")}},
                        {Prefix("10.0.0.0/8")}, all_taken));
  EXPECT_LE(calls, 1000);
  EXPECT_GT(calls, 990);  // Only the .255 candidates are not asked about.
  // A small pool: end - start + 1 tries.
  calls = 0;
  EXPECT_FALSE(PickIpv4(0x641ff38b6cULL, {{Ip("10.0.0.1"), Ip("10.0.0.20")}},
                        {Prefix("10.0.0.0/8")}, all_taken));
  EXPECT_EQ(calls, 20);
}

TEST(SpecialIpv6Test, MatchesTheMainLabMember) {
  // member_listnetworks.json: nwid 949cb95e9d7ceef9, member 73d8c8d12f.
  EXPECT_EQ(Rfc4193Address(0x949cb95e9d7ceef9ULL, 0x73d8c8d12fULL).ToString(),
            "fd94:9cb9:5e9d:7cee:f999:9373:d8c8:d12f/88");
  EXPECT_EQ(SixPlaneAddress(0x949cb95e9d7ceef9ULL, 0x73d8c8d12fULL).ToString(),
            "fc09:e057:a773:d8c8:d12f::1/40");
  // Leading zero bytes stay in place (no accidental shifting).
  EXPECT_EQ(Rfc4193Address(0x0000000100000002ULL, 0x01ULL).ToString(),
            "fd00:0:100:0:299:9300:0:1/88");
  EXPECT_EQ(SixPlaneAddress(0x0000000100000002ULL, 0x01ULL).ToString(),
            "fc00:0:300:0:1::1/40");
}

TEST(PickIpv6Test, FirstTryEmbedsTheAddressThenRandomWithinPoolAndRoute) {
  const uint64_t seed = 20240611;
  std::mt19937_64 gen(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  const std::vector<Pool> pools = {{Ip("fd00:1::"), Ip("fd00:1::ffff:ffff:ffff:ffff")}};
  const std::vector<IpPrefix> routes = {Prefix("fd00:1::/64")};
  auto a = PickIpv6(0x73d8c8d12fULL, pools, routes, kNothingTaken, gen);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ToString(), "fd00:1::73:d8c8:d12f");
  // With that one taken, random tries stay inside the pool and the route.
  for (int i = 0; i < 50; ++i) {
    auto b = PickIpv6(0x73d8c8d12fULL, pools, routes,
                      [&](const IpAddress& ip) { return ip == *a; }, gen);
    ASSERT_TRUE(b.has_value());
    EXPECT_NE(*b, *a);
    EXPECT_TRUE(routes[0].Contains(*b)) << b->ToString();
  }
  // No route without via: nothing. IPv4 pools are ignored.
  EXPECT_FALSE(PickIpv6(0x73d8c8d12fULL, pools, {}, kNothingTaken, gen));
  EXPECT_FALSE(PickIpv6(0x73d8c8d12fULL, {{Ip("10.0.0.1"), Ip("10.0.0.9")}},
                        {Prefix("10.0.0.0/8")}, kNothingTaken, gen));
  // A small pool never gets the embedded try; tries are random in [start, end).
  const std::vector<Pool> small = {{Ip("fd00:2::10"), Ip("fd00:2::20")}};
  for (int i = 0; i < 50; ++i) {
    auto c = PickIpv6(0x73d8c8d12fULL, small, {Prefix("fd00:2::/64")}, kNothingTaken, gen);
    ASSERT_TRUE(c.has_value());
    EXPECT_FALSE(*c < small[0].start);
    EXPECT_TRUE(*c < small[0].end) << c->ToString();
  }
}

TEST(AssignedPrefixBitsTest, LongestContainingRoute) {
  const std::vector<IpPrefix> routes = {Prefix("10.0.0.0/8"), Prefix("10.147.20.0/24"),
                                        Prefix("192.168.77.0/24"), Prefix("fd00::/8"),
                                        Prefix("fd00::1/64")};
  EXPECT_EQ(AssignedPrefixBits(Ip("10.147.20.137"), routes), 24);
  EXPECT_EQ(AssignedPrefixBits(Ip("10.1.2.3"), routes), 8);
  EXPECT_EQ(AssignedPrefixBits(Ip("172.16.0.1"), routes), std::nullopt);
  // fd00::1/64 has host bits: contains nothing in the reference, so /8 wins.
  EXPECT_EQ(AssignedPrefixBits(Ip("fd00::5"), routes), 8);
  EXPECT_EQ(AssignedPrefixBits(Ip("fe80::5"), routes), std::nullopt);
}

}  // namespace
}  // namespace almanac::net
