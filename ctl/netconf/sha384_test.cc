// Goal: SHA-384 matches FIPS 180-4 on inputs around the one- and two-block padding edges
// (expected digests from Python's hashlib).
#include "ctl/netconf/sha384.h"

#include <string>

#include "gtest/gtest.h"

namespace almanac::netconf {
namespace {

std::string Hex(const std::array<uint8_t, kSha384Bytes>& d) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s.push_back(k[b >> 4]);
    s.push_back(k[b & 15]);
  }
  return s;
}

std::string Of(const std::string& m) {
  return Hex(Sha384(reinterpret_cast<const uint8_t*>(m.data()), m.size()));
}

TEST(Sha384, KnownDigests) {
  EXPECT_EQ(Of(""), "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b");
  EXPECT_EQ(Of("abc"), "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(Of(std::string(111, 'a')), "3c37955051cb5c3026f94d551d5b5e2ac38d572ae4e07172085fed81f8466b8f90dc23a8ffcdea0b8d8e58e8fdacc80a");
  EXPECT_EQ(Of(std::string(112, 'a')), "187d4e07cb306103c69967bf544d0dfbe9042577599c73c330abc0cb64c61236d5ed565ee19119d8c31779a38f791fcd");
  EXPECT_EQ(Of(std::string(300, 'a')), "0541e349b6d06749a852ae0a68db73f98620879de6b5b3743d7fca7dda0f81d83b0ca596f710542ed343f1b4214d508c");
}

}  // namespace
}  // namespace almanac::netconf
