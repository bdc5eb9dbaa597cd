// HELLO, OK, ERROR and NETWORK_CONFIG_REQUEST payloads against the 1.14.1 captures:
// parsed fields must equal the recorded decode, and the builders must reproduce the
// bytes real nodes sent. Also: request metadata and netconf dictionaries parse into the
// recorded keys and values and encode back to the same bytes.
#include "ctl/zt/messages.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "ctl/zt/dictionary.h"
#include "ctl/zt/wire_testing.h"
#include "gtest/gtest.h"

namespace almanac::zt {
namespace {

using ::almanac::zt::testing::FromHex;
using ::almanac::zt::testing::LoadVectorJson;
using ::almanac::zt::testing::PairKey;
using ::almanac::zt::testing::ToHex;
using json = nlohmann::json;

// The payload (after the verb byte) as recorded, decrypted and decompressed.
std::string RecordedPayload(const json& decoded) {
  return FromHex(decoded["payload_plain_hex"].get<std::string>()).substr(1);
}

class MessagesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    exchange_ = LoadVectorJson(GetParam());
    ASSERT_TRUE(exchange_.is_object());
  }
  // Calls f(entry, decoded) for every packet whose decoded verb is `verb`.
  template <typename F>
  size_t ForEachVerb(const std::string& verb, F f) {
    size_t n = 0;
    for (const json& d : exchange_["packets"]) {
      if (!d.contains("decoded") || d["decoded"]["verb"] != verb) continue;
      f(d, d["decoded"]);
      ++n;
    }
    return n;
  }
  json exchange_;
};

TEST_P(MessagesTest, HelloFieldsMatchTheRecordedDecode) {
  const size_t n = ForEachVerb("HELLO", [&](const json& d, const json& decoded) {
    const std::string wire = FromHex(d["udp_payload_hex"].get<std::string>());
    absl::StatusOr<Hello> hello = ParseHello(wire);
    ASSERT_TRUE(hello.ok()) << hello.status();
    const json& f = decoded["fields"];
    EXPECT_EQ(hello->version.protocol, f["protocol_version"].get<int>());
    EXPECT_EQ(absl::StrCat(hello->version.major, ".", hello->version.minor, ".",
                           hello->version.revision),
              f["version"].get<std::string>());
    EXPECT_EQ(hello->timestamp, f["timestamp"].get<uint64_t>());
    EXPECT_EQ(ToHex(hello->identity.Serialize().substr(0, 5)), f["identity"]["address"]);
    EXPECT_EQ(ToHex(hello->identity.Serialize().substr(6, 64)), f["identity"]["public"]);
    EXPECT_EQ(hello->destination.ToString(), f["sent_to"]);
    EXPECT_EQ(hello->planet_id, f["planet_world_id"].get<uint64_t>());
    EXPECT_EQ(hello->planet_timestamp, f["planet_world_timestamp"].get<uint64_t>());
    EXPECT_EQ(hello->tail_offset, f["encrypted_tail_offset_in_packet"].get<size_t>());
    std::string packet = wire;
    CryptHelloTail(packet, hello->tail_offset,
                   PairKey(exchange_, decoded["src_zt"], decoded["dst_zt"]));
    EXPECT_EQ(ToHex(packet.substr(hello->tail_offset)), f["encrypted_tail_plain_hex"]);
    // Damaged HELLOs are refused: every truncation, a bad identity type, a secret.
    for (size_t cut = 0; cut < hello->tail_offset; ++cut) {
      EXPECT_FALSE(ParseHello(wire.substr(0, cut)).ok()) << cut;
    }
    std::string bad = wire;
    bad[kPayloadOffset + 13 + 5] = 1;
    EXPECT_FALSE(ParseHello(bad).ok());
    bad = wire;
    bad[kPayloadOffset + 13 + 70] = 64;
    EXPECT_FALSE(ParseHello(bad).ok());
  });
  EXPECT_EQ(n, 8u);
}

TEST_P(MessagesTest, OkHelloBuilderReproducesTheNodesBytes) {
  size_t ok_hello = 0;
  ForEachVerb("OK", [&](const json& d, const json& decoded) {
    const std::string payload = RecordedPayload(decoded);
    absl::StatusOr<OkMessage> ok = ParseOk(payload);
    ASSERT_TRUE(ok.ok());
    const json& f = decoded["fields"];
    EXPECT_EQ(ToHex(std::string(8, '\0').replace(0, 8, payload.substr(1, 8))),
              f["in_re_packet_id"]);
    if (f["in_re_verb"] != "HELLO") return;
    EXPECT_EQ(ok->in_re_verb, Verb::kHello);
    absl::StatusOr<InetAddress> source =
        InetAddress::FromString(f["your_address"].get<std::string>());
    ASSERT_TRUE(source.ok());
    const VersionInfo v{12, 1, 14, 1};
    ASSERT_EQ(f["version"], "1.14.1");
    const std::string built = BuildOkHelloPayload(
        ok->in_re_packet_id, f["timestamp_echo"].get<uint64_t>(), v, *source);
    EXPECT_EQ(ToHex(built), ToHex(payload)) << d["index"];
    ++ok_hello;
  });
  EXPECT_EQ(ok_hello, 8u);
}

TEST_P(MessagesTest, ErrorsParseAndRebuild) {
  const size_t n = ForEachVerb("ERROR", [&](const json& d, const json& decoded) {
    const std::string payload = RecordedPayload(decoded);
    absl::StatusOr<ErrorMessage> e = ParseError(payload);
    ASSERT_TRUE(e.ok());
    const json& f = decoded["fields"];
    EXPECT_EQ(e->in_re_verb, Verb::kNetworkConfigRequest);
    EXPECT_EQ(e->code, f["error_code"].get<int>());
    EXPECT_EQ(ToHex(e->body), f["network_id"]);
    EXPECT_EQ(payload.size(), 18u) << d["index"];
    EXPECT_EQ(BuildErrorPayload(e->in_re_verb, e->in_re_packet_id,
                                static_cast<ErrorCode>(e->code), e->body),
              payload);
    for (size_t cut = 0; cut < 10; ++cut) {
      EXPECT_FALSE(ParseError(payload.substr(0, cut)).ok());
    }
  });
  EXPECT_GE(n, 1u);
}

TEST_P(MessagesTest, ConfigRequestMetadataParsesIntoTheRecordedValues) {
  const size_t n =
      ForEachVerb("NETWORK_CONFIG_REQUEST", [&](const json& d, const json& decoded) {
        const std::string payload = RecordedPayload(decoded);
        absl::StatusOr<ConfigRequest> req = ParseConfigRequest(payload);
        ASSERT_TRUE(req.ok()) << req.status();
        const json& f = decoded["fields"];
        EXPECT_EQ(ToHex(payload.substr(0, 8)), f["network_id"]);
        EXPECT_EQ(req->metadata.size(), f["metadata_len"].get<size_t>());
        EXPECT_EQ(req->have_revision, f["have_revision"].get<uint64_t>());
        EXPECT_EQ(req->have_timestamp, f["have_timestamp"].get<uint64_t>());
        absl::StatusOr<Dictionary> meta = Dictionary::Parse(req->metadata);
        ASSERT_TRUE(meta.ok()) << meta.status();
        EXPECT_EQ(meta->size(), f["metadata"].size());
        for (const auto& [key, value] : f["metadata"].items()) {
          EXPECT_EQ(meta->Get(key), std::optional<std::string_view>(value.get<std::string>()))
              << d["index"] << " " << key;
        }
        EXPECT_EQ(*meta->GetUint64("v"), 7u);
        EXPECT_EQ(*meta->GetUint64("pv"), 12u);
        EXPECT_EQ(meta->Encode(), req->metadata);
        for (size_t cut = 0; cut < 10 + req->metadata.size(); ++cut) {
          EXPECT_FALSE(ParseConfigRequest(payload.substr(0, cut)).ok()) << cut;
        }
      });
  EXPECT_GE(n, 4u);
}

TEST_P(MessagesTest, NetconfDictionariesParseIntoTheRecordedKeys) {
  size_t n = 0;
  for (const json& d : exchange_["packets"]) {
    if (!d.contains("decoded") || !d["decoded"]["fields"].contains("dictionary_raw_hex")) {
      continue;
    }
    const json& f = d["decoded"]["fields"];
    const std::string raw = FromHex(f["dictionary_raw_hex"].get<std::string>());
    absl::StatusOr<Dictionary> dict = Dictionary::Parse(raw);
    ASSERT_TRUE(dict.ok()) << dict.status();
    EXPECT_EQ(dict->size(), f["dictionary"].size());
    for (const auto& [key, rec] : f["dictionary"].items()) {
      std::optional<std::string_view> v = dict->Get(key);
      ASSERT_TRUE(v.has_value()) << key;
      EXPECT_EQ(v->size(), rec["len"].get<size_t>()) << key;
      if (rec.contains("text")) {
        EXPECT_EQ(*v, rec["text"].get<std::string>()) << key;
      } else {
        EXPECT_EQ(ToHex(*v), rec["hex"].get<std::string>()) << key;
      }
    }
    EXPECT_EQ(*dict->GetUint64("v"), 7u);
    EXPECT_EQ(*dict->GetUint64("ctmd"), 0x1b7740u);
    EXPECT_EQ(ToHex(dict->Encode()), ToHex(raw));  // Same escapes as the node's encoder.
    EXPECT_EQ(dict->encoded_bytes(), raw.size());
    ++n;
  }
  EXPECT_GE(n, 3u);
}

TEST_P(MessagesTest, EchoAcknowledgementParses) {
  size_t echoes = 0;
  ForEachVerb("OK", [&](const json&, const json& decoded) {
    if (decoded["fields"]["in_re_verb"] != "ECHO") return;
    const std::string payload = RecordedPayload(decoded);  // ParseOk borrows it.
    absl::StatusOr<OkMessage> ok = ParseOk(payload);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->in_re_verb, Verb::kEcho);
    EXPECT_EQ(ToHex(ok->body), decoded["fields"]["echo_payload_hex"]);
    ++echoes;
  });
  EXPECT_GE(echoes, 1u);
}

INSTANTIATE_TEST_SUITE_P(Captures, MessagesTest,
                         ::testing::Values("exchange.json", "fragmented/exchange.json"));

TEST(MessagesTest, OkAndErrorNeedTheirHeaders) {
  EXPECT_FALSE(ParseOk(std::string(8, '\0')).ok());
  EXPECT_TRUE(ParseOk(std::string(9, '\0')).ok());
  EXPECT_FALSE(ParseError(std::string(9, '\0')).ok());
  EXPECT_TRUE(ParseError(std::string(10, '\0')).ok());
  EXPECT_FALSE(ParseConfigRequest(FromHex("0102030405060708000000")).ok());  // 1 of 16.
  EXPECT_TRUE(ParseConfigRequest(FromHex("01020304050607080000")).ok());
}

}  // namespace
}  // namespace almanac::zt
