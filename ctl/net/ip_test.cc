// Goal: IpAddress/IpPrefix accept exactly the canonical and RFC text forms, refuse hostile
// or ambiguous strings with a reason, format as inet_ntop does, and compare and contain
// correctly. Method: tables of (input, expected canonical text or error substring).
#include "ctl/net/ip.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace almanac::net {
namespace {

struct Good {
  std::string text;
  std::string canonical;
};

TEST(IpAddressTest, ParsesAndFormatsCanonically) {
  const Good kCases[] = {
      {"10.147.20.46", "10.147.20.46"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"::", "::"},
      {"::1", "::1"},
      {"FD94:9CB9:5E9D:7CEE:F999:9373:D8C8:D12F", "fd94:9cb9:5e9d:7cee:f999:9373:d8c8:d12f"},
      {"fc09:e057:a773:d8c8:d12f:0:0:1", "fc09:e057:a773:d8c8:d12f::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},  // RFC 5952: first longest run.
      {"2001:0db8::0001", "2001:db8::1"},
      {"::ffff:10.1.2.3", "::ffff:10.1.2.3"},
      {"fe80::", "fe80::"},
  };
  for (const Good& c : kCases) {
    auto ip = IpAddress::Parse(c.text);
    ASSERT_TRUE(ip.ok()) << c.text << ": " << ip.status();
    EXPECT_EQ(ip->ToString(), c.canonical) << c.text;
    auto again = IpAddress::Parse(ip->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *ip);
  }
}

struct Bad {
  std::string text;
  std::string reason;  // Substring of the error message.
};

TEST(IpAddressTest, RefusesHostileStrings) {
  const Bad kCases[] = {
      {"", "empty"},
      {"10.147.20", "four parts"},
      {"10.147.20.46.1", "unexpected text"},
      {"256.1.1.1", "part 1 is above 255"},
      {"1.2.3.1000", "part 4 is above 255"},
      {"010.1.1.1", "part 1 has a leading zero"},
      {"1.2.3.00", "part 4 has a leading zero"},
      {" 1.2.3.4", "part 1 is empty"},
      {"1.2.3.4 ", "unexpected text"},
      {"1.2.3.4\n", "unexpected text"},
      {"+1.2.3.4", "part 1 is empty"},
      {"1..2.3", "part 2 is empty"},
      {"0x1.2.3.4", "four parts"},
      {"1.2.3.4/24", "prefix length is not allowed"},
      {"localhost", "neither dots nor colons"},
      {"12345", "neither dots nor colons"},
      {"::1%eth0", "unexpected character"},
      {"[::1]", "unexpected character"},
      {":::", "malformed"},
      {"1:2:3:4:5:6:7:8:9", "malformed"},
      {"12345::", "malformed"},
      {"::g", "unexpected character"},
      {"1::2::3", "malformed"},
      {"::ffff:010.1.2.3", "malformed"},
      {std::string("1.2.3.4\0", 8), "unexpected text"},
      {std::string("::1\0", 4), "unexpected character"},
      {std::string(5000, '1'), "too long"},
      {"１.2.3.4", "part 1 is empty"},  // Full-width digit: not ASCII.
  };
  for (const Bad& c : kCases) {
    auto ip = IpAddress::Parse(c.text);
    ASSERT_FALSE(ip.ok()) << c.text << " parsed as " << ip->ToString();
    EXPECT_EQ(ip.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(ip.status().message().find("not an IPv4 or IPv6 address"), std::string::npos)
        << ip.status();
    EXPECT_NE(ip.status().message().find(c.reason), std::string::npos)
        << c.text << " -> " << ip.status();
  }
}

TEST(IpAddressTest, V4HelpersAndMasking) {
  const IpAddress a = IpAddress::V4(0x0a93142e);
  EXPECT_EQ(a.ToString(), "10.147.20.46");
  EXPECT_EQ(a.v4(), 0x0a93142eu);
  EXPECT_TRUE(a.is_v4());
  EXPECT_EQ(a.bits_max(), 32);
  EXPECT_EQ(a.MaskedTo(24).ToString(), "10.147.20.0");
  EXPECT_EQ(a.MaskedTo(0).ToString(), "0.0.0.0");
  EXPECT_EQ(a.MaskedTo(31).ToString(), "10.147.20.46");
  EXPECT_EQ(a.MaskedTo(29).ToString(), "10.147.20.40");
  auto v6 = IpAddress::Parse("fd94:9cb9:5e9d:7cee:f999:9373:d8c8:d12f");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->MaskedTo(88).ToString(), "fd94:9cb9:5e9d:7cee:f999:9300::");
  EXPECT_EQ(v6->MaskedTo(40).ToString(), "fd94:9cb9:5e00::");
}

TEST(IpAddressTest, OrderingAndHash) {
  auto a = *IpAddress::Parse("10.0.0.2");
  auto b = *IpAddress::Parse("10.0.0.10");
  auto c = *IpAddress::Parse("::1");
  EXPECT_TRUE(a < b);  // Numeric, not textual.
  EXPECT_TRUE(b < c);  // IPv4 before IPv6.
  EXPECT_FALSE(c < a);
  // ::a.0.0.2 has the same leading bytes as nothing in v4 storage, but families differ.
  auto v4_in_v6_bytes = IpAddress::V6(a.bytes());
  EXPECT_NE(v4_in_v6_bytes, a);
  absl::flat_hash_set<IpAddress> set = {a, b, c, *IpAddress::Parse("10.0.0.2")};
  EXPECT_EQ(set.size(), 3u);
  EXPECT_TRUE(set.contains(v4_in_v6_bytes) == false);
}

TEST(IpPrefixTest, ParsesFormatsAndContains) {
  auto p = IpPrefix::Parse("10.147.20.0/24");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->ToString(), "10.147.20.0/24");
  EXPECT_EQ(p->bits(), 24);
  EXPECT_FALSE(p->HasHostBits());
  EXPECT_TRUE(p->Contains(*IpAddress::Parse("10.147.20.255")));
  EXPECT_FALSE(p->Contains(*IpAddress::Parse("10.147.21.0")));
  EXPECT_FALSE(p->Contains(*IpAddress::Parse("::a93:1400")));  // Other family.

  auto host = IpPrefix::Parse("10.147.20.1/24");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(host->HasHostBits());
  EXPECT_EQ(host->ToString(), "10.147.20.1/24");  // Kept as given, like ZeroTier.
  EXPECT_EQ(host->Masked().ToString(), "10.147.20.0/24");
  EXPECT_TRUE(host->Contains(*IpAddress::Parse("10.147.20.200")));

  auto all = IpPrefix::Parse("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains(*IpAddress::Parse("255.1.2.3")));
  EXPECT_FALSE(all->Contains(*IpAddress::Parse("::")));

  auto v6 = IpPrefix::Parse("FC09:E057:A773:D8C8:D12F::1/40");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ToString(), "fc09:e057:a773:d8c8:d12f::1/40");
  EXPECT_TRUE(v6->Contains(*IpAddress::Parse("fc09:e057:a7ff::")));
  EXPECT_FALSE(v6->Contains(*IpAddress::Parse("fc09:e057:a800::")));
  auto v6all = IpPrefix::Parse("::/0");
  ASSERT_TRUE(v6all.ok());
  EXPECT_TRUE(v6all->Contains(*IpAddress::Parse("ffff::")));
  auto host128 = IpPrefix::Parse("::1/128");
  ASSERT_TRUE(host128.ok());
  EXPECT_TRUE(host128->Contains(*IpAddress::Parse("::1")));
  EXPECT_FALSE(host128->Contains(*IpAddress::Parse("::2")));
}

TEST(IpPrefixTest, RefusesBadPrefixes) {
  const Bad kCases[] = {
      {"10.0.0.0/33", "prefix length 33 out of range for IPv4"},
      {"::/129", "prefix length 129 out of range for IPv6"},
      {"10.0.0.0", "missing prefix length"},
      {"10.0.0.0/", "missing prefix length"},
      {"10.0.0.0/024", "leading zero"},
      {"10.0.0.0/-1", "not a decimal number"},
      {"10.0.0.0/+8", "not a decimal number"},
      {"10.0.0.0/8 ", "not a decimal number"},
      {"10.0.0.0/8/8", "not a decimal number"},
      {"10.0.0.0/99999999999999999999", "not a decimal number"},
      {"10.0.0.0/" + std::string(100, '9'), "too long"},
      {"10.0.0.0/9999999999", "not a decimal number"},
      {"/8", "empty"},
      {"010.0.0.0/8", "leading zero"},
      {"::1%lo/64", "unexpected character"},
  };
  for (const Bad& c : kCases) {
    auto p = IpPrefix::Parse(c.text);
    ASSERT_FALSE(p.ok()) << c.text << " parsed as " << p->ToString();
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.reason), std::string::npos)
        << c.text << " -> " << p.status();
  }
  auto made = IpPrefix::Make(*IpAddress::Parse("10.0.0.0"), 33);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().message(), "prefix length 33 out of range for IPv4");
  EXPECT_FALSE(IpPrefix::Make(*IpAddress::Parse("10.0.0.0"), -1).ok());
  EXPECT_TRUE(IpPrefix::Make(*IpAddress::Parse("::"), 128).ok());
}

}  // namespace
}  // namespace almanac::net
