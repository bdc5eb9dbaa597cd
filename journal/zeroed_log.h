// ZeroedLogs: RocksDB gets each new write-ahead log as a file already full of zeros that
// were written and synced ahead of time, on a background thread.
//
// Why: RocksDB preallocates its log with fallocate(FALLOC_FL_KEEP_SIZE) and appends into
// that space. On ext4 each such append leaves blocks "unwritten" in the extent tree, and
// the fdatasync that makes the append durable must also commit their conversion (a
// journal transaction: a second device flush). Overwriting blocks that are already
// written needs none. Measured on this project's disk (C loop, five alternating rounds
// of one second): 19 KB synced appends into preallocated space 1,798/s; 19 KB synced
// overwrites of written blocks 3,484/s. A group commit's write is such a 19 KB append.
// Zeroing the log inline as it grows, even a chunk ahead and synced, gained nothing: the
// zeroing's own writes and syncs land on the appends' path. Prepared ahead, they do not.
//
// How: `dir` holds at most one spare, kSpareName: `bytes` of zeros, written and synced
// (file, then directory). When RocksDB asks for a new file whose name ends in ".log"
// directly in `dir` (its write-ahead logs; its info log is "LOG"), the wrapper takes the
// spare if one is ready: renames it to the log's name, then opens it there without
// truncation (FileSystem::ReuseWritableFile), so RocksDB's appends overwrite the zeros
// from offset 0. The background thread then prepares the next spare under
// kSpareTempName and renames it into place when it is synced. With no spare ready (the
// thread still working, or a failure), RocksDB gets a plain new file as before: the
// spare is a speed-up, never a condition: a spare is only written while the disk has
// three times its size free, and a failed one is removed. A log that outgrows its spare
// grows past the zeros by plain appends.
//
// Safety:
// - A spare only ever holds zeros (this file writes nothing else to it; a crash while
//   preparing leaves zeros or holes), so a log made from one is records, then zeros.
//   Recovery reads a zero block header as padding and skips to the next block, so the
//   zeros read as the end of the log, as the zeros a torn last write or preallocation
//   can already leave (point-in-time recovery). A clean close trims the log to its
//   records (RocksDB truncates a preallocated log on close).
// - The rename needs what a new log's creation already needs, a synced directory, and
//   gets it the same way: RocksDB syncs the log directory along with the synced writes
//   to a new log (DBImpl's log_dir_synced_). Until then a crash leaves the spare under
//   its own name and no log, as it would leave no newly created log.
// - Files RocksDB does not name as its own (the spare) are left alone by its cleanup
//   and are not part of checkpoints.
//
// Thread safety: as rocksdb::FileSystem. Destroy the ZeroedLogs after the DB that uses
// its env().
#ifndef ALMANAC_JOURNAL_ZEROED_LOG_H_
#define ALMANAC_JOURNAL_ZEROED_LOG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rocksdb/env.h"

namespace almanac::journal {

class ZeroedLogSpares;

class ZeroedLogs {
 public:
  // The ready spare, and the one being prepared, in the journal's directory.
  static constexpr char kSpareName[] = "ZEROED-LOG-SPARE";
  static constexpr char kSpareTempName[] = "ZEROED-LOG-SPARE.tmp";

  // Smallest and largest spare (bytes); larger spares cost more disk and more writing
  // per log, and a log is about the size of the memtable.
  static constexpr size_t kSpareBytesMin = size_t{64} << 10;
  static constexpr size_t kSpareBytesMax = size_t{1} << 30;

  // When `dir` holds no finished spare of the right size: kNow prepares one before Start
  // returns, so the next log gets it (for a new journal: RocksDB opens its first log as
  // the database is created); kInBackground leaves it to the thread (a restart after a
  // crash while one was being prepared: the log opened at start is then a plain file,
  // and the start is not delayed by writing the spare).
  enum class FirstSpare { kNow, kInBackground };

  // Starts keeping a spare of `bytes` (rounded up to whole 64 KiB) in `dir`, which should
  // exist. `base` is not owned and must outlive the result. A spare that cannot be made
  // (no such directory, a disk under three times the spare's size free, an I/O error) is
  // reported on stderr and tried again every 30 s; meanwhile logs are plain files.
  // Errors: InvalidArgument for `bytes` outside [kSpareBytesMin, kSpareBytesMax].
  static absl::StatusOr<std::unique_ptr<ZeroedLogs>> Start(rocksdb::Env* base,
                                                           const std::string& dir,
                                                           size_t bytes, FirstSpare first);
  ~ZeroedLogs();  // Stop()

  // From now on new logs are plain files and no spare is prepared; a spare that is ready
  // stays on disk for the next Start. For a clean close: its final flush opens one more
  // log, which stays empty and should not use up the spare. Idempotent. A spare being
  // prepared is abandoned (it stays a temp file, replaced by the next preparation).
  void Stop();

  ZeroedLogs(const ZeroedLogs&) = delete;
  ZeroedLogs& operator=(const ZeroedLogs&) = delete;

  // The environment to open the journal's RocksDB with.
  rocksdb::Env* env() const { return env_.get(); }

  // Logs handed out as renamed spares so far (tests and benchmarks).
  uint64_t logs_from_spares() const;
  // Blocks until a spare is ready or preparing one failed; true if ready (tests).
  bool WaitForSpare() const;

 private:
  ZeroedLogs(std::shared_ptr<ZeroedLogSpares> spares, std::unique_ptr<rocksdb::Env> env);

  std::shared_ptr<ZeroedLogSpares> spares_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_ZEROED_LOG_H_
