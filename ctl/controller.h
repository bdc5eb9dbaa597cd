// Opening a controller home: identity, journal, state, sequencer; and keeping snapshots.
//
// Start, in order (shared/docs/design.md, "Durability and recovery"):
//   1. load or create the identity and admin token in the home;
//   2. load the newest snapshot that verifies (a corrupt one is reported and skipped;
//      snapshots are only an accelerator);
//   3. open the journal, verifying the chain from the snapshot's seq (from seq 1 when
//      there is none); a damaged record stops the start with DataLoss naming its seq;
//   4. replay the records after the snapshot through the projector;
//   5. on an empty journal, write ControllerInitialized with this identity; on a
//      journal of another controller, refuse to start;
//   6. start the sequencer, and a background thread that writes a snapshot every
//      `snapshot_interval_records` records;
//   7. start the seal thread: a Seal record (replay/seal.h) after every
//      `seal_interval_records` records, and at least every `seal_interval_seconds`
//      while records other than seals were appended since the last seal.
//
// Thread safety: after Open, the accessors may be used from any thread; the sequencer
// is the only writer of the state.
#ifndef ALMANAC_CTL_CONTROLLER_H_
#define ALMANAC_CTL_CONTROLLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ctl/home.h"
#include "ctl/sequencer.h"
#include "ctl/zt/identity.h"
#include "journal/journal.h"

namespace almanac::ctl {

struct ControllerOptions {
  std::string home = kDefaultHome;
  // A snapshot is written in the background once this many records were applied since
  // the last one. 0 turns background snapshots off.
  uint64_t snapshot_interval_records = 100000;
  // Seals: one after this many non-seal records (0: no count trigger), and one at least
  // this often while there are unsealed records (0: no timer). Both 0: no seals.
  uint64_t seal_interval_records = 1000;
  uint64_t seal_interval_seconds = 60;
  // Non-empty: open as a standby (ctl/replication): the sequencer starts read-only with
  // this refusal message, an empty journal is left empty (its records come from the
  // primary, ControllerInitialized included), and no seals are written while read-only.
  std::string standby_reason;
  // Size of the journal's zeroed log spare (journal/zeroed_log.h; 0: off). The default
  // fits a whole log of the journal's default memtable; the spare costs that much disk.
  size_t zeroed_log_bytes =
      journal::ZeroedLogBytesFor(journal::JournalOptions{}.memtable_bytes);
  // Progress lines ("replayed 200000 of 1000000 records") go here; may be empty.
  std::function<void(const std::string&)> log;
};

class Controller {
 public:
  // See the steps above. Errors: the first failing step's Status, with context.
  static absl::StatusOr<std::unique_ptr<Controller>> Open(const ControllerOptions& options);
  ~Controller();  // stops the snapshot thread, then the sequencer, then closes the journal

  const zt::Identity& identity() const { return identity_; }
  const std::string& auth_token() const { return auth_token_; }
  const HomePaths& paths() const { return paths_; }
  Sequencer* sequencer() { return sequencer_.get(); }
  journal::Journal* journal() { return journal_.get(); }

  // Writes a snapshot of the current state now. Returns the file written.
  absl::StatusOr<std::string> WriteSnapshotNow();

  uint64_t snapshots_written() const { return snapshots_written_.load(); }

  // Appends a Seal for the last record now (it is a no-op on an empty journal).
  // Errors: the sequencer's (journal failure, stopping).
  absl::Status SealNow();
  uint64_t seals_written() const { return seals_written_.load(); }

 private:
  Controller(ControllerOptions options, HomePaths paths);
  void SnapshotLoop();
  void SealLoop();

  const ControllerOptions options_;
  const HomePaths paths_;
  zt::Identity identity_;
  std::string auth_token_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<Sequencer> sequencer_;

  absl::Mutex snapshot_mu_;
  uint64_t applied_since_snapshot_ ABSL_GUARDED_BY(snapshot_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(snapshot_mu_) = false;
  std::atomic<uint64_t> snapshots_written_{0};
  std::thread snapshot_thread_;

  absl::Mutex seal_mu_;
  uint64_t unsealed_records_ ABSL_GUARDED_BY(seal_mu_) = 0;
  bool seal_stopping_ ABSL_GUARDED_BY(seal_mu_) = false;
  std::atomic<uint64_t> seals_written_{0};
  std::thread seal_thread_;
};

}  // namespace almanac::ctl

#endif  // ALMANAC_CTL_CONTROLLER_H_
