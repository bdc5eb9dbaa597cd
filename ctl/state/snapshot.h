// Snapshots of the projected State: the FlatBuffers payload (schemas/state.fbs) and the
// files that hold it. Snapshots are only an accelerator for start: deleting all of them
// loses nothing (the journal is replayed from seq 1 instead).
//
// File layout (all integers little-endian), name "snapshot-<seq as 20 decimal digits>.alms"
// so names sort by seq:
//   offset  size  field
//   0       8     magic "ALMSNAP1" (ASCII)
//   8       4     format version, uint32 = 2 (2 added changed_seq to networks and
//                 members; a file of another version is skipped like a corrupt one, and
//                 the journal is replayed instead)
//   12      4     reserved, uint32 = 0
//   16      8     payload length in bytes, uint64
//   24      8     seq of the snapshot, uint64 (must equal the payload's seq)
//   32      32    BLAKE2b-256 of the payload (libsodium crypto_generichash, no key)
//   64      n     payload: a FlatBuffers almanac.schema.Snapshot (identifier "ALMS")
// The file's size must be exactly 64 + n. See kSnapshotHeaderBytes in limits.h.
//
// Writing: a temp file "snapshot-....alms.tmp" in the same dir, write, fsync, rename to
// the final name, fsync the directory; then older snapshots beyond kSnapshotsKept are
// deleted. A crash at any point leaves either the old set or the new file, never a torn
// file under a final name (and a torn one would fail its hash anyway).
//
// Thread safety: functions are reentrant; the State passed in must not change during the
// call (the caller takes the sequencer's read lock, or copies first). Only one writer of
// snapshot files per directory at a time.
#ifndef ALMANAC_CTL_STATE_SNAPSHOT_H_
#define ALMANAC_CTL_STATE_SNAPSHOT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctl/state/state.h"

namespace almanac::state {

// The payload: a finished FlatBuffers Snapshot with networks sorted by nwid and members
// by (nwid, address), so equal states give equal bytes.
std::string SerializeState(const State& state);

// Verifies (FlatBuffers Verifier with the limits of limits.h) and loads a payload.
// DataLoss on any verification failure or inconsistent content (bad identity text,
// a member of a network that is not in the snapshot, duplicates, unknown credential type).
absl::StatusOr<State> DeserializeState(std::string_view payload);

// Writes a snapshot file of `state` into `dir` (which must exist) atomically, then
// deletes older snapshot files beyond the newest kSnapshotsKept. Returns the path written.
// Errors: the OS error as absl::ErrnoToStatus maps it (e.g. NotFound for a missing dir,
// ResourceExhausted for ENOSPC is not guaranteed: handle any non-OK as "not written");
// the temp file is removed. A failed deletion of an old file is not an error (it is
// retried after the next write). REQUIRES: the state is under the 2 GiB FlatBuffers limit
// (about 8 million members); SerializeState has the same requirement.
absl::StatusOr<std::string> WriteSnapshotFile(const std::string& dir, const State& state);

// The same for a payload already made by SerializeState(state) with state.last_seq() ==
// seq, so a caller can serialize under its lock and write (the slow part: fsync) outside
// it. REQUIRES: payload is SerializeState's output for a state at `seq`.
absl::StatusOr<std::string> WriteSnapshotPayload(const std::string& dir, uint64_t seq,
                                                 std::string_view payload);

// What LoadNewestSnapshot found.
struct LoadedSnapshot {
  std::optional<State> state;  // nullopt: no usable snapshot (replay from seq 1)
  std::string path;            // the file it came from; "" when none
  // One line per snapshot file skipped because it was corrupt, newest first, each
  // naming the file and the reason (DataLoss message). The caller logs them.
  std::vector<std::string> skipped;
};

// Tries snapshot files in `dir` from the newest seq down and returns the first that
// verifies (header, length, hash, FlatBuffers Verifier, content). A missing or empty
// dir gives OK with no state. Errors only when the dir cannot be listed (other than not
// existing): the code absl::ErrnoToStatus gives. Temp files are ignored.
absl::StatusOr<LoadedSnapshot> LoadNewestSnapshot(const std::string& dir);

// One snapshot file's payload with its header and hash checked (the layout above), NOT
// loaded: for a caller that compares it byte for byte with SerializeState of a state it
// built itself (almanac-replay verify), which costs a fraction of DeserializeState.
// Errors: InvalidArgument when the name is not a snapshot file's; DataLoss naming the
// file and the first check that failed; FailedPrecondition for an intact file of another
// format version; the OS error (NotFound, ...) when unreadable.
absl::StatusOr<std::string> ReadSnapshotPayload(const std::string& path);

// Full paths ("<dir>/snapshot-...alms") of the snapshot files in `dir`, newest first;
// empty when `dir` does not exist. Other files (temp files too) are ignored.
absl::StatusOr<std::vector<std::string>> ListSnapshotFiles(const std::string& dir);

}  // namespace almanac::state

#endif  // ALMANAC_CTL_STATE_SNAPSHOT_H_
