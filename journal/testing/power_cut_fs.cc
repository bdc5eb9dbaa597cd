#include "journal/testing/power_cut_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace almanac::journal::testing {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using Core = PowerCutFs::Core;

IOStatus Off() { return IOStatus::IOError("power cut (PowerCutFs)"); }

// The directory part of a path, without trailing slashes ("a/b/c" -> "a/b").
std::string Parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string StripSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

class File : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  File(std::unique_ptr<rocksdb::FSWritableFile> target, std::shared_ptr<Core> core,
       std::string name)
      : FSWritableFileOwnerWrapper(std::move(target)), core_(std::move(core)),
        name_(std::move(name)) {}

  IOStatus Append(const rocksdb::Slice& data, const IOOptions& o, IODebugContext* d) override {
    absl::MutexLock lock(&core_->mu);
    if (core_->power_off) return Off();
    IOStatus s = target()->Append(data, o, d);
    if (s.ok()) Grew(core_->files[name_].written + data.size());
    return s;
  }
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo&, IODebugContext* d) override {
    return Append(data, o, d);
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* d) override {
    absl::MutexLock lock(&core_->mu);
    if (core_->power_off) return Off();
    IOStatus s = target()->PositionedAppend(data, offset, o, d);
    if (s.ok()) Grew(std::max(core_->files[name_].written, offset + data.size()));
    return s;
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo&, IODebugContext* d) override {
    return PositionedAppend(data, offset, o, d);
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* d) override {
    absl::MutexLock lock(&core_->mu);
    if (core_->power_off) return Off();
    IOStatus s = target()->Truncate(size, o, d);
    if (s.ok()) {
      Core::FileState& f = core_->files[name_];
      f.written = size;
      f.synced = std::min(f.synced, size);
    }
    return s;
  }
  IOStatus Flush(const IOOptions& o, IODebugContext* d) override {
    absl::MutexLock lock(&core_->mu);
    if (core_->power_off) return Off();
    return target()->Flush(o, d);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* d) override {
    absl::MutexLock lock(&core_->mu);
    if (core_->power_off) return Off();
    IOStatus s = target()->Sync(o, d);
    if (s.ok()) Synced();
    return s;
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* d) override {
    absl::MutexLock lock(&core_->mu);
    if (core_->power_off) return Off();
    IOStatus s = target()->Fsync(o, d);
    if (s.ok()) Synced();
    return s;
  }
  // Not a durability point: the kernel may or may not have written the range.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                     IODebugContext* d) override {
    absl::MutexLock lock(&core_->mu);
    if (core_->power_off) return Off();
    return target()->RangeSync(offset, nbytes, o, d);
  }
  // Closing writes nothing the file system keeps (buffers live above us, and POSIX
  // close only trims preallocation to what was written), so it is allowed after the cut:
  // that is how the database lets go of its files.
  IOStatus Close(const IOOptions& o, IODebugContext* d) override {
    return target()->Close(o, d);
  }

 private:
  void Grew(uint64_t written) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_->mu) {
    core_->files[name_].written = written;
    core_->last_written = name_;
    if (core_->writes_until_cut > 0 && --core_->writes_until_cut == 0) {
      core_->power_off = true;
    }
  }
  void Synced() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_->mu) {
    Core::FileState& f = core_->files[name_];
    f.synced = f.written;
  }

  std::shared_ptr<Core> core_;
  const std::string name_;
};

class Directory : public rocksdb::FSDirectoryWrapper {
 public:
  Directory(std::unique_ptr<rocksdb::FSDirectory> target, std::shared_ptr<Core> core,
            std::string name)
      : FSDirectoryWrapper(std::move(target)), core_(std::move(core)),
        name_(StripSlashes(std::move(name))) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* d) override {
    return Synced(FSDirectoryWrapper::Fsync(o, d));
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* d,
                               const rocksdb::DirFsyncOptions& options) override {
    return Synced(FSDirectoryWrapper::FsyncWithDirOptions(o, d, options));
  }

 private:
  IOStatus Synced(IOStatus s) {
    absl::MutexLock lock(&core_->mu);
    if (core_->power_off) return Off();
    if (!s.ok()) return s;
    for (auto it = core_->created_since_dir_sync.begin();
         it != core_->created_since_dir_sync.end();) {
      it = Parent(*it) == name_ ? core_->created_since_dir_sync.erase(it) : std::next(it);
    }
    return s;
  }

  std::shared_ptr<Core> core_;
  const std::string name_;
};

// Sets `path`'s size to `size`, zeroing [zero_from, zero_to). Returns errno on failure.
int CutFile(const std::string& path, uint64_t size, uint64_t zero_from, uint64_t zero_to) {
  if (truncate(path.c_str(), static_cast<off_t>(size)) != 0) return errno;
  zero_to = std::min(zero_to, size);
  if (zero_from >= zero_to) return 0;
  const int fd = open(path.c_str(), O_WRONLY);
  if (fd < 0) return errno;
  const std::vector<char> zeros(zero_to - zero_from, 0);
  const ssize_t n = pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(zero_from));
  const int err = n == static_cast<ssize_t>(zeros.size()) ? 0 : (n < 0 ? errno : EIO);
  close(fd);
  return err;
}

// True if the `size` bytes of `path` are all zero.
bool AllZeros(const std::string& path, uint64_t size) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  std::vector<char> buffer(size_t{64} << 10);
  uint64_t at = 0;
  bool zeros = true;
  while (zeros && at < size) {
    const ssize_t n = pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(at));
    if (n <= 0) break;
    for (ssize_t i = 0; i < n && zeros; ++i) zeros = buffer[i] == 0;
    at += static_cast<uint64_t>(n);
  }
  close(fd);
  return zeros && at == size;
}

}  // namespace

PowerCutFs::PowerCutFs()
    : FileSystemWrapper(rocksdb::FileSystem::Default()), core_(std::make_shared<Core>()) {}

void PowerCutFs::CutPower() {
  absl::MutexLock lock(&core_->mu);
  core_->power_off = true;
}

void PowerCutFs::CutPowerAfterWrites(uint64_t n) {
  absl::MutexLock lock(&core_->mu);
  core_->writes_until_cut = n;
}

absl::StatusOr<PowerCutFs::CutReport> PowerCutFs::LoseUnsyncedData(std::mt19937_64& rng,
                                                                  bool tear) {
  absl::MutexLock lock(&core_->mu);
  CutReport report;
  for (const auto& [path, f] : core_->files) {
    if (core_->created_since_dir_sync.count(path) != 0) continue;  // deleted below
    if (f.written <= f.synced) continue;
    uint64_t keep = f.synced;
    uint64_t zero_from = keep;
    if (tear && path == core_->last_written) {
      const uint64_t unsynced = f.written - f.synced;
      keep += std::uniform_int_distribution<uint64_t>(0, unsynced)(rng);
      zero_from = std::uniform_int_distribution<uint64_t>(f.synced, keep)(rng);
      report.bytes_torn = keep - f.synced;
    }
    report.bytes_dropped += f.written - keep;
    // A reused file of zeros keeps its size; what was not kept reverts to zeros.
    const uint64_t size = std::max(keep, f.zeros_until);
    if (const int err = CutFile(path, size, zero_from, std::max(keep, f.written)); err != 0) {
      return absl::ErrnoToStatus(err, absl::StrCat("cutting ", path));
    }
  }
  for (const std::string& path : core_->created_since_dir_sync) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return absl::ErrnoToStatus(errno, absl::StrCat("deleting ", path));
    }
    ++report.files_deleted;
  }
  core_->files.clear();
  core_->created_since_dir_sync.clear();
  core_->last_written.clear();
  core_->writes_until_cut = 0;
  core_->power_off = false;
  return report;
}

IOStatus PowerCutFs::Wrap(const std::string& name, bool existed, uint64_t size,
                          std::unique_ptr<rocksdb::FSWritableFile>* result) {
  core_->files[name] = Core::FileState{size, size};
  if (!existed) core_->created_since_dir_sync.insert(name);
  *result = std::make_unique<File>(std::move(*result), core_, name);
  return IOStatus::OK();
}

IOStatus PowerCutFs::NewWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                     std::unique_ptr<rocksdb::FSWritableFile>* result,
                                     IODebugContext* d) {
  absl::MutexLock lock(&core_->mu);
  if (core_->power_off) return Off();
  const bool existed = target()->FileExists(name, o.io_options, d).ok();
  IOStatus s = target()->NewWritableFile(name, o, result, d);
  if (!s.ok()) return s;
  // An existing file is truncated by opening it: its old bytes are gone either way.
  return Wrap(name, existed, 0, result);
}

IOStatus PowerCutFs::ReopenWritableFile(const std::string& name,
                                        const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSWritableFile>* result,
                                        IODebugContext* d) {
  absl::MutexLock lock(&core_->mu);
  if (core_->power_off) return Off();
  uint64_t size = 0;
  const bool existed = target()->GetFileSize(name, o.io_options, &size, d).ok();
  IOStatus s = target()->ReopenWritableFile(name, o, result, d);
  if (!s.ok()) return s;
  return Wrap(name, existed, existed ? size : 0, result);
}

// How journal/zeroed_log.h hands RocksDB a spare of zeros (see the header). RocksDB's own
// log recycling (off in Journal) reuses files of old records: refused, not modelled.
IOStatus PowerCutFs::ReuseWritableFile(const std::string& name, const std::string& old_name,
                                       const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       IODebugContext* d) {
  absl::MutexLock lock(&core_->mu);
  if (core_->power_off) return Off();
  uint64_t size = 0;
  IOStatus s = target()->GetFileSize(old_name, o.io_options, &size, d);
  if (!s.ok()) return s;
  // What an unsynced overwrite loses reverts to the old bytes: modelled for zeros only.
  if (!AllZeros(old_name, size)) {
    return IOStatus::NotSupported("PowerCutFs models reusing files of zeros only");
  }
  s = target()->ReuseWritableFile(name, old_name, o, result, d);
  if (!s.ok()) return s;
  // Like a rename (durable at once), then an open without truncation.
  core_->files.erase(old_name);
  core_->created_since_dir_sync.erase(old_name);
  core_->created_since_dir_sync.erase(name);
  s = Wrap(name, /*existed=*/true, 0, result);
  core_->files[name].zeros_until = size;
  return s;
}

IOStatus PowerCutFs::NewDirectory(const std::string& name, const IOOptions& o,
                                  std::unique_ptr<rocksdb::FSDirectory>* result,
                                  IODebugContext* d) {
  IOStatus s = target()->NewDirectory(name, o, result, d);
  if (s.ok()) *result = std::make_unique<Directory>(std::move(*result), core_, name);
  return s;
}

IOStatus PowerCutFs::RenameFile(const std::string& src, const std::string& dst,
                                const IOOptions& o, IODebugContext* d) {
  absl::MutexLock lock(&core_->mu);
  if (core_->power_off) return Off();
  IOStatus s = target()->RenameFile(src, dst, o, d);
  if (!s.ok()) return s;
  // The data follows the inode; the rename itself counts as durable (see the header).
  auto it = core_->files.find(src);
  if (it != core_->files.end()) {
    core_->files[dst] = it->second;
    core_->files.erase(src);
  } else {
    core_->files.erase(dst);
  }
  core_->created_since_dir_sync.erase(src);
  core_->created_since_dir_sync.erase(dst);
  if (core_->last_written == src) core_->last_written = dst;
  return s;
}

IOStatus PowerCutFs::LinkFile(const std::string& src, const std::string& dst,
                              const IOOptions& o, IODebugContext* d) {
  absl::MutexLock lock(&core_->mu);
  if (core_->power_off) return Off();
  return target()->LinkFile(src, dst, o, d);
}

IOStatus PowerCutFs::DeleteFile(const std::string& name, const IOOptions& o,
                                IODebugContext* d) {
  absl::MutexLock lock(&core_->mu);
  if (core_->power_off) return Off();
  IOStatus s = target()->DeleteFile(name, o, d);
  if (s.ok()) {
    core_->files.erase(name);
    core_->created_since_dir_sync.erase(name);
  }
  return s;
}

IOStatus PowerCutFs::Truncate(const std::string& name, size_t size, const IOOptions& o,
                              IODebugContext* d) {
  absl::MutexLock lock(&core_->mu);
  if (core_->power_off) return Off();
  IOStatus s = target()->Truncate(name, size, o, d);
  auto it = core_->files.find(name);
  if (s.ok() && it != core_->files.end()) {
    it->second.written = size;
    it->second.synced = std::min<uint64_t>(it->second.synced, size);
  }
  return s;
}

}  // namespace almanac::journal::testing
