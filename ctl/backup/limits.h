// Named bounds of backups (ctl/backup/backup.h): what a backup directory, a manifest or
// a restore may hold before it is refused instead of read or written.
#ifndef ALMANAC_CTL_BACKUP_LIMITS_H_
#define ALMANAC_CTL_BACKUP_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"

namespace almanac::backup {

// A manifest is a handful of "key value" lines (under 300 bytes); anything bigger is not
// one of ours, and reading it whole must stay cheap for `backup list`.
inline constexpr size_t kManifestBytesMax = 4096;
inline constexpr size_t kManifestLinesMax = 64;

// Small files of a home copied into a backup: identity (~270 bytes), token (24), planet
// (a few KiB with many roots). Anything bigger is not what the home should hold.
inline constexpr size_t kHomeFileBytesMax = size_t{64} << 10;

// Entries of a backup directory looked at by list and prune. A daily backup kept for 20
// years is 7,300; past this the directory is not being pruned and we refuse to guess.
inline constexpr size_t kBackupDirEntriesMax = 100000;

// Retention never goes below one backup (the newest is always kept) nor above this.
inline constexpr size_t kBackupsKeptMax = 100000;

// Defaults of almanacd's flags: hourly backups, a day of them, and nothing older than a
// week (the journal itself holds all history; backups protect against losing the disk).
inline constexpr absl::Duration kDefaultBackupEvery = absl::Hours(1);
inline constexpr size_t kDefaultBackupsKept = 24;
inline constexpr absl::Duration kDefaultBackupMaxAge = absl::Hours(24 * 7);
// A scheduled backup runs at most this often, so a tiny --backup-every cannot turn the
// backup thread into a busy loop competing with the sequencer for the disk.
inline constexpr absl::Duration kBackupEveryMin = absl::Milliseconds(100);

// A ".partial-*" directory (a backup or deletion interrupted by a crash) older than this
// is removed by the next prune; younger ones may belong to a backup in progress in
// another process sharing the directory.
inline constexpr absl::Duration kPartialStaleAfter = absl::Hours(1);

// Names tried when a backup's final name is already taken (two backups in the same
// millisecond at the same seq): "-1" ... "-N" suffixes.
inline constexpr int kNameAttemptsMax = 100;

// Restore copies records in RocksDB write batches of at most this many bytes, so memory
// stays bounded on a journal of any size.
inline constexpr size_t kRestoreBatchBytesMax = size_t{8} << 20;

// Big files (snapshots) are copied in chunks of this size when a hard link is impossible.
inline constexpr size_t kCopyChunkBytes = size_t{1} << 20;

}  // namespace almanac::backup

#endif  // ALMANAC_CTL_BACKUP_LIMITS_H_
