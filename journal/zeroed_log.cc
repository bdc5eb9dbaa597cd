#include "journal/zeroed_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/sync_directory.h"
#include "base/thread_name.h"
#include "rocksdb/file_system.h"

namespace almanac::journal {

namespace {

// Zeros go to disk in pieces of kWriteBytes, with an fdatasync every kSyncEveryBytes, so
// the dirty data the preparation leaves for any one flush stays small next to the
// journal's own synced writes.
constexpr size_t kWriteBytes = size_t{1} << 20;
constexpr size_t kSyncEveryBytes = size_t{4} << 20;
// Spares are whole 64 KiB.
constexpr size_t kSpareGrain = size_t{64} << 10;
// A spare is written only while the disk has this many times its size free.
constexpr uint64_t kFreeBytesPerSpareByte = 3;
// After a failed preparation (a full disk, say), the next try waits this long.
constexpr absl::Duration kRetryAfterFailure = absl::Seconds(30);

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Runs `call` (a system call returning -1 and errno on failure) until it is not EINTR.
template <typename Call>
auto RetryOnEintr(Call call) {
  for (;;) {
    const auto result = call();
    if (result >= 0 || errno != EINTR) return result;
  }
}

}  // namespace

// The spare in one directory and the thread that keeps it ready.
class ZeroedLogSpares {
 public:
  ZeroedLogSpares(std::string dir, size_t bytes)
      : dir_(std::move(dir)),
        spare_path_(dir_ + "/" + ZeroedLogs::kSpareName),
        temp_path_(dir_ + "/" + ZeroedLogs::kSpareTempName),
        bytes_(bytes) {}

  ~ZeroedLogSpares() { Stop(); }

  // True if a spare of the right size, with every block written, is already on disk
  // (left by an earlier run that finished preparing it).
  bool SpareOnDisk() const {
    struct stat st;
    if (stat(spare_path_.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    return static_cast<uint64_t>(st.st_size) == bytes_ &&
           static_cast<uint64_t>(st.st_blocks) * 512 >= bytes_;
  }

  // Prepares one spare on the calling thread (before the background thread exists). A
  // failure is reported and left to the thread's next try, as the thread's own are.
  void PrepareNow() {
    const absl::Status s = Prepare();
    absl::MutexLock lock(&mu_);
    if (s.ok()) {
      ready_ = true;
    } else {
      Failed(s);
    }
  }

  void MarkReady() {
    absl::MutexLock lock(&mu_);
    ready_ = true;
  }

  void StartThread() {
    thread_ = std::thread([this] {
      NameThisThread("journal-spare");
      Loop();
    });
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      cancel_.store(true, std::memory_order_relaxed);
    }
    if (thread_.joinable()) thread_.join();
  }

  // For a new file `name`: if it is a write-ahead log in dir_ and a spare is ready, takes
  // the spare and returns its path; the caller renames it away (or fails to, which the
  // next preparation covers by replacing the file). Wakes the thread to prepare the next.
  std::optional<std::string> TakeFor(const std::string& name) {
    absl::MutexLock lock(&mu_);
    if (!ready_ || stopping_ || !IsLogInDir(name)) return std::nullopt;
    ready_ = false;
    return spare_path_;
  }

  void CountUsed() { logs_from_spares_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t logs_from_spares() const {
    return logs_from_spares_.load(std::memory_order_relaxed);
  }

  bool WaitForSpare() const {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &ZeroedLogSpares::SpareSettled));
    return ready_;
  }

 private:
  // RocksDB's write-ahead logs are "<dir>/<number>.log".
  bool IsLogInDir(const std::string& name) const {
    constexpr char kSuffix[] = ".log";
    constexpr size_t kSuffixBytes = sizeof(kSuffix) - 1;
    if (name.size() <= dir_.size() + 1 + kSuffixBytes) return false;
    if (name.compare(0, dir_.size(), dir_) != 0 || name[dir_.size()] != '/') return false;
    if (name.find('/', dir_.size() + 1) != std::string::npos) return false;
    return name.compare(name.size() - kSuffixBytes, kSuffixBytes, kSuffix) == 0;
  }

  bool SpareWanted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !ready_ || stopping_; }
  bool SpareSettled() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return ready_ || failed_ || stopping_;
  }

  // The journal goes on with plain logs: say why, once per failure; the thread tries
  // again after kRetryAfterFailure.
  void Failed(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::fprintf(stderr, "almanac journal: no zeroed log spare (%s); next try in %s\n",
                 s.ToString().c_str(), absl::FormatDuration(kRetryAfterFailure).c_str());
    failed_ = true;
  }

  void Loop() {
    absl::MutexLock lock(&mu_);
    for (;;) {
      mu_.Await(absl::Condition(this, &ZeroedLogSpares::SpareWanted));
      if (stopping_) return;
      if (failed_) {
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), kRetryAfterFailure);
        if (stopping_) return;
        failed_ = false;
      }
      mu_.Unlock();
      const absl::Status s = Prepare();
      mu_.Lock();
      if (stopping_) return;
      if (s.ok()) {
        ready_ = true;
      } else {
        Failed(s);
      }
    }
  }

  // Writes bytes_ of zeros to the temp file, syncs it, renames it to the spare's name
  // and syncs the directory. Cancelled when Stop is called midway. Only while the disk
  // keeps room for the journal (kFreeBytesPerSpareByte); an unfinished temp file is
  // removed, so a failure (a full disk, say) gives its space back to the journal.
  absl::Status Prepare() {
    static const std::string* const kZeros = new std::string(kWriteBytes, '\0');
    struct statvfs vfs;
    if (statvfs(dir_.c_str(), &vfs) != 0) return ErrnoError("statvfs", dir_);
    const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (free_bytes / kFreeBytesPerSpareByte < bytes_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          free_bytes, " bytes free in ", dir_, ": a spare of ", bytes_, " bytes waits for ",
          kFreeBytesPerSpareByte, " times that, so the journal keeps its room"));
    }
    const int fd = RetryOnEintr([&] {
      return open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    });
    if (fd < 0) return ErrnoError("create", temp_path_);
    absl::Status status = WriteZeros(fd, *kZeros);
    if (status.ok() && fdatasync(fd) != 0) status = ErrnoError("fdatasync", temp_path_);
    close(fd);
    if (status.ok() && rename(temp_path_.c_str(), spare_path_.c_str()) != 0) {
      status = ErrnoError("rename to " + spare_path_, temp_path_);
    }
    if (!status.ok()) {
      unlink(temp_path_.c_str());
      return status;
    }
    return SyncDirectory(dir_);
  }

  absl::Status WriteZeros(int fd, const std::string& zeros) {
    for (uint64_t at = 0; at < bytes_;) {
      if (cancel_.load(std::memory_order_relaxed)) {
        return absl::CancelledError("stopped while preparing a zeroed log spare");
      }
      const size_t want = static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes_ - at));
      const ssize_t n = RetryOnEintr(
          [&] { return pwrite(fd, zeros.data(), want, static_cast<off_t>(at)); });
      if (n <= 0) return ErrnoError("write zeros to", temp_path_);
      at += static_cast<uint64_t>(n);
      if (at % kSyncEveryBytes == 0 && fdatasync(fd) != 0) {
        return ErrnoError("fdatasync", temp_path_);
      }
    }
    return absl::OkStatus();
  }

  const std::string dir_;
  const std::string spare_path_;
  const std::string temp_path_;
  const uint64_t bytes_;

  mutable absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;     // spare_path_ holds a complete spare
  bool failed_ ABSL_GUARDED_BY(mu_) = false;    // the last preparation failed
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> cancel_{false};  // stopping_, read by Prepare without the lock
  std::atomic<uint64_t> logs_from_spares_{0};
  std::thread thread_;
};

namespace {

class ZeroedLogFileSystem : public rocksdb::FileSystemWrapper {
 public:
  ZeroedLogFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base,
                      std::shared_ptr<ZeroedLogSpares> spares)
      : FileSystemWrapper(base), spares_(std::move(spares)) {}
  static const char* kClassName() { return "AlmanacZeroedLogFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name,
                                    const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    // Direct and mmap writes have their own offsets and alignment: not for spares.
    std::optional<std::string> spare;
    if (!options.use_direct_writes && !options.use_mmap_writes) spare = spares_->TakeFor(name);
    if (spare.has_value()) {
      // Rename first, then open the file under the log's name without truncation (the
      // rename inside ReuseWritableFile is then a no-op). Opening the spare's name and
      // renaming after, a spare renamed into place in between (the thread's next one, or
      // another process's on the same directory) would become the log while RocksDB
      // wrote to the file it opened, unlinked.
      if (target()->RenameFile(*spare, name, rocksdb::IOOptions(), dbg).ok()) {
        rocksdb::IOStatus s = target()->ReuseWritableFile(name, name, options, result, dbg);
        if (s.ok()) {
          spares_->CountUsed();
          return s;
        }
      }
    }
    // O_TRUNC: also empties a renamed spare that could not be opened.
    return target()->NewWritableFile(name, options, result, dbg);
  }

 private:
  std::shared_ptr<ZeroedLogSpares> spares_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ZeroedLogs>> ZeroedLogs::Start(rocksdb::Env* base,
                                                              const std::string& dir,
                                                              size_t bytes, FirstSpare first) {
  if (bytes < kSpareBytesMin || bytes > kSpareBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("zeroed log spare of ", bytes,
                                                   " bytes: must be in [", kSpareBytesMin,
                                                   ", ", kSpareBytesMax, "]"));
  }
  const size_t rounded = (bytes + kSpareGrain - 1) / kSpareGrain * kSpareGrain;
  std::string trimmed = dir;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  auto spares = std::make_shared<ZeroedLogSpares>(std::move(trimmed), rounded);
  if (spares->SpareOnDisk()) {
    spares->MarkReady();
  } else if (first == FirstSpare::kNow) {
    spares->PrepareNow();
  }
  spares->StartThread();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(
      std::make_shared<ZeroedLogFileSystem>(base->GetFileSystem(), spares));
  return std::unique_ptr<ZeroedLogs>(new ZeroedLogs(std::move(spares), std::move(env)));
}

ZeroedLogs::ZeroedLogs(std::shared_ptr<ZeroedLogSpares> spares,
                       std::unique_ptr<rocksdb::Env> env)
    : spares_(std::move(spares)), env_(std::move(env)) {}

ZeroedLogs::~ZeroedLogs() { spares_->Stop(); }

void ZeroedLogs::Stop() { spares_->Stop(); }

uint64_t ZeroedLogs::logs_from_spares() const { return spares_->logs_from_spares(); }

bool ZeroedLogs::WaitForSpare() const { return spares_->WaitForSpare(); }

}  // namespace almanac::journal
