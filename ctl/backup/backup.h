// Backups of a controller home, and restoring one (to any record) into a new home.
//
// A backup is a directory <backup-dir>/backup-<UTC time>-<last seq>/ laid out like a home
// (ctl/home.h), so almanac-replay reads it as is (`--backup DIR`):
//   journal/          a RocksDB checkpoint of the live journal (consistent: hard links to
//                     immutable table files plus copies), verified record by record
//   snapshots/        the home's newest snapshot at the time (if any; its seq is at or
//                     before the journal's last record), so a restore starts fast
//   identity.secret   the controller identity (0600): a restored home must BE the same
//                     controller, since its journal names it and every member knows it by
//                     its address; so a backup directory is as secret as the home
//   identity.public
//   authtoken.secret  the admin token (0600), so a restored home answers the same scripts
//   planet            when the home has one
//   backup.manifest   written LAST, atomically, after everything above is synced:
//                       almanac-backup 1
//                       controller <10 hex digits>
//                       last_seq <n>
//                       chain_hash <64 hex digits: chain_hash(last_seq)>
//                       created_ms <unix ms>
//                       snapshot_seq <seq of the copied snapshot, 0 when none>
// A backup is built under "<backup-dir>/.partial-<name>" and renamed into place only
// after its manifest is written, and a deleted one is renamed back to ".partial-..."
// before it is removed: so a directory named backup-* with a valid manifest is always a
// complete backup, and list never shows a half-written or half-deleted one.
//
// Thread safety: the functions hold no state. One backup at a time per backup directory
// is assumed only for names (a clash gets a suffix); pruning from two processes at once
// is safe (a rename either wins or fails).
#ifndef ALMANAC_CTL_BACKUP_BACKUP_H_
#define ALMANAC_CTL_BACKUP_BACKUP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/home.h"
#include "journal/journal.h"
#include "journal/record_format.h"
#include "nlohmann/json.hpp"

namespace almanac::backup {

inline constexpr char kManifestName[] = "backup.manifest";
inline constexpr char kBackupPrefix[] = "backup-";
inline constexpr char kPartialPrefix[] = ".partial-";

struct Manifest {
  uint64_t controller = 0;  // the controller's 40-bit address
  uint64_t last_seq = 0;
  journal::ChainHash chain_hash = journal::kZeroChainHash;
  int64_t created_ms = 0;
  uint64_t snapshot_seq = 0;  // 0: no snapshot in the backup
};

std::string FormatManifest(const Manifest& manifest);
// DataLoss naming the problem for anything that is not a complete version-1 manifest
// (unknown keys are ignored, so later versions may add lines).
absl::StatusOr<Manifest> ParseManifest(const std::string& text);

struct BackupInfo {
  std::string path;  // the backup's directory
  std::string name;  // its last path component
  Manifest manifest;
};

// Takes one backup of `home`, whose journal is open as `journal`, into `backup_dir`
// (created 0700 when missing). The checkpoint is opened as a journal and verified from
// record 1 before the manifest is written, so the manifest's seq and hash are those of
// what was copied. Errors: the failing step's Status (I/O as the OS says; DataLoss when
// the checkpoint does not verify); nothing is left under a backup-* name then.
// `now` names and dates the backup.
absl::StatusOr<BackupInfo> CreateBackup(const ctl::HomePaths& home,
                                        const journal::Journal& journal,
                                        const std::string& backup_dir, absl::Time now);

// The complete backups in `backup_dir`, oldest first (by created time, then name).
// Directories named backup-* whose manifest is missing or bad are left out and described
// in *skipped (may be nullptr). NotFound when backup_dir does not exist;
// ResourceExhausted past kBackupDirEntriesMax entries.
absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir,
                                                    std::vector<std::string>* skipped);

struct Retention {
  size_t keep = 0;                               // keep at most this many (>= 1)
  absl::Duration max_age = absl::InfiniteDuration();  // delete older (not the newest)
};

// Deletes this controller's backups beyond `retention` (the newest is always kept;
// backups of other controllers sharing the directory are not touched), and .partial-*
// leftovers older than kPartialStaleAfter. Returns the names deleted. Errors: listing
// errors, or the first deletion that failed (later ones are still attempted).
absl::StatusOr<std::vector<std::string>> PruneBackups(const std::string& backup_dir,
                                                      uint64_t controller,
                                                      const Retention& retention,
                                                      absl::Time now);

// What a backup followed by retention did (BackupAndPrune).
struct BackupMade {
  BackupInfo backup;
  std::vector<std::string> pruned;  // names of the backups retention deleted
  absl::Status prune_status;        // OK, or why pruning failed (the backup still stands)
};

// CreateBackup, then PruneBackups for the backed-up controller with `retention`: the one
// path every backup takes (almanacd's scheduler, on demand, and `almanac backup create`
// on a stopped home), so retention by count and age is applied however a backup was
// made. `now` names and dates the backup and is the time ages are measured at.
// Errors: CreateBackup's (nothing is pruned then). A failed prune is not an error of the
// backup: it is in prune_status.
absl::StatusOr<BackupMade> BackupAndPrune(const ctl::HomePaths& home,
                                          const journal::Journal& journal,
                                          const std::string& backup_dir,
                                          const Retention& retention, absl::Time now);

struct RestoreOptions {
  std::string backup;   // a backup directory (with backup.manifest)
  uint64_t to_seq = 0;  // restore records 1..to_seq; 0: everything in the backup
  std::string home;     // the new home: must not exist, or be an empty directory
};

struct RestoreResult {
  uint64_t last_seq = 0;                  // the restored journal's last record
  journal::ChainHash chain_hash{};        // chain_hash(last_seq), verified
  uint64_t backup_last_seq = 0;           // what the backup held (records after last_seq
                                          // were not copied)
  uint64_t snapshot_seq = 0;              // the snapshot copied along (0: none)
  size_t networks = 0;                    // the restored state, as the home opens
  size_t members = 0;
};

// Makes a new home holding exactly the backup's records 1..to_seq, each verified while
// copied (journal/chain.h); records after to_seq are not copied, and neither is a
// snapshot past it. The home is built beside the target as "<home>.partial-restore"
// and renamed into place only after it opened as a controller (ctl/controller.h: chain
// verified, state replayed, identity matching the journal), so a failed restore leaves
// no home. The opened controller writes nothing (no seals, no snapshots).
// Errors: InvalidArgument for to_seq past the backup's last record; FailedPrecondition
// for a target that exists and is not an empty directory; DataLoss when the backup's
// records do not verify or disagree with its manifest; I/O errors as the OS says.
absl::StatusOr<RestoreResult> RestoreBackup(const RestoreOptions& options);

// "2026-12-01 11:34:37.123 UTC" for listings.
std::string FormatTime(int64_t unix_ms);

// A backup as the admin API (POST /unstable/backup) and `almanac backup list --json` show
// it: {"name", "path", "controller", "lastSeq", "chainHash", "createdMs", "created",
// "snapshotSeq"}.
nlohmann::json BackupJson(const BackupInfo& backup);

}  // namespace almanac::backup

#endif  // ALMANAC_CTL_BACKUP_BACKUP_H_
