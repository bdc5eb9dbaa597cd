#include "ctl/netconf/test_peers.h"

#include <sodium.h>

#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "ctl/zt/dictionary.h"
#include "ctl/zt/wire.h"
#include "gtest/gtest.h"

namespace almanac::netconf {

zt::Identity CheapIdentity(uint64_t address, bool with_secret, absl::BitGen& rng) {
  std::string bin;
  zt::AppendUint(bin, zt::kAddressBytes, address);
  bin.push_back('\0');
  uint8_t scalar[32], x_pub[32], seed[32], ed_pub[32], ed_sk[64];
  for (auto& b : scalar) b = absl::Uniform<uint8_t>(rng);
  for (auto& b : seed) b = absl::Uniform<uint8_t>(rng);
  crypto_scalarmult_base(x_pub, scalar);
  crypto_sign_seed_keypair(ed_pub, ed_sk, seed);
  bin.append(reinterpret_cast<char*>(x_pub), 32);
  bin.append(reinterpret_cast<char*>(ed_pub), 32);
  if (with_secret) {
    bin.push_back('\x40');
    bin.append(reinterpret_cast<char*>(scalar), 32);
    bin.append(reinterpret_cast<char*>(seed), 32);
  } else {
    bin.push_back('\0');
  }
  auto id = zt::Identity::FromBinary(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bin.data()), bin.size()), nullptr);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *id : zt::Identity();
}

std::string ConfigRequestPayload(uint64_t nwid) {
  zt::Dictionary d;
  for (auto [k, v] : std::vector<std::pair<const char*, uint64_t>>{
           {"v", 7}, {"pv", 12}, {"majv", 1}, {"minv", 14}, {"revv", 1}, {"revr", 1}}) {
    EXPECT_TRUE(d.SetUint64(k, v).ok());
  }
  std::string meta = d.Encode();
  std::string p;
  zt::AppendUint(p, 8, nwid);
  zt::AppendUint(p, 2, meta.size());
  p += meta;
  return p;
}

}  // namespace almanac::netconf
