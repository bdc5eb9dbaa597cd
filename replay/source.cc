#include "replay/source.h"

#include "absl/strings/str_cat.h"
#include "ctl/home.h"
#include "journal/record_format.h"

namespace almanac::replay {

absl::StatusOr<std::unique_ptr<JournalView>> JournalView::Open(const std::string& journal_dir) {
  rocksdb::Options options;
  options.create_if_missing = false;
  options.paranoid_checks = true;
  // Open every table file up front: a live writer's compaction may delete files later,
  // and an open descriptor keeps a deleted file readable.
  options.max_open_files = -1;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, journal_dir, &raw);
  if (s.IsInvalidArgument() || s.IsNotFound() || s.IsPathNotFound()) {
    return absl::NotFoundError(absl::StrCat("no journal in ", journal_dir, ": ", s.ToString()));
  }
  if (!s.ok()) {
    return journal::FromRocksDb(s, absl::StrCat("open journal ", journal_dir, " read-only"));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string format;
  rocksdb::Status got = db->Get(rocksdb::ReadOptions(), journal::kFormatKey, &format);
  if (got.IsNotFound()) return absl::NotFoundError(absl::StrCat("no journal in ", journal_dir));
  if (!got.ok()) return journal::FromRocksDb(got, "journal format key");
  if (format != journal::kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal format version \"", format, "\" is not supported"));
  }
  std::string last;
  got = db->Get(rocksdb::ReadOptions(), journal::kLastSeqKey, &last);
  if (!got.ok() || last.size() != 8) {
    return absl::DataLossError("journal last_seq meta key is missing or damaged");
  }
  const uint64_t last_seq = journal::DecodeBigEndian64(last);
  if (last_seq > journal::kSeqMax) return absl::DataLossError("journal last_seq is out of range");
  return std::unique_ptr<JournalView>(new JournalView(std::move(db), last_seq));
}

absl::StatusOr<journal::ChainTip> JournalView::Scan(const journal::ChainTip& start,
                                                    uint64_t seq_last,
                                                    journal::RecordVisitor visit) const {
  if (seq_last > last_seq_) seq_last = last_seq_;
  if (seq_last <= start.seq) return start;
  return journal::ScanChain(db_.get(), start, journal::ScanBounds{seq_last, 0, 0},
                            /*fill_cache=*/false, visit);
}

absl::StatusOr<zt::Identity> ReadPublicIdentity(const SourcePaths& paths) {
  absl::StatusOr<std::string> text =
      ctl::ReadSmallFile(paths.identity_public(), zt::kIdentityFileBytesMax);
  if (!text.ok()) return text.status();
  return zt::Identity::FromString(*text);
}

}  // namespace almanac::replay
