// Named limits of ctl/state: snapshots and what may be read back from them.
#ifndef ALMANAC_CTL_STATE_LIMITS_H_
#define ALMANAC_CTL_STATE_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace almanac::state {

// Snapshot files kept in a directory; older ones are deleted after each write. Three
// survive one corrupt file plus one half-written by a crash.
inline constexpr size_t kSnapshotsKept = 3;

// Bytes of the snapshot file header (see snapshot.h for the layout).
inline constexpr size_t kSnapshotHeaderBytes = 64;

// Largest snapshot payload read back: just under FlatBuffers' own 2 GiB maximum (its
// Verifier asserts on anything larger). A million members take about 200 MB.
inline constexpr uint64_t kSnapshotPayloadBytesMax = (uint64_t{1} << 31) - 2;

// FlatBuffers Verifier limits for a snapshot. Depth: Snapshot > MemberState >
// MemberConfig > vector > string is 5 deep; 64 leaves room for schema growth. Tables:
// each member is about 3 tables and each network about 8 plus its routes and pools;
// 64 million covers 16 million members.
inline constexpr uint32_t kSnapshotVerifierDepthMax = 64;
inline constexpr uint32_t kSnapshotVerifierTablesMax = 64u << 20;

}  // namespace almanac::state

#endif  // ALMANAC_CTL_STATE_LIMITS_H_
