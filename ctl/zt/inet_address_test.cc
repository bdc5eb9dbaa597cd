// InetAddress wire and text forms, both ways, and refusal of damaged input.
#include "ctl/zt/inet_address.h"

#include "ctl/zt/wire_testing.h"
#include "gtest/gtest.h"

namespace almanac::zt {
namespace {

using ::almanac::zt::testing::FromHex;
using ::almanac::zt::testing::ToHex;

TEST(InetAddressTest, WireFormsMatchTheCaptures) {
  // From the OK(HELLO) and HELLO of the main capture.
  const InetAddress v4 = InetAddress::Ipv4(10, 99, 0, 2, 9992);
  std::string out;
  AppendInetAddress(out, v4);
  EXPECT_EQ(ToHex(out), "040a6300022708");
  Reader r(out);
  absl::StatusOr<InetAddress> back = ReadInetAddress(r);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v4);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(v4.ToString(), "10.99.0.2/9992");
}

TEST(InetAddressTest, Ipv6AndNoneRoundTrip) {
  absl::StatusOr<InetAddress> v6 =
      InetAddress::FromString("fd94:9cb9:5e9d:7cee:f999:9373:d8c8:d12f/88");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family, InetAddress::Family::kIpv6);
  EXPECT_EQ(v6->port, 88);
  std::string out;
  AppendInetAddress(out, *v6);
  AppendInetAddress(out, InetAddress());
  EXPECT_EQ(ToHex(out), "06fd949cb95e9d7ceef9999373d8c8d12f005800");
  Reader r(out);
  absl::StatusOr<InetAddress> a = ReadInetAddress(r);
  absl::StatusOr<InetAddress> b = ReadInetAddress(r);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *v6);
  EXPECT_TRUE(b->is_none());
  EXPECT_EQ(b->ToString(), "");
  EXPECT_EQ(InetAddress::FromString(a->ToString()).value(), *v6);
}

TEST(InetAddressTest, DamagedInputIsRefused) {
  for (const char* hex : {"", "04", "040a630002", "040a6300022", "06fd", "05", "ff0000"}) {
    std::string bytes = (std::string(hex).size() % 2) ? std::string("\x04\x0a", 2)
                                                     : FromHex(hex);
    Reader r(bytes);
    EXPECT_FALSE(ReadInetAddress(r).ok()) << hex;
    EXPECT_FALSE(r.ok()) << hex;
  }
  for (const char* text : {"", "10.0.0.1", "10.0.0.1/", "10.0.0.1/65536", "10.0.0/1",
                           "hello/1", "10.0.0.1/-1", "::g/1"}) {
    EXPECT_FALSE(InetAddress::FromString(text).ok()) << text;
  }
}

}  // namespace
}  // namespace almanac::zt
