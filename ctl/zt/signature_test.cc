// Identity::Sign / Verify against zerotier-idtool 1.14.1 (signatures.json): every recorded
// signature is reproduced byte for byte, and every tampered variant gets idtool's verdict
// except the one where Almanac is deliberately stricter (S+L malleation).
#include <sodium.h>

#include <set>
#include <string>
#include <vector>

#include "base/testing.h"
#include "ctl/zt/identity.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace almanac::zt {
namespace {

using ::nlohmann::json;

std::vector<uint8_t> Unhex(const std::string& hex) {
  std::vector<uint8_t> out(hex.size() / 2 + 1);
  size_t len = 0;
  EXPECT_EQ(sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr),
            0)
      << hex;
  out.resize(len);
  return out;
}

std::string Hex(absl::Span<const uint8_t> bytes) {
  std::string out(2 * bytes.size() + 1, '\0');
  sodium_bin2hex(&out[0], out.size(), bytes.data(), bytes.size());
  out.resize(2 * bytes.size());
  return out;
}

Identity ParseOrDie(const std::string& text) {
  absl::StatusOr<Identity> id = Identity::FromString(text);
  EXPECT_TRUE(id.ok()) << id.status() << " for " << text;
  return id.ok() ? *id : Identity();
}

// The one case where idtool says "valid" and Almanac (libsodium's strict verify) says no.
constexpr char kStricterCase[] = "S_plus_L_malleated";

TEST(SignatureTest, EverySignatureAndTamperedVariantGetsIdtoolsVerdict) {
  std::string text = testing::ReadFileOrFail(testing::VectorsDir() + "/signatures.json");
  json vectors = json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(vectors.is_discarded());
  ASSERT_EQ(vectors["identities"].size(), 4u);
  size_t checked = 0;
  std::set<std::string> cases;
  for (const json& ident : vectors["identities"]) {
    SCOPED_TRACE(ident["address"].get<std::string>());
    Identity signer = ParseOrDie(ident["secret"]);
    Identity verifier = ParseOrDie(ident["public"]);
    ASSERT_EQ(ident["signatures"].size(), 4u);
    for (const json& sig : ident["signatures"]) {
      SCOPED_TRACE(sig["message_name"].get<std::string>());
      const std::vector<uint8_t> message = Unhex(sig["message_hex"]);
      // Deterministic and byte-identical to idtool's own output.
      EXPECT_EQ(Hex(signer.Sign(message)), sig["signature"]);
      ASSERT_EQ(sig["idtool_verify"], "valid");
      EXPECT_TRUE(verifier.Verify(message, Unhex(sig["signature"])));
      ++checked;
      ASSERT_EQ(sig["tampered"].size(), 9u);
      for (const json& t : sig["tampered"]) {
        const std::string name = t["case"];
        SCOPED_TRACE(name);
        cases.insert(name);
        const std::vector<uint8_t> tampered_message =
            t["message_hex"].is_null() ? message : Unhex(t["message_hex"]);
        const Identity against =
            t.contains("verify_with") ? ParseOrDie(t["verify_with"]) : verifier;
        const std::vector<uint8_t> signature = Unhex(t["signature"]);
        absl::Status status = against.CheckSignature(tampered_message, signature);
        EXPECT_EQ(against.Verify(tampered_message, signature), status.ok());
        ++checked;
        if (name == kStricterCase) {
          ASSERT_EQ(t["idtool_verify"], "valid");
          ASSERT_EQ(sig["S_plus_L_libsodium_strict_verify"], false);
          EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
          EXPECT_NE(status.message().find("malleated"), absl::string_view::npos) << status;
          continue;
        }
        EXPECT_EQ(status.ok(), t["idtool_verify"] == "valid") << status;
        if (!status.ok()) {
          EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
        }
      }
    }
  }
  EXPECT_EQ(checked, 4u * 4u * 10u);
  EXPECT_EQ(cases.size(), 9u);
  EXPECT_EQ(cases.count(kStricterCase), 1u);
}

TEST(SignatureTest, SignVerifyRoundTripAndLengthRule) {
  std::string text = testing::ReadFileOrFail(testing::VectorsDir() + "/signatures.json");
  json vectors = json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(vectors.is_discarded());
  Identity a = ParseOrDie(vectors["identities"][0]["secret"]);
  Identity b = ParseOrDie(vectors["identities"][1]["secret"]);
  const std::string msg = "almanac round trip";
  auto bytes = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(msg.data()), msg.size());
  const auto signature = a.Sign(bytes);
  EXPECT_TRUE(a.Verify(bytes, signature));
  EXPECT_FALSE(b.Verify(bytes, signature));
  EXPECT_FALSE(a.Verify(bytes.subspan(1), signature));
  std::vector<uint8_t> longer(signature.begin(), signature.end());
  longer.push_back(0);
  EXPECT_FALSE(a.Verify(bytes, longer));
  EXPECT_FALSE(a.Verify(bytes, absl::MakeConstSpan(signature).subspan(0, 95)));
  // Every single bit matters.
  for (size_t i = 0; i < kSignatureBytes; i += 7) {
    auto flipped = signature;
    flipped[i] ^= 0x04;
    EXPECT_FALSE(a.Verify(bytes, flipped)) << "byte " << i;
  }
}

}  // namespace
}  // namespace almanac::zt
