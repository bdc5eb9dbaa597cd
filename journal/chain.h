// Verified walks over the stored records of a journal database.
//
// The one place that reads record entries back (journal/record_format.h) and decides
// whether they are intact; Journal::Open, Journal::Read and VerifyJournal all use it, so
// every record read is checked the same way: FlatBuffers Verifier and required fields,
// record.seq == key, prev_hash == chain hash of the record before, stored chain hash ==
// recomputed, and no gap. Any failure is DataLoss whose message names the record:
// "journal record <seq>: <what is wrong>". Nothing is skipped.
//
// Speed: each stored value carries its own chain hash, so record n can be checked knowing
// only the STORED hash of record n-1. ScanChain reads records in blocks on the calling
// thread and checks each block split across a few short-lived helper threads (long scans
// only); the first failure in seq order is reported, so the result is the same as a
// one-by-one walk, deterministically.
//
// Thread safety: the functions hold no state; they are as thread-safe as the rocksdb::DB
// passed in (which is fully thread-safe). The visitor is always called on the calling
// thread, in seq order.
#ifndef ALMANAC_JOURNAL_CHAIN_H_
#define ALMANAC_JOURNAL_CHAIN_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "journal/record_format.h"
#include "rocksdb/db.h"
#include "schemas/events_generated.h"

namespace almanac::journal {

// A position in the chain: record `seq` (0: before the first) and its chain hash.
struct ChainTip {
  uint64_t seq = 0;
  ChainHash hash = kZeroChainHash;
};

// One record that passed every check. The views point into a scratch buffer and are
// valid only during the visitor call.
struct VerifiedRecord {
  uint64_t seq;
  std::string_view bytes;        // the record's FlatBuffers bytes (8-byte aligned)
  const schema::Record* record;  // root of `bytes`
  const ChainHash& chain_hash;   // chain_hash(seq)
};

// Returning non-OK from a visitor stops the walk; ScanChain returns that status.
using RecordVisitor = absl::FunctionRef<absl::Status(const VerifiedRecord&)>;

struct ScanBounds {
  uint64_t seq_last = 0;       // visit no record past this one; all up to it must exist
  size_t records_max = 0;      // stop after this many records (0: no limit)
  size_t bytes_max = 0;        // stop once this many record bytes were visited (0: none)
};

// Checks and visits records start.seq + 1, start.seq + 2, ... in order, each linked to
// the one before (the first to start.hash), until bounds.seq_last or a limit is reached.
// Keys after seq_last are not looked at. Returns the tip after the last visited record.
// Errors: DataLoss naming the first bad or missing record; Internal for RocksDB failures
// other than corruption; or the visitor's status.
absl::StatusOr<ChainTip> ScanChain(rocksdb::DB* db, const ChainTip& start,
                                   const ScanBounds& bounds, bool fill_cache,
                                   RecordVisitor visit);

// DataLoss naming the record when any record key after last_seq exists: records must
// end exactly at the journal's last seq (its kLastSeqKey entry).
absl::Status CheckNoRecordAfter(rocksdb::DB* db, uint64_t last_seq);

// The stored chain hash of record seq (the last 32 bytes of its value), unchecked.
// DataLoss when the record is missing or its value is too short.
// REQUIRES: seq >= 1.
absl::StatusOr<ChainHash> ReadStoredChainHash(rocksdb::DB* db, uint64_t seq);

// rocksdb::Status as absl::Status: Corruption is DataLoss, Busy/TimedOut/TryAgain are
// Unavailable, NotFound NotFound, everything else (I/O errors included) Internal.
absl::Status FromRocksDb(const rocksdb::Status& status, const std::string& what);

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_CHAIN_H_
