// Where almanac-replay reads from: a controller home (live or stopped) or a backup
// directory, both laid out as ctl/home.h says (journal/, snapshots/, identity.public).
//
// The journal is opened READ-ONLY (RocksDB OpenForReadOnly): no lock is taken and nothing
// is written, so a running almanacd is not disturbed. A read-only handle sees the journal
// as of the moment it opened; Reopen() takes a newer view (used by `log --follow`).
//
// Thread safety: a JournalView is used by one thread at a time.
#ifndef ALMANAC_REPLAY_SOURCE_H_
#define ALMANAC_REPLAY_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctl/zt/identity.h"
#include "journal/chain.h"
#include "rocksdb/db.h"

namespace almanac::replay {

// The directory layout shared by homes and backups.
struct SourcePaths {
  explicit SourcePaths(std::string d) : dir(std::move(d)) {}
  std::string dir;
  std::string journal() const { return dir + "/journal"; }
  std::string snapshots() const { return dir + "/snapshots"; }
  std::string identity_public() const { return dir + "/identity.public"; }
};

class JournalView {
 public:
  // Opens `journal_dir` read-only and reads its meta keys. NotFound when there is no
  // journal; FailedPrecondition for an unknown format; DataLoss when the last_seq meta
  // key is missing or damaged; Internal for I/O errors.
  static absl::StatusOr<std::unique_ptr<JournalView>> Open(const std::string& journal_dir);

  // The journal's last seq as its meta key says (what a verified scan must reach).
  uint64_t last_seq() const { return last_seq_; }
  rocksdb::DB* db() const { return db_.get(); }

  // Verified walk of records start.seq+1 .. seq_last (clamped to last_seq()), exactly as
  // the journal checks them (journal/chain.h). DataLoss naming the first bad record.
  absl::StatusOr<journal::ChainTip> Scan(const journal::ChainTip& start, uint64_t seq_last,
                                         journal::RecordVisitor visit) const;

 private:
  JournalView(std::unique_ptr<rocksdb::DB> db, uint64_t last_seq)
      : db_(std::move(db)), last_seq_(last_seq) {}
  std::unique_ptr<rocksdb::DB> db_;
  uint64_t last_seq_;
};

// The controller's public identity from <dir>/identity.public; NotFound when the file
// is missing, InvalidArgument when it does not parse.
absl::StatusOr<zt::Identity> ReadPublicIdentity(const SourcePaths& paths);

}  // namespace almanac::replay

#endif  // ALMANAC_REPLAY_SOURCE_H_
