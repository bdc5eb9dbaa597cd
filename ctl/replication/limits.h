// Named bounds of the replication link (ctl/replication/protocol.h). Plain constants.
#ifndef ALMANAC_CTL_REPLICATION_LIMITS_H_
#define ALMANAC_CTL_REPLICATION_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "journal/limits.h"

namespace almanac::replication {

// Largest plaintext of one frame (type byte + payload). A RECORDS message holds at
// least one record, and one record is at most journal::kRecordBytesMax, so one record
// always fits; a bigger length prefix is refused before anything is allocated.
inline constexpr size_t kFramePlaintextMax = journal::kRecordBytesMax + 4096;
// Record bytes the primary packs into one RECORDS message (more than one record only
// while they fit; a single record may reach kRecordBytesMax).
inline constexpr size_t kRecordsFrameBytesTarget = size_t{1} << 20;
// Records per RECORDS message: small enough that a standby can join several waiting
// messages into one journal batch (kStandbyAppendRecordsMax).
inline constexpr size_t kRecordsFrameRecordsMax = 256;
static_assert(kRecordsFrameRecordsMax <= journal::kBatchRecordsMax);
// A standby appends every RECORDS message already waiting on the socket in one journal
// write (one fsync), up to this many records: so a standby that fell behind (a slow
// fsync) catches up in a few writes instead of one per message.
inline constexpr size_t kStandbyAppendRecordsMax = journal::kBatchRecordsMax;
inline constexpr size_t kStandbyAppendBytesMax = size_t{4} << 20;
static_assert(kStandbyAppendBytesMax + kFramePlaintextMax <= journal::kBatchBytesMax);
// Text of a REFUSE message.
inline constexpr size_t kReasonBytesMax = 1024;

// The cleartext hello must arrive, and the AUTH frame decrypt, within this.
inline constexpr int kHandshakeTimeoutMs = 5000;
// The primary sends a HEARTBEAT after this long without sending anything; a side that
// hears nothing for kPeerSilenceMs drops the connection (the standby reconnects).
inline constexpr int kHeartbeatMs = 200;
inline constexpr int kPeerSilenceMs = 3000;
// Standby reconnect backoff.
inline constexpr int kReconnectMinMs = 100;
inline constexpr int kReconnectMaxMs = 2000;

// Standbys a primary serves at once; more connections are refused after the handshake.
inline constexpr size_t kFollowersMax = 4;
// Connections in the handshake at once (before the identity is proven): bounds what a
// peer without the identity can make the primary hold.
inline constexpr size_t kHandshakesMax = 8;
// PROBE messages one standby may send per connection (a binary search over 2^63 seqs
// needs 63).
inline constexpr size_t kProbesMax = 80;
// Commit times the primary keeps for lag in milliseconds (one per written batch).
inline constexpr size_t kLagSamplesMax = 65536;

}  // namespace almanac::replication

#endif  // ALMANAC_CTL_REPLICATION_LIMITS_H_
