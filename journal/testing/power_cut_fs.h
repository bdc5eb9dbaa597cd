// PowerCutFs: a test-only RocksDB FileSystem that emulates losing power. Test-only.
//
// It wraps the default (POSIX) file system and remembers, for every file written
// through it, how many bytes were written and how many of them a Sync/Fsync made
// durable, and which new files were created since their directory was last synced.
// A power cut has two steps, so the database can be torn down in between without its
// shutdown writes counting:
//   1. CutPower(): from now on every write, sync, create, rename and delete through this
//      file system fails with IOError and changes nothing (the machine is off). Whatever
//      an acknowledged (synced) write put on disk is already there.
//   2. (destroy the DB / Journal), then LoseUnsyncedData(rng, tear): truncates every
//      tracked file to its synced size and deletes new files whose directory was never
//      synced after they were created. With `tear`, the file written last keeps a random
//      prefix of its unsynced bytes, some of it zeroed (a torn write: some sectors made
//      it, some did not).
// ReuseWritableFile (how journal/zeroed_log.h hands RocksDB a zeroed spare) is modelled
// for files of zeros only: writes overwrite from offset 0, and the unsynced ones revert
// to zeros at the cut; the file keeps its old size, or its synced size if larger.
// Model limits (documented so a passing test is not over-read): renames and deletions
// are durable at once (an unsynced rename is not rolled back); RangeSync is not a
// durability point; only files opened for writing through this object are tracked.
//
// Thread safety: all methods may be called from any thread (RocksDB's writer and
// background threads plus the test's); one mutex orders writes against the cut.
#ifndef ALMANAC_JOURNAL_TESTING_POWER_CUT_FS_H_
#define ALMANAC_JOURNAL_TESTING_POWER_CUT_FS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/file_system.h"

namespace almanac::journal::testing {

class PowerCutFs : public rocksdb::FileSystemWrapper {
 public:
  // What survived the last LoseUnsyncedData, for the test's log.
  struct CutReport {
    uint64_t bytes_dropped = 0;  // unsynced bytes discarded
    uint64_t bytes_torn = 0;     // unsynced bytes kept by the torn write (some zeroed)
    int files_deleted = 0;       // new files whose directory entry was never synced
  };

  PowerCutFs();
  const char* Name() const override { return "PowerCutFs"; }

  // Step 1 above. Idempotent.
  void CutPower();
  // Cuts the power right after the n-th (n >= 1) later successful write through this
  // file system, so that write reached the disk but no sync covers it yet: the moment a
  // real cut hurts most. n = 0 cancels.
  void CutPowerAfterWrites(uint64_t n);
  // Step 2 above: changes the files on disk. REQUIRES: CutPower() was called and nothing
  // holds the files open for writing any more. Returns an error when a file could not be
  // truncated or deleted. Afterwards the object is reset: power is back on, nothing is
  // tracked (what is on disk now counts as durable).
  absl::StatusOr<CutReport> LoseUnsyncedData(std::mt19937_64& rng, bool tear);

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& name, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

  // Shared with the file and directory wrappers (which may outlive a call).
  struct Core {
    struct FileState {
      uint64_t written = 0;  // bytes written through us (the file's logical size)
      uint64_t synced = 0;   // bytes made durable by Sync/Fsync
      // A reused file of zeros (ReuseWritableFile): its size then. Unsynced bytes below
      // it revert to zeros at a cut, and the file keeps at least this size.
      uint64_t zeros_until = 0;
    };
    absl::Mutex mu;
    bool power_off ABSL_GUARDED_BY(mu) = false;
    std::map<std::string, FileState> files ABSL_GUARDED_BY(mu);
    std::set<std::string> created_since_dir_sync ABSL_GUARDED_BY(mu);
    std::string last_written ABSL_GUARDED_BY(mu);
    uint64_t writes_until_cut ABSL_GUARDED_BY(mu) = 0;  // 0: no cut scheduled
  };

 private:
  rocksdb::IOStatus Wrap(const std::string& name, bool existed, uint64_t size,
                         std::unique_ptr<rocksdb::FSWritableFile>* result);

  std::shared_ptr<Core> core_;
};

}  // namespace almanac::journal::testing

#endif  // ALMANAC_JOURNAL_TESTING_POWER_CUT_FS_H_
