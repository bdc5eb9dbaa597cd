// The replication link between a primary almanacd and its standby, byte by byte.
// (shared/docs/design.md, "Primary and standby"; docs/replication.md tells the story.)
//
// Both ends hold the same controller identity (nodes reach the controller by its
// ZeroTier address, so a standby that takes over must be that identity). The identity's
// 64-byte secret keys the link; a process without it can neither read nor inject.
//
// 1. Hello (cleartext, kHelloBytes = 48, each side sends one, then reads the peer's):
//      offset size
//      0      8    ASCII "ALMREPL1" (magic and version)
//      8      1    role: 1 standby, 2 primary
//      9      5    controller address, big-endian (public; only for clear errors)
//      14     2    zero
//      16     32   nonce: 32 fresh random bytes per connection
//    A hello with another magic, a role equal to ours, or non-zero padding is refused.
//
// 2. Keys (libsodium crypto_generichash = BLAKE2b, 32-byte outputs):
//      root = BLAKE2b(key = identity secret (64 bytes: X25519 scalar || Ed25519 seed),
//                     msg = "almanac-replication-v1" || identity public binary form
//                           (71 bytes, zt::Identity::ToBinary(false)))
//      k_sp = BLAKE2b(key = root, msg = "standby->primary" || standby hello || primary hello)
//      k_ps = BLAKE2b(key = root, msg = "primary->standby" || standby hello || primary hello)
//    Both hellos (and so both fresh nonces) enter both keys: a frame recorded on one
//    connection decrypts on no other, and a changed hello byte breaks the AUTH frames.
//
// 3. Frames (each direction its own key and counter, counter from 0, +1 per frame):
//      offset size
//      0      4    n: ciphertext length, uint32 big-endian; 17 <= n <= kFramePlaintextMax + 16
//      4      n    ChaCha20-Poly1305-IETF(key, nonce = 4 zero bytes || counter (uint64
//                  big-endian), additional data = the 4 length bytes, plaintext)
//    plaintext = type (1 byte) || payload. A frame that fails to decrypt (altered,
//    replayed, reordered, dropped before it, or from another key) ends the connection;
//    nothing it carried is used.
//
// 4. Messages (integers big-endian; "hash" is a 32-byte journal chain hash):
//      type 1 AUTH        epoch u64 | last_seq u64              first frame, each way
//      type 2 FOLLOW      after_seq u64 | hash(after_seq)       standby -> primary
//      type 3 PROBE       seq u64 | hash(seq)                   standby -> primary
//      type 4 PROBE_REPLY seq u64 | match u8 (0/1) | last u64   primary -> standby
//      type 5 RECORDS     last u64 | count u32 (>= 1) | count x (len u32 | record)
//                                                               primary -> standby
//      type 6 ACK         durable_seq u64                       standby -> primary
//      type 7 HEARTBEAT   last u64                              primary -> standby
//      type 8 REFUSE      reason (UTF-8 text, <= kReasonBytesMax)   either, then close
//    `last` is the primary's last seq when it sent the message (the standby's lag).
//    FOLLOW asks for records after after_seq; the primary answers REFUSE unless it has
//    record after_seq with that very chain hash (after_seq 0: 32 zero bytes), then sends
//    RECORDS in order from after_seq + 1, forever. PROBE asks whether the primary has
//    record seq with that hash (a rejoining former primary finds where the histories
//    part). ACK says the standby has every record up to durable_seq fsynced.
//
// Thread safety: pure functions and values.
#ifndef ALMANAC_CTL_REPLICATION_PROTOCOL_H_
#define ALMANAC_CTL_REPLICATION_PROTOCOL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctl/zt/identity.h"
#include "journal/record_format.h"

namespace almanac::replication {

inline constexpr std::string_view kHelloMagic = "ALMREPL1";
inline constexpr size_t kHelloBytes = 48;
inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kTagBytes = 16;

enum class Role : uint8_t { kStandby = 1, kPrimary = 2 };

enum class MessageType : uint8_t {
  kAuth = 1,
  kFollow = 2,
  kProbe = 3,
  kProbeReply = 4,
  kRecords = 5,
  kAck = 6,
  kHeartbeat = 7,
  kRefuse = 8,
};

using Key = std::array<uint8_t, kKeyBytes>;

struct Hello {
  Role role = Role::kStandby;
  uint64_t address = 0;
  std::array<uint8_t, kNonceBytes> nonce{};
};

std::string EncodeHello(const Hello& hello);
// InvalidArgument naming what is wrong (size, magic, role, padding).
absl::StatusOr<Hello> DecodeHello(std::string_view bytes);

struct SessionKeys {
  Key send;
  Key receive;
};

// The keys of one connection, as `me` sees them (send = my direction).
// REQUIRES: identity.has_secret().
SessionKeys DeriveSessionKeys(const zt::Identity& identity, Role me,
                              const std::string& standby_hello,
                              const std::string& primary_hello);

// One frame: the 4 length bytes and the ciphertext. REQUIRES: 1 + payload.size() <=
// kFramePlaintextMax.
std::string SealFrame(const Key& key, uint64_t counter, MessageType type,
                      std::string_view payload);

// The ciphertext length a frame header announces; InvalidArgument outside the bounds.
absl::StatusOr<uint32_t> FrameLength(std::string_view header4);

struct Message {
  MessageType type;
  std::string payload;
};

// Decrypts the ciphertext after `header4`. PermissionDenied when it does not
// authenticate (wrong key, counter or bytes); InvalidArgument for an unknown type.
absl::StatusOr<Message> OpenFrame(const Key& key, uint64_t counter, std::string_view header4,
                                  std::string_view ciphertext);

// Payloads.
struct AuthInfo {
  uint64_t epoch = 0;
  uint64_t last_seq = 0;
};
std::string EncodeAuth(const AuthInfo& auth);
absl::StatusOr<AuthInfo> DecodeAuth(std::string_view payload);

struct SeqHash {  // FOLLOW and PROBE
  uint64_t seq = 0;
  journal::ChainHash hash{};
};
std::string EncodeSeqHash(const SeqHash& value);
absl::StatusOr<SeqHash> DecodeSeqHash(std::string_view payload);

struct ProbeReply {
  uint64_t seq = 0;
  bool match = false;
  uint64_t last = 0;
};
std::string EncodeProbeReply(const ProbeReply& reply);
absl::StatusOr<ProbeReply> DecodeProbeReply(std::string_view payload);

struct RecordsMessage {
  uint64_t last = 0;
  std::vector<std::string> records;
};
// REQUIRES: 1 <= records.size() <= kRecordsFrameRecordsMax and the encoding fits a frame.
std::string EncodeRecords(uint64_t last, const std::vector<std::string>& records);
absl::StatusOr<RecordsMessage> DecodeRecords(std::string_view payload);

std::string EncodeU64(uint64_t value);  // ACK, HEARTBEAT
absl::StatusOr<uint64_t> DecodeU64(std::string_view payload);

}  // namespace almanac::replication

#endif  // ALMANAC_CTL_REPLICATION_PROTOCOL_H_
