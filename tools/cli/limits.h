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
// Members imported per sequencer command (one fsync shared by their events).
inline constexpr size_t kImportMembersPerCommand = 256;

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_LIMITS_H_
