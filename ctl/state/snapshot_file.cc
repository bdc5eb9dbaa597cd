// Snapshot files: the header of snapshot.h around the payload, written atomically.
#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "base/check.h"
#include "base/sync_directory.h"
#include "ctl/state/limits.h"
#include "ctl/state/snapshot.h"
#include "ctl/state/snapshot_internal.h"

namespace almanac::state {
namespace {

constexpr char kMagic[8] = {'A', 'L', 'M', 'S', 'N', 'A', 'P', '1'};
constexpr uint32_t kFormatVersion = 2;
constexpr char kPrefix[] = "snapshot-";
constexpr char kSuffix[] = ".alms";
constexpr size_t kSeqDigits = 20;
constexpr size_t kHashBytes = 32;
static_assert(kSnapshotHeaderBytes == 8 + 4 + 4 + 8 + 8 + kHashBytes, "header layout");

void PutLe(uint64_t value, size_t bytes, char* out) {
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>(value >> (8 * i));
}

uint64_t GetLe(const char* in, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) {
    value |= uint64_t{static_cast<uint8_t>(in[i])} << (8 * i);
  }
  return value;
}

std::array<uint8_t, kHashBytes> Hash(std::string_view payload) {
  // sodium_init is idempotent and thread-safe; crypto_generichash needs it first.
  if (sodium_init() < 0) ALMANAC_CHECK_MSG(false, "sodium_init failed");
  std::array<uint8_t, kHashBytes> hash;
  crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const uint8_t*>(payload.data()),
                     payload.size(), nullptr, 0);
  return hash;
}

absl::Status Errno(const std::string& what, const std::string& path) {
  int error = errno;
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

std::string FileName(uint64_t seq) {
  return absl::StrFormat("%s%0*u%s", kPrefix, static_cast<int>(kSeqDigits), seq, kSuffix);
}

// The seq in a final snapshot file name, or nullopt for any other name (temp files too).
std::optional<uint64_t> SeqFromName(const std::string& name) {
  if (name.size() != sizeof(kPrefix) - 1 + kSeqDigits + sizeof(kSuffix) - 1 ||
      !absl::StartsWith(name, kPrefix) || !absl::EndsWith(name, kSuffix)) {
    return std::nullopt;
  }
  std::string digits = name.substr(sizeof(kPrefix) - 1, kSeqDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  if (!absl::SimpleAtoi(digits, &seq)) return std::nullopt;
  return seq;
}

absl::Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t written = ::write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return Errno("write", path);
    data += written;
    size -= static_cast<size_t>(written);
  }
  return absl::OkStatus();
}

absl::Status WriteFileDurably(const std::string& path, std::string_view header,
                              std::string_view payload) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  absl::Status status = WriteAll(fd, header.data(), header.size(), path);
  if (status.ok()) status = WriteAll(fd, payload.data(), payload.size(), path);
  if (status.ok() && ::fsync(fd) != 0) status = Errno("fsync", path);
  if (::close(fd) != 0 && status.ok()) status = Errno("close", path);
  return status;
}

// A read-only mapping of a whole file: loading reads the payload in place instead of
// copying hundreds of MB into a buffer first. Unmapped when destroyed.
class MappedFile {
 public:
  static absl::StatusOr<MappedFile> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("open", path);
    struct stat info;
    if (::fstat(fd, &info) != 0) {
      absl::Status status = Errno("stat", path);
      ::close(fd);
      return status;
    }
    MappedFile file;
    file.size_ = static_cast<size_t>(info.st_size);
    if (file.size_ > 0) {
      void* data = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (data == MAP_FAILED) {
        absl::Status status = Errno("mmap", path);
        ::close(fd);
        return status;
      }
      file.data_ = static_cast<const char*>(data);
    }
    ::close(fd);  // the mapping keeps the file's pages
    return file;
  }
  MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr; }
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  std::string_view bytes() const { return std::string_view(data_, data_ ? size_ : 0); }

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

absl::Status CorruptFile(const std::string& path, const std::string& why) {
  return absl::DataLossError(absl::StrCat("snapshot file ", path, ": ", why));
}

// Checks the header and hash (snapshot.h layout) of a mapped file; returns the payload
// (a view into `data`). DataLoss names the file and the first check that failed.
absl::StatusOr<std::string_view> CheckedPayload(std::string_view data, const std::string& path,
                                                uint64_t name_seq) {
  auto corrupt = [&path](const std::string& why) { return CorruptFile(path, why); };
  if (data.size() < kSnapshotHeaderBytes) return corrupt("shorter than its header");
  const char* h = data.data();
  if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0) return corrupt("bad magic");
  uint64_t length = GetLe(h + 16, 8);
  if (length != data.size() - kSnapshotHeaderBytes) {
    return corrupt(absl::StrCat("header says ", length, " payload bytes, file has ",
                                data.size() - kSnapshotHeaderBytes));
  }
  if (length > kSnapshotPayloadBytesMax) return corrupt("payload too large");
  if (GetLe(h + 24, 8) != name_seq) return corrupt("seq in header differs from file name");
  std::string_view payload = data.substr(kSnapshotHeaderBytes, length);
  std::array<uint8_t, kHashBytes> hash = Hash(payload);
  if (std::memcmp(hash.data(), h + 32, kHashBytes) != 0) return corrupt("hash mismatch");
  // Checked after the hash (the header layout is the same in every version): an intact
  // file of another version is not damage, only unusable by this build.
  if (const uint64_t version = GetLe(h + 8, 4); version != kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot file ", path, ": format version ", version, ", this build reads ",
                     kFormatVersion, " (skipped; the journal is replayed instead)"));
  }
  return payload;
}

// Checks the header and hash and loads the payload. DataLoss names the file and the
// first check that failed.
absl::StatusOr<State> ParseSnapshotFile(const std::string& path, uint64_t name_seq) {
  absl::StatusOr<MappedFile> file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string_view> payload = CheckedPayload(file->bytes(), path, name_seq);
  if (!payload.ok()) return payload.status();
  auto corrupt = [&path](const std::string& why) { return CorruptFile(path, why); };
  absl::StatusOr<State> state = DeserializeState(*payload);
  if (!state.ok()) return corrupt(std::string(state.status().message()));
  if (state->last_seq() != name_seq) return corrupt("seq in payload differs from file name");
  return state;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListSnapshotFiles(const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> found;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) {
    if (errno == ENOENT) return std::vector<std::string>{};
    return Errno("open directory", dir);
  }
  while (struct dirent* entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    if (std::optional<uint64_t> seq = SeqFromName(name)) {
      found.emplace_back(*seq, dir + "/" + name);
    }
  }
  ::closedir(handle);
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.first > b.first;
  });
  std::vector<std::string> paths;
  for (auto& [seq, path] : found) paths.push_back(std::move(path));
  return paths;
}

absl::StatusOr<std::string> WriteSnapshotFile(const std::string& dir, const State& state) {
  flatbuffers::FlatBufferBuilder builder(internal::SnapshotBytesEstimate(state));
  internal::BuildSnapshot(state, builder);
  const std::string_view payload(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                                 builder.GetSize());
  return WriteSnapshotPayload(dir, state.last_seq(), payload);
}

absl::StatusOr<std::string> WriteSnapshotPayload(const std::string& dir, uint64_t seq,
                                                 std::string_view payload) {
  std::string header(kSnapshotHeaderBytes, '\0');
  std::memcpy(header.data(), kMagic, sizeof(kMagic));
  PutLe(kFormatVersion, 4, header.data() + 8);
  PutLe(payload.size(), 8, header.data() + 16);
  PutLe(seq, 8, header.data() + 24);
  std::array<uint8_t, kHashBytes> hash = Hash(payload);
  std::memcpy(header.data() + 32, hash.data(), kHashBytes);

  const std::string path = dir + "/" + FileName(seq);
  const std::string temp_path = path + ".tmp";
  absl::Status status = WriteFileDurably(temp_path, header, payload);
  if (status.ok() && ::rename(temp_path.c_str(), path.c_str()) != 0) {
    status = Errno("rename to", path);
  }
  if (!status.ok()) {
    ::unlink(temp_path.c_str());
    return status;
  }
  status = SyncDirectory(dir);
  if (!status.ok()) return status;

  // Retention: a failed delete is harmless (retried after the next write).
  absl::StatusOr<std::vector<std::string>> paths = ListSnapshotFiles(dir);
  if (paths.ok()) {
    for (size_t i = kSnapshotsKept; i < paths->size(); ++i) ::unlink((*paths)[i].c_str());
  }
  return path;
}

absl::StatusOr<std::string> ReadSnapshotPayload(const std::string& path) {
  const std::optional<uint64_t> name_seq = SeqFromName(path.substr(path.rfind('/') + 1));
  if (!name_seq.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a snapshot file name"));
  }
  absl::StatusOr<MappedFile> file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string_view> payload = CheckedPayload(file->bytes(), path, *name_seq);
  if (!payload.ok()) return payload.status();
  return std::string(*payload);
}

absl::StatusOr<LoadedSnapshot> LoadNewestSnapshot(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> paths = ListSnapshotFiles(dir);
  if (!paths.ok()) return paths.status();
  LoadedSnapshot loaded;
  for (const std::string& path : *paths) {
    std::string name = path.substr(path.rfind('/') + 1);
    absl::StatusOr<State> state = ParseSnapshotFile(path, *SeqFromName(name));
    if (state.ok()) {
      loaded.state = std::move(*state);
      loaded.path = path;
      return loaded;
    }
    // Unreadable or corrupt: report it and fall back to an older one (snapshots are only
    // an accelerator; the journal still holds everything).
    loaded.skipped.push_back(std::string(state.status().message()));
  }
  return loaded;
}

}  // namespace almanac::state
