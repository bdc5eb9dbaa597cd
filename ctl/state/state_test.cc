// Goal: the model's helpers and conversions are exact: identity text round trips (and
// matches ZeroTier's captured member JSON), config structs survive FlatBuffers both ways
// with the schema's defaults, and equality sees every field.
#include "ctl/state/state.h"

#include <random>

#include "ctl/state/convert.h"
#include "ctl/state/random_stream.h"
#include "gtest/gtest.h"

namespace almanac::state {
namespace {

// From shared/vectors/zerotier-1.14.1/controller_member.json.
constexpr char kIdentity[] =
    "73d8c8d12f:0:31c3e45347e16147c20108315af8f65e94577e78a060001a2ae016687f810f47a62eb6814b9"
    "bf18f66e6be94cd7157d151d538d8b33a2db911c1053ae1c24ed1";

TEST(StateTest, IdentityTextRoundTrips) {
  Member member;
  ASSERT_TRUE(ParseIdentityText(kIdentity, &member.address, &member.identity_public));
  EXPECT_EQ(member.address, 0x73d8c8d12fu);
  EXPECT_EQ(member.identity_public[0], 0x31);
  EXPECT_EQ(member.identity_public[63], 0xd1);
  EXPECT_EQ(IdentityText(member), "");  // no identity yet
  member.has_identity = true;
  EXPECT_EQ(IdentityText(member), kIdentity);
  EXPECT_EQ(AddressHex(0x73d8c8d12f), "73d8c8d12f");
  EXPECT_EQ(AddressHex(0x1), "0000000001");
  EXPECT_EQ(NetworkIdHex(0x949cb95e9d7ceef9), "949cb95e9d7ceef9");
}

TEST(StateTest, MalformedIdentityTextIsRefused) {
  uint64_t address = 7;
  std::array<uint8_t, kIdentityPublicBytes> key{};
  const std::string good = kIdentity;
  for (const std::string& bad :
       {std::string(""), good.substr(0, good.size() - 1), good + "0",
        good + ":" + std::string(128, '0'),  // secrets never enter the state
        std::string(good).replace(11, 1, "1"), std::string(good).replace(3, 1, "g"),
        std::string(good).replace(40, 1, "z"), std::string(good).replace(10, 1, "-")}) {
    EXPECT_FALSE(ParseIdentityText(bad, &address, &key)) << bad;
  }
  EXPECT_EQ(address, 7u);  // untouched on failure
}

TEST(StateTest, CredentialTypes) {
  for (CredentialType type : {CredentialType::kNone, CredentialType::kApi,
                              CredentialType::kPublic, CredentialType::kImport,
                              CredentialType::kSso}) {
    EXPECT_EQ(ParseCredentialType(CredentialTypeName(type)), type);
  }
  EXPECT_EQ(ParseCredentialType("API"), std::nullopt);
}

TEST(StateTest, DefaultsMatchTheSchema) {
  flatbuffers::FlatBufferBuilder b;
  b.Finish(schema::CreateNetworkConfig(b));
  EXPECT_EQ(NetworkConfigFromFlat(
                flatbuffers::GetRoot<schema::NetworkConfig>(b.GetBufferPointer())),
            NetworkConfig{});
  EXPECT_EQ(NetworkConfigFromFlat(nullptr), NetworkConfig{});
  flatbuffers::FlatBufferBuilder m;
  m.Finish(schema::CreateMemberConfig(m));
  EXPECT_EQ(MemberConfigFromFlat(flatbuffers::GetRoot<schema::MemberConfig>(m.GetBufferPointer())),
            MemberConfig{});
}

TEST(StateTest, ConfigsRoundTripThroughFlatBuffers) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200; ++i) {
    NetworkConfig network = testing::RandomNetworkConfig(rng);
    flatbuffers::FlatBufferBuilder b;
    b.Finish(BuildNetworkConfig(b, network));
    EXPECT_EQ(NetworkConfigFromFlat(
                  flatbuffers::GetRoot<schema::NetworkConfig>(b.GetBufferPointer())),
              network);
    MemberConfig member = testing::RandomMemberConfig(rng);
    flatbuffers::FlatBufferBuilder m;
    m.Finish(BuildMemberConfig(m, member));
    EXPECT_EQ(
        MemberConfigFromFlat(flatbuffers::GetRoot<schema::MemberConfig>(m.GetBufferPointer())),
        member);
  }
  // A set but empty dns stays set (the API renders it differently from unset).
  NetworkConfig with_dns;
  with_dns.dns = Dns{};
  flatbuffers::FlatBufferBuilder b;
  b.Finish(BuildNetworkConfig(b, with_dns));
  EXPECT_TRUE(NetworkConfigFromFlat(
                  flatbuffers::GetRoot<schema::NetworkConfig>(b.GetBufferPointer()))
                  .dns.has_value());
}

TEST(StateTest, EqualitySeesEveryMemberField) {
  Member a;
  a.address = 1;
  std::vector<void (*)(Member&)> edits = {
      [](Member& m) { m.nwid = 9; },
      [](Member& m) { m.config.name = "x"; },
      [](Member& m) { m.config.remote_trace_level = 1; },
      [](Member& m) { m.creation_time_ms = 1; },
      [](Member& m) { m.revision = 1; },
      [](Member& m) { m.last_authorized_time_ms = 1; },
      [](Member& m) { m.last_deauthorized_time_ms = 1; },
      [](Member& m) { m.identity_public[5] = 1; },
      [](Member& m) { m.has_identity = true; },
      [](Member& m) { m.last_authorized_credential_type = CredentialType::kApi; },
  };
  for (auto edit : edits) {
    Member b = a;
    edit(b);
    EXPECT_NE(a, b);
  }
}

}  // namespace
}  // namespace almanac::state
