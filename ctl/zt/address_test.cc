#include "ctl/zt/address.h"

#include "gtest/gtest.h"

namespace almanac::zt {
namespace {

TEST(AddressTest, PrintsTenLowerCaseDigits) {
  EXPECT_EQ(AddressToString(0xab), "00000000ab");
  EXPECT_EQ(AddressToString(0x949cb95e9dULL), "949cb95e9d");
  EXPECT_EQ(AddressToString(0x12949cb95e9dULL), "949cb95e9d");  // only 40 bits
}

TEST(AddressTest, ParsesExactlyTenHexDigits) {
  absl::StatusOr<uint64_t> a = ParseAddress("949cb95e9d");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, 0x949cb95e9dULL);
  a = ParseAddress("949CB95E9D");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, 0x949cb95e9dULL);
  for (const char* bad : {"", "949cb95e9", "949cb95e9d0", "949cb95e9g", " 949cb95e9", "0000000000",
                          "ff00000001", "ffffffffff", "-49cb95e9d"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<uint64_t> parsed = ParseAddress(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(ParseAddress("fe00000000").ok());
}

TEST(AddressTest, ReservedAndWireForm) {
  EXPECT_TRUE(IsReservedAddress(0));
  EXPECT_TRUE(IsReservedAddress(0xff12345678ULL));
  EXPECT_FALSE(IsReservedAddress(0xfe12345678ULL));
  EXPECT_FALSE(IsReservedAddress(1));
  uint8_t bytes[kAddressBytes];
  AddressToBytes(0x949cb95e9dULL, bytes);
  EXPECT_EQ(bytes[0], 0x94);
  EXPECT_EQ(bytes[4], 0x9d);
  EXPECT_EQ(AddressFromBytes(bytes), 0x949cb95e9dULL);
}

}  // namespace
}  // namespace almanac::zt
