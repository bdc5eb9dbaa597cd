#include "journal/verify.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"

namespace almanac::journal {

absl::StatusOr<ChainTip> VerifyJournal(const std::string& dir, RecordVisitor visit) {
  rocksdb::Options options;
  options.create_if_missing = false;
  options.paranoid_checks = true;
  // Open every table file up front: a live writer's compaction may delete files later,
  // and an open file descriptor keeps a deleted file readable.
  options.max_open_files = -1;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, dir, &raw);
  if (s.IsInvalidArgument() || s.IsNotFound() || s.IsPathNotFound()) {
    return absl::NotFoundError(absl::StrCat("no journal in ", dir, ": ", s.ToString()));
  }
  if (!s.ok()) return FromRocksDb(s, absl::StrCat("open journal ", dir, " read-only"));
  std::unique_ptr<rocksdb::DB> db(raw);

  std::string format;
  rocksdb::Status got = db->Get(rocksdb::ReadOptions(), kFormatKey, &format);
  if (got.IsNotFound()) return absl::NotFoundError(absl::StrCat("no journal in ", dir));
  if (!got.ok()) return FromRocksDb(got, "journal format key");
  if (format != kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal format version \"", format, "\" is not supported"));
  }
  std::string last;
  got = db->Get(rocksdb::ReadOptions(), kLastSeqKey, &last);
  if (!got.ok() || last.size() != 8) {
    return absl::DataLossError("journal last_seq meta key is missing or damaged");
  }
  const uint64_t last_seq = DecodeBigEndian64(last);
  if (last_seq > kSeqMax) return absl::DataLossError("journal last_seq is out of range");
  absl::StatusOr<ChainTip> tip = ScanChain(db.get(), ChainTip{}, ScanBounds{last_seq, 0, 0},
                                           /*fill_cache=*/false, visit);
  if (!tip.ok()) return tip.status();
  if (absl::Status s = CheckNoRecordAfter(db.get(), last_seq); !s.ok()) return s;
  return tip;
}

}  // namespace almanac::journal
