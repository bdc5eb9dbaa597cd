#include "ctl/replication/protocol.h"

#include <sodium.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/replication/limits.h"

namespace almanac::replication {
namespace {

constexpr std::string_view kRootContext = "almanac-replication-v1";
constexpr std::string_view kStandbyToPrimary = "standby->primary";
constexpr std::string_view kPrimaryToStandby = "primary->standby";

void PutU64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}
uint32_t GetU32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

Key Blake2bKeyed(const uint8_t* key, size_t key_bytes, const std::string& message) {
  Key out{};
  ALMANAC_CHECK(crypto_generichash(out.data(), out.size(),
                                   reinterpret_cast<const uint8_t*>(message.data()),
                                   message.size(), key, key_bytes) == 0);
  return out;
}

std::array<uint8_t, crypto_aead_chacha20poly1305_IETF_NPUBBYTES> Nonce(uint64_t counter) {
  std::array<uint8_t, crypto_aead_chacha20poly1305_IETF_NPUBBYTES> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(counter >> (8 * (7 - i)));
  return nonce;
}

absl::Status Size(std::string_view payload, size_t want, const char* what) {
  if (payload.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " payload of ", payload.size(), " bytes, want ", want));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeHello(const Hello& hello) {
  std::string out(kHelloMagic);
  out.push_back(static_cast<char>(hello.role));
  for (int i = 4; i >= 0; --i) out.push_back(static_cast<char>((hello.address >> (8 * i)) & 0xff));
  out.append(2, '\0');
  out.append(reinterpret_cast<const char*>(hello.nonce.data()), hello.nonce.size());
  ALMANAC_CHECK(out.size() == kHelloBytes);
  return out;
}

absl::StatusOr<Hello> DecodeHello(std::string_view bytes) {
  if (bytes.size() != kHelloBytes) return absl::InvalidArgumentError("hello: wrong size");
  if (bytes.substr(0, kHelloMagic.size()) != kHelloMagic) {
    return absl::InvalidArgumentError(
        "hello: not an Almanac replication peer (bad magic)");
  }
  Hello hello;
  const uint8_t role = static_cast<uint8_t>(bytes[8]);
  if (role != 1 && role != 2) return absl::InvalidArgumentError("hello: unknown role");
  hello.role = static_cast<Role>(role);
  for (size_t i = 9; i < 14; ++i) {
    hello.address = (hello.address << 8) | static_cast<uint8_t>(bytes[i]);
  }
  if (bytes[14] != 0 || bytes[15] != 0) return absl::InvalidArgumentError("hello: bad padding");
  std::memcpy(hello.nonce.data(), bytes.data() + 16, kNonceBytes);
  return hello;
}

SessionKeys DeriveSessionKeys(const zt::Identity& identity, Role me,
                              const std::string& standby_hello,
                              const std::string& primary_hello) {
  ALMANAC_CHECK(identity.has_secret());
  const std::string binary_secret = identity.ToBinary(/*include_secret=*/true);
  const std::string binary_public = identity.ToBinary(/*include_secret=*/false);
  ALMANAC_CHECK(binary_secret.size() == zt::kIdentityBinarySecretBytes);
  // The secret is the last 64 bytes of the binary form.
  const uint8_t* secret = reinterpret_cast<const uint8_t*>(binary_secret.data()) +
                          zt::kIdentityBinaryPublicBytes;
  const Key root = Blake2bKeyed(secret, zt::kSecretKeyBytes,
                                std::string(kRootContext) + binary_public);
  std::string wipe = binary_secret;
  sodium_memzero(wipe.data(), wipe.size());
  const std::string transcript = standby_hello + primary_hello;
  const Key sp = Blake2bKeyed(root.data(), root.size(),
                              std::string(kStandbyToPrimary) + transcript);
  const Key ps = Blake2bKeyed(root.data(), root.size(),
                              std::string(kPrimaryToStandby) + transcript);
  return me == Role::kStandby ? SessionKeys{sp, ps} : SessionKeys{ps, sp};
}

std::string SealFrame(const Key& key, uint64_t counter, MessageType type,
                      std::string_view payload) {
  ALMANAC_CHECK(1 + payload.size() <= kFramePlaintextMax);
  std::string plain;
  plain.reserve(1 + payload.size());
  plain.push_back(static_cast<char>(type));
  plain.append(payload);
  std::string out;
  PutU32(&out, static_cast<uint32_t>(plain.size() + kTagBytes));
  out.resize(kFrameHeaderBytes + plain.size() + kTagBytes);
  unsigned long long written = 0;
  const auto nonce = Nonce(counter);
  ALMANAC_CHECK(crypto_aead_chacha20poly1305_ietf_encrypt(
                    reinterpret_cast<uint8_t*>(out.data()) + kFrameHeaderBytes, &written,
                    reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
                    reinterpret_cast<const uint8_t*>(out.data()), kFrameHeaderBytes, nullptr,
                    nonce.data(), key.data()) == 0);
  ALMANAC_CHECK(written == plain.size() + kTagBytes);
  return out;
}

absl::StatusOr<uint32_t> FrameLength(std::string_view header4) {
  ALMANAC_CHECK(header4.size() == kFrameHeaderBytes);
  const uint32_t n = GetU32(header4, 0);
  if (n < 1 + kTagBytes || n > kFramePlaintextMax + kTagBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "frame of ", n, " bytes is outside 17..", kFramePlaintextMax + kTagBytes));
  }
  return n;
}

absl::StatusOr<Message> OpenFrame(const Key& key, uint64_t counter, std::string_view header4,
                                  std::string_view ciphertext) {
  if (ciphertext.size() < 1 + kTagBytes) return absl::InvalidArgumentError("frame too short");
  std::string plain(ciphertext.size() - kTagBytes, '\0');
  unsigned long long plain_bytes = 0;
  const auto nonce = Nonce(counter);
  if (crypto_aead_chacha20poly1305_ietf_decrypt(
          reinterpret_cast<uint8_t*>(plain.data()), &plain_bytes, nullptr,
          reinterpret_cast<const uint8_t*>(ciphertext.data()), ciphertext.size(),
          reinterpret_cast<const uint8_t*>(header4.data()), header4.size(), nonce.data(),
          key.data()) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "frame ", counter, " does not authenticate (altered, replayed or reordered, or the "
        "peer does not hold this controller's identity)"));
  }
  const uint8_t type = static_cast<uint8_t>(plain[0]);
  if (type < 1 || type > 8) {
    return absl::InvalidArgumentError(absl::StrCat("unknown message type ", type));
  }
  return Message{static_cast<MessageType>(type), plain.substr(1)};
}

std::string EncodeAuth(const AuthInfo& auth) {
  std::string out;
  PutU64(&out, auth.epoch);
  PutU64(&out, auth.last_seq);
  return out;
}

absl::StatusOr<AuthInfo> DecodeAuth(std::string_view payload) {
  if (absl::Status s = Size(payload, 16, "AUTH"); !s.ok()) return s;
  return AuthInfo{GetU64(payload, 0), GetU64(payload, 8)};
}

std::string EncodeSeqHash(const SeqHash& value) {
  std::string out;
  PutU64(&out, value.seq);
  out.append(reinterpret_cast<const char*>(value.hash.data()), value.hash.size());
  return out;
}

absl::StatusOr<SeqHash> DecodeSeqHash(std::string_view payload) {
  if (absl::Status s = Size(payload, 8 + journal::kChainHashBytes, "FOLLOW/PROBE"); !s.ok()) {
    return s;
  }
  SeqHash v;
  v.seq = GetU64(payload, 0);
  if (v.seq > journal::kSeqMax) return absl::InvalidArgumentError("seq out of range");
  std::memcpy(v.hash.data(), payload.data() + 8, v.hash.size());
  return v;
}

std::string EncodeProbeReply(const ProbeReply& reply) {
  std::string out;
  PutU64(&out, reply.seq);
  out.push_back(reply.match ? 1 : 0);
  PutU64(&out, reply.last);
  return out;
}

absl::StatusOr<ProbeReply> DecodeProbeReply(std::string_view payload) {
  if (absl::Status s = Size(payload, 17, "PROBE_REPLY"); !s.ok()) return s;
  const uint8_t match = static_cast<uint8_t>(payload[8]);
  if (match > 1) return absl::InvalidArgumentError("PROBE_REPLY: match is not 0 or 1");
  return ProbeReply{GetU64(payload, 0), match == 1, GetU64(payload, 9)};
}

std::string EncodeRecords(uint64_t last, const std::vector<std::string>& records) {
  ALMANAC_CHECK(!records.empty() && records.size() <= kRecordsFrameRecordsMax);
  std::string out;
  PutU64(&out, last);
  PutU32(&out, static_cast<uint32_t>(records.size()));
  for (const std::string& r : records) {
    PutU32(&out, static_cast<uint32_t>(r.size()));
    out.append(r);
  }
  ALMANAC_CHECK(1 + out.size() <= kFramePlaintextMax);
  return out;
}

absl::StatusOr<RecordsMessage> DecodeRecords(std::string_view payload) {
  if (payload.size() < 12) return absl::InvalidArgumentError("RECORDS: too short");
  RecordsMessage m;
  m.last = GetU64(payload, 0);
  const uint32_t count = GetU32(payload, 8);
  if (count == 0 || count > kRecordsFrameRecordsMax) {
    return absl::InvalidArgumentError(absl::StrCat("RECORDS: count ", count, " outside 1..",
                                                   kRecordsFrameRecordsMax));
  }
  size_t at = 12;
  m.records.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (payload.size() - at < 4) return absl::InvalidArgumentError("RECORDS: truncated");
    const uint32_t len = GetU32(payload, at);
    at += 4;
    if (len == 0 || len > journal::kRecordBytesMax || payload.size() - at < len) {
      return absl::InvalidArgumentError("RECORDS: bad record length");
    }
    m.records.emplace_back(payload.substr(at, len));
    at += len;
  }
  if (at != payload.size()) return absl::InvalidArgumentError("RECORDS: trailing bytes");
  return m;
}

std::string EncodeU64(uint64_t value) {
  std::string out;
  PutU64(&out, value);
  return out;
}

absl::StatusOr<uint64_t> DecodeU64(std::string_view payload) {
  if (absl::Status s = Size(payload, 8, "ACK/HEARTBEAT"); !s.ok()) return s;
  return GetU64(payload, 0);
}

}  // namespace almanac::replication
