#include "journal/chain.h"

#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "journal/limits.h"
#include "journal/record.h"

namespace almanac::journal {
namespace {

absl::Status RecordError(uint64_t seq, const std::string& what) {
  return absl::DataLossError(absl::StrCat("journal record ", seq, ": ", what));
}

// Checks the entry the iterator stands on as record `seq` following `prev`. The record
// bytes are copied into `scratch` first: values inside RocksDB blocks have no alignment,
// and the FlatBuffers Verifier (rightly) insists on it. Checks run from the cheapest and
// most telling (what is this?) to the hash, so the message says what went wrong.
absl::StatusOr<ChainHash> CheckEntry(uint64_t seq, std::string_view key,
                                     std::string_view value, const ChainHash& prev,
                                     std::string* scratch, const schema::Record** record) {
  if (key.size() != kRecordKeyBytes) {
    return RecordError(seq, absl::StrCat("missing; found a ", key.size(), "-byte key"));
  }
  const uint64_t key_seq = DecodeBigEndian64(key);
  if (key_seq != seq) {
    // Keys are sorted and the scan seeks to `seq`, so a different key is a later one.
    return RecordError(seq, absl::StrCat("missing (next stored record is ", key_seq, ")"));
  }
  if (value.size() <= kChainHashBytes) {
    return RecordError(seq, absl::StrCat("stored value is ", value.size(),
                                         " bytes, too short for record + chain hash"));
  }
  const size_t record_bytes = value.size() - kChainHashBytes;
  scratch->assign(value.data(), record_bytes);
  absl::StatusOr<const schema::Record*> verified = VerifyRecord(*scratch);
  if (!verified.ok()) return RecordError(seq, std::string(verified.status().message()));
  if ((*verified)->seq() != seq) {
    return RecordError(seq, absl::StrCat("holds a record with seq ", (*verified)->seq(),
                                         " (reordered or misplaced)"));
  }
  if (std::memcmp((*verified)->prev_hash()->data(), prev.data(), kChainHashBytes) != 0) {
    return RecordError(seq, "prev_hash does not match the chain hash of the record "
                            "before it (chain broken)");
  }
  const ChainHash computed = ComputeChainHash(prev, *scratch);
  if (std::memcmp(computed.data(), value.data() + record_bytes, kChainHashBytes) != 0) {
    return RecordError(seq, "stored chain hash does not match the record bytes "
                            "(corrupt or edited)");
  }
  *record = *verified;
  return computed;
}

}  // namespace

absl::Status FromRocksDb(const rocksdb::Status& status, const std::string& what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": RocksDB: ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

absl::StatusOr<ChainTip> ScanChain(rocksdb::DB* db, const ChainTip& start,
                                   const ScanBounds& bounds, bool fill_cache,
                                   RecordVisitor visit) {
  ChainTip tip = start;
  if (bounds.seq_last <= start.seq) return tip;
  ALMANAC_CHECK(bounds.seq_last <= kSeqMax);
  const std::string upper = bounds.seq_last == kSeqMax ? std::string(1, kMetaKeyPrefix)
                                                       : RecordKey(bounds.seq_last + 1);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.verify_checksums = true;
  options.fill_cache = fill_cache;
  options.iterate_upper_bound = &upper_slice;
  // Long sequential scans (open, replay) read whole files: prefetch generously.
  options.readahead_size = size_t{2} << 20;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  std::string scratch;
  size_t records = 0;
  size_t bytes = 0;
  it->Seek(RecordKey(start.seq + 1));
  while (tip.seq < bounds.seq_last) {
    const uint64_t seq = tip.seq + 1;
    if (!it->Valid()) {
      if (!it->status().ok()) {
        return FromRocksDb(it->status(), absl::StrCat("journal record ", seq));
      }
      return RecordError(seq, absl::StrCat("missing (the journal's last seq is ",
                                           bounds.seq_last, ")"));
    }
    const schema::Record* record = nullptr;
    absl::StatusOr<ChainHash> hash = CheckEntry(seq, it->key().ToStringView(),
                                                it->value().ToStringView(), tip.hash,
                                                &scratch, &record);
    if (!hash.ok()) return hash.status();
    if (absl::Status s = visit(VerifiedRecord{seq, scratch, record, *hash}); !s.ok()) {
      return s;
    }
    tip = ChainTip{seq, *hash};
    ++records;
    bytes += scratch.size();
    if (bounds.records_max != 0 && records >= bounds.records_max) break;
    if (bounds.bytes_max != 0 && bytes >= bounds.bytes_max) break;
    it->Next();
  }
  return tip;
}

// Records must end exactly at last_seq: a record key after it means the meta key was
// edited or records were added behind the journal's back.
absl::Status CheckNoRecordAfter(rocksdb::DB* db, uint64_t last_seq) {
  if (last_seq == kSeqMax) return absl::OkStatus();
  const std::string upper(1, kMetaKeyPrefix);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  it->Seek(RecordKey(last_seq + 1));
  if (it->Valid()) {
    const std::string_view key = it->key().ToStringView();
    const std::string seq = key.size() == kRecordKeyBytes
                                ? absl::StrCat(DecodeBigEndian64(key))
                                : absl::StrCat(last_seq + 1, " (a ", key.size(), "-byte key)");
    return absl::DataLossError(absl::StrCat("journal record ", seq,
                                            ": found past the journal's last seq ",
                                            last_seq));
  }
  return FromRocksDb(it->status(), "journal scan past the last seq");
}

absl::StatusOr<ChainHash> ReadStoredChainHash(rocksdb::DB* db, uint64_t seq) {
  rocksdb::PinnableSlice value;
  const rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), db->DefaultColumnFamily(), RecordKey(seq), &value);
  if (s.IsNotFound()) return RecordError(seq, "missing");
  if (!s.ok()) return FromRocksDb(s, absl::StrCat("journal record ", seq));
  if (value.size() <= kChainHashBytes) {
    return RecordError(seq, absl::StrCat("stored value is ", value.size(),
                                         " bytes, too short for record + chain hash"));
  }
  ChainHash hash;
  std::memcpy(hash.data(), value.data() + value.size() - kChainHashBytes, kChainHashBytes);
  return hash;
}

}  // namespace almanac::journal
