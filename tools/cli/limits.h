// Named limits of the almanac CLI (tools/cli).
#ifndef ALMANAC_TOOLS_CLI_LIMITS_H_
#define ALMANAC_TOOLS_CLI_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace almanac::cli {

// Connecting to the admin API: a local daemon answers in microseconds; a few seconds
// covers a loaded machine without leaving a script hanging on a dead address.
inline constexpr int64_t kApiConnectTimeoutMs = 5000;
// Reading an answer: a write waits for its fsync (milliseconds); a long list of members
// on a busy controller may take longer.
inline constexpr int64_t kApiReadTimeoutMs = 60000;

// Small files the CLI reads from a home: "host:port\n" and the 24-character token.
inline constexpr size_t kAddressFileBytesMax = 512;
inline constexpr size_t kTokenFileBytesMax = 4096;

// One network or member JSON file of a ZeroTier controller.d. ZeroTier caps each array at
// 16384 entries (rules of about 100 bytes each): 16 MiB is far beyond any real file.
inline constexpr size_t kImportFileBytesMax = size_t{16} << 20;
// Networks and members per import: beyond this the directory is not a controller.d
// (ZeroTier's own controller keeps everything in memory).
inline constexpr size_t kImportNetworksMax = 65536;
inline constexpr size_t kImportMembersMax = size_t{4} << 20;
// A progress line every this many imported members.
inline constexpr size_t kImportProgressMembers = 1000;
// Events per sequencer command of an import (one fsync shared by them). The sequencer
// writes a command's events in one journal batch, which holds at most 1024 records
// (journal/limits.h kBatchRecordsMax); half leaves room for batching.
inline constexpr size_t kImportEventsPerCommandMax = 512;
// IPs one imported member may hold: each is one IpAssigned event, and one member's
// events must fit one command. Real members have one or two.
inline constexpr size_t kImportMemberIpsMax = 256;
// Rules, capabilities, tags and rulesSource of one network, in bytes: the whole config is
// one NetworkCreated record, which the journal caps at 1 MiB (kRecordBytesMax).
inline constexpr size_t kImportNetworkConfigBytesMax = size_t{768} << 10;

// almanac events tail (tools/cli/events_command.h).
// The checkpoint file is one short JSON line; anything longer is not ours.
inline constexpr size_t kCheckpointBytesMax = 4096;
// One line of the event stream: a record is at most 1 MiB (journal kRecordBytesMax) and
// its JSON a few times that; a longer line means the stream is not what we think.
inline constexpr size_t kEventsLineBytesMax = size_t{16} << 20;
// What a restart reads back from --output past the checkpoint: only the lines of the
// batch being written when the consumer died (one HTTP read or one answer of at most
// 1000 records), so far less than this.
inline constexpr size_t kEventsRecoveryBytesMax = size_t{64} << 20;
// Records per request without --follow (the server's kEventResponseRecordsMax).
inline constexpr size_t kEventsPageRecords = 1000;
// A follow stream's heartbeat (asked of the server) and how long without a byte counts
// as a dead connection: three heartbeats and some slack.
inline constexpr int kEventsHeartbeatSeconds = 5;
inline constexpr int64_t kEventsFollowReadTimeoutMs = 20000;
// Waiting before a follow stream reconnects, doubling up to the max while the controller
// stays unreachable.
inline constexpr int64_t kEventsReconnectDelayMs = 250;
inline constexpr int64_t kEventsReconnectDelayMsMax = 5000;

static_assert(kImportMemberIpsMax + 3 <= kImportEventsPerCommandMax,
              "one member's events (created, joined, authorized, IPs) fit one command");

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_LIMITS_H_
