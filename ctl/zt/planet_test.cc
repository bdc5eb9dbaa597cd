// Planet files from the two 1.14.1 labs: parse into the recorded world id, timestamp,
// signing key and root, verify their signatures, and refuse any damaged copy.
#include "ctl/zt/planet.h"

#include <string>

#include "base/testing.h"
#include "ctl/zt/wire_testing.h"
#include "gtest/gtest.h"

namespace almanac::zt {
namespace {

using ::almanac::zt::testing::FromHex;
using ::almanac::zt::testing::LoadVectorJson;
using ::almanac::zt::testing::ToHex;

class PlanetTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PlanetTest, ParsesAndVerifiesTheLabPlanet) {
  const std::string dir = GetParam();
  const std::string bytes =
      almanac::testing::ReadFileOrFail(almanac::testing::VectorsDir() + "/" + dir + "planet");
  const nlohmann::json lab = LoadVectorJson(dir + "lab.json");
  absl::StatusOr<World> world = ParseWorld(bytes);
  ASSERT_TRUE(world.ok()) << world.status();
  EXPECT_EQ(world->type, World::Type::kPlanet);
  EXPECT_EQ(world->id, lab["world_id"].get<uint64_t>());
  EXPECT_EQ(world->timestamp, lab["world_timestamp"].get<uint64_t>());
  EXPECT_EQ(ToHex(std::string(world->update_signing_key.begin(),
                              world->update_signing_key.end())),
            lab["world_signing_public"]);
  ASSERT_EQ(world->roots.size(), 1u);
  const std::string root_public = lab["nodes"]["R"]["public"];  // address:0:public
  EXPECT_EQ(ToHex(world->roots[0].identity.Serialize().substr(0, 5)),
            lab["nodes"]["R"]["address"]);
  EXPECT_EQ(ToHex(world->roots[0].identity.Serialize().substr(6, 64)),
            root_public.substr(13));
  ASSERT_EQ(world->roots[0].endpoints.size(), 1u);
  EXPECT_EQ(world->roots[0].endpoints[0].ToString(), "10.99.0.1/9991");
  EXPECT_EQ(world->signed_bytes.size(), bytes.size() - 96 + 16);
  EXPECT_TRUE(VerifyWorld(*world, world->update_signing_key).ok());

  // Any changed byte breaks the parse or the signature.
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    absl::StatusOr<World> w = ParseWorld(bad);
    if (!w.ok()) continue;
    EXPECT_EQ(VerifyWorld(*w, world->update_signing_key).code(), absl::StatusCode::kDataLoss)
        << "byte " << i;
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(ParseWorld(bytes.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(ParseWorld(bytes + std::string(1, '\0')).ok());
}

INSTANTIATE_TEST_SUITE_P(Labs, PlanetTest, ::testing::Values("", "fragmented/"));

TEST(WorldTest, RefusesOtherTypesAndTooManyRoots) {
  std::string bytes(1 + 8 + 8 + 64 + 96 + 1, '\0');
  bytes[0] = 2;
  EXPECT_EQ(ParseWorld(bytes).status().code(), absl::StatusCode::kInvalidArgument);
  bytes[0] = 1;
  EXPECT_TRUE(ParseWorld(bytes).ok());  // No roots: well-formed, if useless.
  bytes.back() = 5;
  EXPECT_EQ(ParseWorld(bytes).status().code(), absl::StatusCode::kResourceExhausted);
  bytes.back() = 0;
  bytes[0] = 127;  // A moon needs its 2 trailing length bytes.
  EXPECT_FALSE(ParseWorld(bytes).ok());
  EXPECT_TRUE(ParseWorld(bytes + FromHex("0000")).ok());
}

}  // namespace
}  // namespace almanac::zt
