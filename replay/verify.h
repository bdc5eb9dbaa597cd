// `almanac-replay verify`: a full audit of a home or backup that keeps going after a
// problem, so one damaged record does not hide another.
//
// Checks, for every record in key order (journal/record_format.h):
//   - gaps: a missing seq (also a lost tail: records must reach the last_seq meta key,
//     and none may lie after it);
//   - checksum: stored chain hash == BLAKE2b(record's prev_hash || record bytes);
//   - FlatBuffers verification and required fields (journal/record.h, VerifyRecord);
//   - the record's seq equals its key (catches moved or swapped records);
//   - the chain: prev_hash equals the stored chain hash of the record before;
//   - seals: sealed_seq lies before the seal, sealed_hash equals the chain hash of
//     record sealed_seq, and the signature verifies (replay/seal.h) under the controller's
//     public identity, taken from record 1 (ControllerInitialized) and identity.public
//     (which must agree when both exist);
//   - determinism: records are replayed from seq 1 through the daemon's projector
//     (ctl/state/projector.h), and at the newest snapshot's seq SerializeState of the
//     replay must equal the snapshot's payload byte for byte (or, when it does not,
//     SerializeState of the loaded snapshot: an equal state another build serialized).
//     The snapshot file is read and hashed on a second thread while the journal is
//     scanned; a snapshot whose header or hash is bad is reported and the next older
//     one is used, one whose content does not load is reported and not compared.
// After a bad record the next record's link is not judged (it cannot be: the previous
// hash is untrustworthy) and the replay stops (its state would be meaningless), but every
// other check continues to the end. Each problem names its seq (0: not about one record).
//
// Read-only (replay/source.h): safe beside a running almanacd.
// Thread safety: no shared state (the snapshot thread lives within one call).
#ifndef ALMANAC_REPLAY_VERIFY_H_
#define ALMANAC_REPLAY_VERIFY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "journal/record_format.h"
#include "nlohmann/json.hpp"
#include "replay/source.h"

namespace almanac::replay {

struct Problem {
  uint64_t seq = 0;  // 0: about the journal or a snapshot as a whole
  std::string what;
};

struct VerifyReport {
  uint64_t records = 0;         // record entries examined
  uint64_t last_seq = 0;        // the last seq the journal claims (meta key)
  journal::ChainHash last_hash{};  // stored chain hash of the last record found
  uint64_t seals = 0;           // Seal records found
  uint64_t seals_valid = 0;     // of which every check passed
  uint64_t last_sealed_seq = 0;  // highest sealed_seq of a valid seal (0: none)
  uint64_t replayed_seq = 0;    // the replay reached this seq
  uint64_t snapshot_seq = 0;    // newest verifying snapshot (0: none)
  bool snapshot_compared = false;
  bool snapshot_matches = false;
  std::string controller;       // controller address (10 hex) when known
  std::vector<Problem> problems;

  bool ok() const { return problems.empty(); }
  // One line per problem ("record 812: ..."), then the summary line.
  std::string Text() const;
  nlohmann::json Json() const;
};

// Audits the source. Returns the report (problems inside it) or, only when nothing can
// be examined at all (no journal, unreadable database), that error: NotFound,
// FailedPrecondition, Internal. `progress` (may be empty) gets a line every ~200,000
// records.
absl::StatusOr<VerifyReport> VerifySource(const SourcePaths& paths,
                                          const std::function<void(const std::string&)>& progress);

}  // namespace almanac::replay

#endif  // ALMANAC_REPLAY_VERIFY_H_
