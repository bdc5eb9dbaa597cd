#include "ctl/backup/backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/sync_directory.h"
#include "ctl/backup/limits.h"
#include "ctl/controller.h"
#include "ctl/state/snapshot.h"
#include "ctl/state/state.h"
#include "ctl/zt/identity.h"
#include "journal/chain.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace almanac::backup {
namespace {

constexpr char kManifestMagic[] = "almanac-backup";
constexpr char kManifestVersion[] = "1";

absl::Status Errno(int err, const std::string& what) { return absl::ErrnoToStatus(err, what); }

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

absl::Status MakeDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0) return Errno(errno, absl::StrCat("cannot create ", dir));
  return absl::OkStatus();
}

// Copies a small file (kHomeFileBytesMax) with `mode`, synced. `optional`: a missing
// source is not an error.
absl::Status CopySmallFile(const std::string& from, const std::string& to, int mode,
                           bool optional) {
  absl::StatusOr<std::string> bytes = ctl::ReadSmallFile(from, kHomeFileBytesMax);
  if (optional && absl::IsNotFound(bytes.status())) return absl::OkStatus();
  if (!bytes.ok()) return bytes.status();
  return ctl::WriteFileAtomically(to, *bytes, mode);
}

// Copies a big file chunk by chunk and fsyncs the copy.
absl::Status CopyBigFile(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno(errno, absl::StrCat("cannot open ", from));
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return Errno(err, absl::StrCat("cannot create ", to));
  }
  std::string chunk(kCopyChunkBytes, '\0');
  absl::Status status;
  while (status.ok()) {
    const ssize_t n = ::read(in, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Errno(errno, absl::StrCat("cannot read ", from));
      break;
    }
    if (n == 0) break;
    size_t done = 0;
    while (done < static_cast<size_t>(n)) {
      const ssize_t w = ::write(out, chunk.data() + done, static_cast<size_t>(n) - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        status = Errno(errno, absl::StrCat("cannot write ", to));
        break;
      }
      done += static_cast<size_t>(w);
    }
  }
  if (status.ok() && ::fsync(out) != 0) status = Errno(errno, absl::StrCat("cannot fsync ", to));
  ::close(in);
  ::close(out);
  return status;
}

// Snapshot files are never changed after their rename into place, so a hard link is a
// safe copy (and free); across file systems the bytes are copied.
absl::Status LinkOrCopy(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return absl::OkStatus();
  if (errno != EXDEV && errno != EPERM && errno != EMLINK) {
    return Errno(errno, absl::StrCat("cannot link ", from, " to ", to));
  }
  return CopyBigFile(from, to);
}

// The seq in a snapshot file's name ("snapshot-<20 digits>.alms"); 0 when it is not one.
uint64_t SnapshotSeqFromName(const std::string& path) {
  const std::string base = path.substr(path.rfind('/') + 1);
  absl::string_view digits(base);
  if (!absl::ConsumePrefix(&digits, "snapshot-") || !absl::ConsumeSuffix(&digits, ".alms")) {
    return 0;
  }
  uint64_t seq = 0;
  if (!absl::SimpleAtoi(digits, &seq)) return 0;
  return seq;
}

// Copies the newest snapshot file of `from_dir` whose seq is at most `seq_max` into
// `to_dir` (created). Returns its seq, 0 when there is none.
absl::StatusOr<uint64_t> CopyNewestSnapshot(const std::string& from_dir, uint64_t seq_max,
                                            const std::string& to_dir) {
  if (absl::Status s = MakeDirectory(to_dir); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> files = state::ListSnapshotFiles(from_dir);
  if (!files.ok()) return files.status();
  for (const std::string& file : *files) {  // newest first
    const uint64_t seq = SnapshotSeqFromName(file);
    if (seq == 0 || seq > seq_max) continue;
    const std::string to = to_dir + file.substr(file.rfind('/'));
    if (absl::Status s = LinkOrCopy(file, to); !s.ok()) return s;
    if (absl::Status s = SyncDirectory(to_dir); !s.ok()) return s;
    return seq;
  }
  return 0;
}

absl::Status CopyHomeFiles(const std::string& from_dir, const std::string& to_dir) {
  const ctl::HomePaths from(from_dir), to(to_dir);
  if (absl::Status s = CopySmallFile(from.identity_secret(), to.identity_secret(), 0600, false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CopySmallFile(from.identity_public(), to.identity_public(), 0644, false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CopySmallFile(from.auth_token(), to.auth_token(), 0600, false); !s.ok()) {
    return s;
  }
  return CopySmallFile(from_dir + "/planet", to_dir + "/planet", 0644, /*optional=*/true);
}

std::string BackupName(absl::Time now, uint64_t last_seq) {
  return absl::StrCat(kBackupPrefix,
                      absl::FormatTime("%Y%m%dT%H%M%E3SZ", now, absl::UTCTimeZone()), "-",
                      last_seq);
}

// Removes a directory tree, first renaming it to a ".partial-" name so that a crash in
// the middle leaves nothing that looks like a backup.
absl::Status RemoveBackupDir(const std::string& backup_dir, const std::string& name) {
  const std::string from = backup_dir + "/" + name;
  const std::string doomed = absl::StrCat(backup_dir, "/", kPartialPrefix, "deleted-", name);
  if (::rename(from.c_str(), doomed.c_str()) != 0) {
    return Errno(errno, absl::StrCat("cannot rename ", from, " for deletion"));
  }
  if (absl::Status s = SyncDirectory(backup_dir); !s.ok()) return s;
  std::error_code ec;
  std::filesystem::remove_all(doomed, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot remove ", doomed, ": ", ec.message()));
  return absl::OkStatus();
}

// The entry names of `dir` (not "." or ".."), bounded.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Errno(errno, absl::StrCat("cannot list ", dir));
  std::vector<std::string> names;
  absl::Status status;
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (names.size() >= kBackupDirEntriesMax) {
      status = absl::ResourceExhaustedError(
          absl::StrCat(dir, " holds more than ", kBackupDirEntriesMax, " entries"));
      break;
    }
    names.push_back(name);
  }
  ::closedir(d);
  if (!status.ok()) return status;
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<journal::ChainHash> ParseHash(absl::string_view hex) {
  journal::ChainHash hash{};
  if (hex.size() != 2 * hash.size()) return absl::DataLossError("chain_hash: not 64 hex digits");
  for (size_t i = 0; i < hash.size(); ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      const char c = hex[2 * i + k];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else {
        return absl::DataLossError("chain_hash: not 64 lowercase hex digits");
      }
      v = v * 16 + d;
    }
    hash[i] = static_cast<uint8_t>(v);
  }
  return hash;
}

// The backup's journal, opened read-only (nothing in the backup is changed), and its
// last seq from the meta key.
struct SourceJournal {
  std::unique_ptr<rocksdb::DB> db;
  uint64_t last_seq = 0;
};

absl::StatusOr<SourceJournal> OpenSourceJournal(const std::string& dir) {
  rocksdb::Options options;
  options.paranoid_checks = true;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, dir, &raw);
  if (!s.ok()) return journal::FromRocksDb(s, absl::StrCat("open ", dir, " read-only"));
  SourceJournal out;
  out.db.reset(raw);
  std::string format, last;
  rocksdb::Status got = out.db->Get(rocksdb::ReadOptions(), journal::kFormatKey, &format);
  if (!got.ok() || format != journal::kFormatVersion) {
    return absl::DataLossError(absl::StrCat(dir, " is not a version ",
                                            std::string(journal::kFormatVersion), " journal"));
  }
  got = out.db->Get(rocksdb::ReadOptions(), journal::kLastSeqKey, &last);
  if (!got.ok() || last.size() != 8) {
    return absl::DataLossError("the journal's last_seq meta key is missing or damaged");
  }
  out.last_seq = journal::DecodeBigEndian64(last);
  return out;
}

// Writes records 1..to_seq of `source` into a new RocksDB journal at `dir`, in the
// stored format of journal/record_format.h (each value as it was: record bytes and
// chain hash), verifying each record on the way. Returns the tip at to_seq.
absl::StatusOr<journal::ChainTip> CopyRecords(const SourceJournal& source,
                                              uint64_t to_seq, const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  options.paranoid_checks = true;
  options.compression = rocksdb::kNoCompression;  // as the journal writes it
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(options, dir, &raw);
  if (!opened.ok()) return journal::FromRocksDb(opened, absl::StrCat("create journal ", dir));
  std::unique_ptr<rocksdb::DB> db(raw);

  // The format key first, and last_seq rewritten with every batch (as the journal does),
  // so the copy is a valid journal at every batch boundary.
  rocksdb::WriteBatch batch;
  batch.Put(journal::kFormatKey, journal::kFormatVersion);
  uint64_t batch_last = 0;
  absl::Status write_status;
  auto flush = [&](bool sync) {
    batch.Put(journal::kLastSeqKey, journal::RecordKey(batch_last));  // 8 bytes BE
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    write_status = journal::FromRocksDb(db->Write(wo, &batch), "restore write");
    batch.Clear();
    return write_status;
  };
  journal::ScanBounds bounds;
  bounds.seq_last = to_seq;
  absl::StatusOr<journal::ChainTip> tip = journal::ScanChain(
      source.db.get(), journal::ChainTip{}, bounds, /*fill_cache=*/false,
      [&](const journal::VerifiedRecord& r) -> absl::Status {
        batch.Put(journal::RecordKey(r.seq), journal::StoredValue(r.bytes, r.chain_hash));
        batch_last = r.seq;
        if (batch.GetDataSize() >= kRestoreBatchBytesMax) return flush(/*sync=*/false);
        return absl::OkStatus();
      });
  if (!tip.ok()) return tip.status();
  if (tip->seq != to_seq) {
    return absl::DataLossError(absl::StrCat("the backup's journal ends at record ", tip->seq,
                                            ", before ", to_seq));
  }
  if (absl::Status s = flush(/*sync=*/true); !s.ok()) return s;
  if (absl::Status s = journal::FromRocksDb(db->Close(), "restore close"); !s.ok()) return s;
  return *tip;
}

}  // namespace

std::string FormatManifest(const Manifest& m) {
  return absl::StrCat(kManifestMagic, " ", kManifestVersion, "\n",
                      "controller ", state::AddressHex(m.controller), "\n",
                      "last_seq ", m.last_seq, "\n",
                      "chain_hash ", journal::HashHex(m.chain_hash), "\n",
                      "created_ms ", m.created_ms, "\n",
                      "snapshot_seq ", m.snapshot_seq, "\n");
}

absl::StatusOr<Manifest> ParseManifest(const std::string& text) {
  if (text.size() > kManifestBytesMax) return absl::DataLossError("manifest is too large");
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.size() > kManifestLinesMax) return absl::DataLossError("manifest has too many lines");
  if (lines.empty() || lines[0] != absl::StrCat(kManifestMagic, " ", kManifestVersion)) {
    return absl::DataLossError("not an almanac-backup 1 manifest");
  }
  Manifest m;
  bool controller = false, last_seq = false, hash = false, created = false, snapshot = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(lines[i], absl::MaxSplits(' ', 1));
    const absl::string_view key = kv.first, value = kv.second;
    if (key == "controller") {
      if (value.size() != 10 || !absl::SimpleHexAtoi(value, &m.controller)) {
        return absl::DataLossError("manifest controller: not 10 hex digits");
      }
      controller = true;
    } else if (key == "last_seq") {
      if (!absl::SimpleAtoi(value, &m.last_seq) || m.last_seq == 0 ||
          m.last_seq > journal::kSeqMax) {
        return absl::DataLossError("manifest last_seq: not a record number");
      }
      last_seq = true;
    } else if (key == "chain_hash") {
      absl::StatusOr<journal::ChainHash> h = ParseHash(value);
      if (!h.ok()) return absl::DataLossError(absl::StrCat("manifest ", h.status().message()));
      m.chain_hash = *h;
      hash = true;
    } else if (key == "created_ms") {
      if (!absl::SimpleAtoi(value, &m.created_ms) || m.created_ms < 0) {
        return absl::DataLossError("manifest created_ms: not a time");
      }
      created = true;
    } else if (key == "snapshot_seq") {
      if (!absl::SimpleAtoi(value, &m.snapshot_seq)) {
        return absl::DataLossError("manifest snapshot_seq: not a number");
      }
      snapshot = true;
    }
  }
  if (!controller || !last_seq || !hash || !created || !snapshot) {
    return absl::DataLossError("manifest lacks a required line");
  }
  if (m.snapshot_seq > m.last_seq) {
    return absl::DataLossError("manifest snapshot_seq is past last_seq");
  }
  return m;
}

std::string FormatTime(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S UTC", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

nlohmann::json BackupJson(const BackupInfo& b) {
  return nlohmann::json{{"name", b.name},
                        {"path", b.path},
                        {"controller", state::AddressHex(b.manifest.controller)},
                        {"lastSeq", b.manifest.last_seq},
                        {"chainHash", journal::HashHex(b.manifest.chain_hash)},
                        {"createdMs", b.manifest.created_ms},
                        {"created", FormatTime(b.manifest.created_ms)},
                        {"snapshotSeq", b.manifest.snapshot_seq}};
}

absl::StatusOr<BackupInfo> CreateBackup(const ctl::HomePaths& home,
                                        const journal::Journal& journal,
                                        const std::string& backup_dir, absl::Time now) {
  if (absl::Status s = ctl::EnsureDirectory(backup_dir); !s.ok()) return s;
  absl::StatusOr<zt::Identity> identity = zt::Identity::FromSecretFile(home.identity_secret());
  if (!identity.ok()) return identity.status();

  // Built under a ".partial-" name: a crash anywhere below leaves nothing listed.
  const std::string partial = absl::StrCat(backup_dir, "/", kPartialPrefix,
                                           BackupName(now, 0), "-", ::getpid());
  if (absl::Status s = MakeDirectory(partial); !s.ok()) return s;
  const ctl::HomePaths out(partial);
  auto fail = [&partial](absl::Status status) {
    std::error_code ec;
    std::filesystem::remove_all(partial, ec);
    return status;
  };
  if (absl::Status s = CopyHomeFiles(home.dir, partial); !s.ok()) return fail(s);
  // The snapshot is copied BEFORE the checkpoint: its records were durable before it was
  // written, so the checkpoint taken after holds them all.
  absl::StatusOr<uint64_t> snapshot_seq =
      CopyNewestSnapshot(home.snapshots(), journal::kSeqMax, out.snapshots());
  if (!snapshot_seq.ok()) return fail(snapshot_seq.status());
  if (absl::Status s = journal.CreateCheckpoint(out.journal()); !s.ok()) return fail(s);

  // What was copied, verified from record 1: the manifest describes the copy, not the
  // live journal (which has moved on).
  Manifest manifest;
  {
    absl::StatusOr<std::unique_ptr<journal::Journal>> copy =
        journal::Journal::Open(out.journal(), journal::JournalOptions{});
    if (!copy.ok()) {
      return fail(absl::DataLossError(absl::StrCat("the journal checkpoint does not verify: ",
                                                   copy.status().message())));
    }
    manifest.last_seq = (*copy)->last_seq();
    manifest.chain_hash = (*copy)->last_hash();
  }
  if (manifest.last_seq == 0) return fail(absl::FailedPreconditionError("the journal is empty"));
  if (*snapshot_seq > manifest.last_seq) {
    return fail(absl::DataLossError(absl::StrCat("the home's snapshot at ", *snapshot_seq,
                                                 " is past its journal's last record ",
                                                 manifest.last_seq)));
  }
  manifest.controller = identity->address();
  manifest.created_ms = absl::ToUnixMillis(now);
  manifest.snapshot_seq = *snapshot_seq;
  if (absl::Status s = SyncDirectory(out.journal()); !s.ok()) return fail(s);
  if (absl::Status s = SyncDirectory(partial); !s.ok()) return fail(s);
  if (absl::Status s = ctl::WriteFileAtomically(partial + "/" + kManifestName,
                                                FormatManifest(manifest), 0600);
      !s.ok()) {
    return fail(s);
  }
  if (absl::Status s = SyncDirectory(partial); !s.ok()) return fail(s);

  std::string name = BackupName(now, manifest.last_seq);
  for (int attempt = 0;; ++attempt) {
    const std::string candidate = attempt == 0 ? name : absl::StrCat(name, "-", attempt);
    const std::string final_path = backup_dir + "/" + candidate;
    // rename() would replace an empty directory of that name; refuse any existing one.
    if (!Exists(final_path)) {
      if (::rename(partial.c_str(), final_path.c_str()) != 0) {
        return fail(Errno(errno, absl::StrCat("cannot rename ", partial, " to ", final_path)));
      }
      name = candidate;
      break;
    }
    if (attempt + 1 >= kNameAttemptsMax) {
      return fail(absl::AlreadyExistsError(absl::StrCat(final_path, " exists")));
    }
  }
  if (absl::Status s = SyncDirectory(backup_dir); !s.ok()) return s;
  return BackupInfo{backup_dir + "/" + name, name, manifest};
}

absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir,
                                                    std::vector<std::string>* skipped) {
  if (!Exists(backup_dir)) return absl::NotFoundError(absl::StrCat("no directory ", backup_dir));
  absl::StatusOr<std::vector<std::string>> names = ListDir(backup_dir);
  if (!names.ok()) return names.status();
  std::vector<BackupInfo> out;
  for (const std::string& name : *names) {
    if (name.rfind(kBackupPrefix, 0) != 0) continue;
    const std::string path = backup_dir + "/" + name;
    absl::StatusOr<std::string> text =
        ctl::ReadSmallFile(path + "/" + kManifestName, kManifestBytesMax);
    absl::StatusOr<Manifest> manifest =
        text.ok() ? ParseManifest(*text) : absl::StatusOr<Manifest>(text.status());
    if (!manifest.ok()) {
      if (skipped != nullptr) {
        skipped->push_back(absl::StrCat(path, ": ", manifest.status().message()));
      }
      continue;
    }
    out.push_back(BackupInfo{path, name, *manifest});
  }
  std::sort(out.begin(), out.end(), [](const BackupInfo& a, const BackupInfo& b) {
    if (a.manifest.created_ms != b.manifest.created_ms) {
      return a.manifest.created_ms < b.manifest.created_ms;
    }
    return a.name < b.name;
  });
  return out;
}

absl::StatusOr<std::vector<std::string>> PruneBackups(const std::string& backup_dir,
                                                      uint64_t controller,
                                                      const Retention& retention,
                                                      absl::Time now) {
  absl::StatusOr<std::vector<BackupInfo>> all = ListBackups(backup_dir, nullptr);
  if (!all.ok()) return all.status();
  std::vector<const BackupInfo*> ours;
  for (const BackupInfo& b : *all) {
    if (b.manifest.controller == controller) ours.push_back(&b);
  }
  const size_t keep = std::clamp<size_t>(retention.keep, 1, kBackupsKeptMax);
  std::vector<std::string> deleted;
  absl::Status first_error;
  // Oldest first; the newest (last) is never deleted.
  for (size_t i = 0; i + 1 < ours.size(); ++i) {
    const BackupInfo& b = *ours[i];
    const bool over_count = ours.size() - i > keep;
    const bool too_old = now - absl::FromUnixMillis(b.manifest.created_ms) > retention.max_age;
    if (!over_count && !too_old) continue;
    if (absl::Status s = RemoveBackupDir(backup_dir, b.name); !s.ok()) {
      if (first_error.ok()) first_error = s;
      continue;
    }
    deleted.push_back(b.name);
  }
  // Leftovers of interrupted backups and deletions.
  absl::StatusOr<std::vector<std::string>> names = ListDir(backup_dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (name.rfind(kPartialPrefix, 0) != 0) continue;
    const std::string path = backup_dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (now - absl::FromUnixSeconds(st.st_mtime) < kPartialStaleAfter) continue;
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec && first_error.ok()) {
      first_error = absl::InternalError(absl::StrCat("cannot remove ", path, ": ", ec.message()));
    }
  }
  if (!first_error.ok()) return first_error;
  return deleted;
}

absl::StatusOr<BackupMade> BackupAndPrune(const ctl::HomePaths& home,
                                          const journal::Journal& journal,
                                          const std::string& backup_dir,
                                          const Retention& retention, absl::Time now) {
  absl::StatusOr<BackupInfo> made = CreateBackup(home, journal, backup_dir, now);
  if (!made.ok()) return made.status();
  BackupMade out;
  out.backup = *std::move(made);
  // Pruned by the manifest's controller (the home's identity): backups of other
  // controllers sharing the directory are never touched.
  absl::StatusOr<std::vector<std::string>> pruned =
      PruneBackups(backup_dir, out.backup.manifest.controller, retention, now);
  if (pruned.ok()) {
    out.pruned = *std::move(pruned);
  } else {
    out.prune_status = pruned.status();
  }
  return out;
}

absl::StatusOr<RestoreResult> RestoreBackup(const RestoreOptions& options) {
  absl::StatusOr<std::string> text =
      ctl::ReadSmallFile(options.backup + "/" + kManifestName, kManifestBytesMax);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat(options.backup, " is not a complete backup (no ",
                                            kManifestName, ")"));
  }
  absl::StatusOr<Manifest> manifest = ParseManifest(*text);
  if (!manifest.ok()) {
    return absl::DataLossError(absl::StrCat(options.backup, "/", kManifestName, ": ",
                                            manifest.status().message()));
  }
  const uint64_t to_seq = options.to_seq == 0 ? manifest->last_seq : options.to_seq;
  if (to_seq > manifest->last_seq) {
    return absl::InvalidArgumentError(absl::StrCat("--to-seq ", to_seq, " is past the backup's ",
                                                   "last record ", manifest->last_seq));
  }
  if (options.home.empty()) return absl::InvalidArgumentError("no target home given");

  // The target: missing, or an empty directory (removed, then replaced by the rename).
  bool target_is_empty_dir = false;
  if (Exists(options.home)) {
    std::error_code ec;
    if (!std::filesystem::is_directory(options.home, ec) ||
        !std::filesystem::is_empty(options.home, ec) || ec) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing to restore into ", options.home, ": it exists and is not an empty "
          "directory"));
    }
    target_is_empty_dir = true;
  }
  std::string home = options.home;
  while (home.size() > 1 && home.back() == '/') home.pop_back();
  const std::string partial = home + ".partial-restore";
  if (Exists(partial)) {
    return absl::FailedPreconditionError(absl::StrCat(
        partial, " exists (an interrupted restore?): remove it first"));
  }
  if (absl::Status s = MakeDirectory(partial); !s.ok()) return s;
  auto fail = [&partial](absl::Status status) {
    std::error_code ec;
    std::filesystem::remove_all(partial, ec);
    return status;
  };
  const ctl::HomePaths out(partial);
  const ctl::HomePaths source(options.backup);

  RestoreResult result;
  result.backup_last_seq = manifest->last_seq;
  {
    absl::StatusOr<SourceJournal> view = OpenSourceJournal(source.journal());
    if (!view.ok()) return fail(view.status());
    if (view->last_seq != manifest->last_seq) {
      return fail(absl::DataLossError(absl::StrCat(
          "the backup's journal ends at ", view->last_seq, " but its manifest says ",
          manifest->last_seq)));
    }
    absl::StatusOr<journal::ChainTip> tip = CopyRecords(*view, to_seq, out.journal());
    if (!tip.ok()) return fail(tip.status());
    if (to_seq == manifest->last_seq && tip->hash != manifest->chain_hash) {
      return fail(absl::DataLossError(absl::StrCat(
          "record ", to_seq, " has chain hash ", journal::HashHex(tip->hash),
          " but the manifest says ", journal::HashHex(manifest->chain_hash))));
    }
    result.last_seq = tip->seq;
    result.chain_hash = tip->hash;
  }
  if (absl::Status s = CopyHomeFiles(options.backup, partial); !s.ok()) return fail(s);
  absl::StatusOr<uint64_t> snapshot_seq =
      CopyNewestSnapshot(source.snapshots(), to_seq, out.snapshots());
  if (!snapshot_seq.ok()) return fail(snapshot_seq.status());
  result.snapshot_seq = *snapshot_seq;

  // The proof that the home starts: open it as almanacd would (chain, snapshot against
  // the chain, replay, identity against the journal), writing nothing.
  {
    ctl::ControllerOptions copts;
    copts.home = partial;
    copts.snapshot_interval_records = 0;
    copts.seal_interval_records = 0;
    copts.seal_interval_seconds = 0;
    copts.zeroed_log_bytes = 0;  // almanacd makes the spare when it starts on this home
    absl::StatusOr<std::unique_ptr<ctl::Controller>> c = ctl::Controller::Open(copts);
    if (!c.ok()) {
      return fail(absl::DataLossError(absl::StrCat("the restored home does not open: ",
                                                   c.status().message())));
    }
    bool same = false;
    (*c)->sequencer()->Read([&](const state::State& s) {
      same = s.last_seq() == result.last_seq && s.chain_hash() == result.chain_hash;
      result.networks = s.network_count();
      result.members = s.member_count();
      return 0;
    });
    if (!same) {
      return fail(absl::DataLossError("the restored home opened at another record"));
    }
  }
  if (absl::Status s = SyncDirectory(partial); !s.ok()) return fail(s);
  if (target_is_empty_dir && ::rmdir(home.c_str()) != 0) {
    return fail(Errno(errno, absl::StrCat("cannot replace the empty directory ", home)));
  }
  if (::rename(partial.c_str(), home.c_str()) != 0) {
    return fail(Errno(errno, absl::StrCat("cannot rename ", partial, " to ", home)));
  }
  const std::string parent = std::filesystem::path(home).parent_path().string();
  if (absl::Status s = SyncDirectory(parent.empty() ? "." : parent); !s.ok()) return s;
  return result;
}

}  // namespace almanac::backup
