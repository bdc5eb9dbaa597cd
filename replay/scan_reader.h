// The reading half of `almanac-replay verify` (replay/verify.h), on a thread of its own:
// it walks the journal's record keys in order, copies each value into an 8-byte aligned
// batch, and does every check that needs only the record itself (FlatBuffers
// verification, the stored chain hash against the record's bytes). The verifier's
// thread takes whole batches and does what must follow the order of the journal: gaps,
// links, seals and the replay. Reading and hashing a record are about a third of the
// scan, so on two cores they overlap the replay instead of adding to it.
//
// Bounded: at most kScanBatchesInFlight batches of at most kScanBatchRecordsMax records
// or about kScanBatchBytesMax bytes wait between the two threads.
//
// Thread safety: Next() is called by one consumer thread. The destructor stops and joins
// the reader; the database must outlive the ScanReader.
#ifndef ALMANAC_REPLAY_SCAN_READER_H_
#define ALMANAC_REPLAY_SCAN_READER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "journal/record_format.h"
#include "rocksdb/db.h"
#include "schemas/events_generated.h"

namespace almanac::replay {

// Batches waiting between reader and verifier: enough to ride over a short stall of
// either thread, small enough (a few MB) not to matter next to the replayed state.
inline constexpr size_t kScanBatchesInFlight = 4;
inline constexpr size_t kScanBatchRecordsMax = 4096;
inline constexpr size_t kScanBatchBytesMax = size_t{1} << 20;

// One key of the record range, as read and self-checked.
struct ScannedEntry {
  uint64_t seq = 0;        // the key's seq; meaningful only when key_bytes is right
  size_t key_bytes = 0;    // journal::kRecordKeyBytes for a well-formed key
  size_t value_bytes = 0;  // the stored value (record bytes + chain hash)
  size_t offset = 0;       // the record bytes' place in the batch (8-byte aligned)
  journal::ChainHash stored{};    // the chain hash stored after the record bytes
  journal::ChainHash own_prev{};  // the record's prev_hash, or the previous stored hash
                                  // when the record does not verify
  bool checksum_ok = false;       // ComputeChainHash(own_prev, bytes) == stored
  absl::Status verify_status;     // VerifyRecord's verdict

  bool well_formed_key() const { return key_bytes == journal::kRecordKeyBytes; }
  // Too short to hold a chain hash: nothing else about it was checked.
  bool too_short() const { return value_bytes <= journal::kChainHashBytes; }
};

struct ScanBatch {
  std::vector<ScannedEntry> entries;
  std::vector<uint64_t> arena;  // record bytes; uint64_t keeps them 8-byte aligned
  bool last = false;            // the walk ended after this batch
  absl::Status status;          // with last: OK, or why reading stopped

  std::string_view bytes(const ScannedEntry& e) const {
    return std::string_view(reinterpret_cast<const char*>(arena.data()) + e.offset,
                            e.value_bytes - journal::kChainHashBytes);
  }
  // REQUIRES: e.verify_status.ok().
  const schema::Record* record(const ScannedEntry& e) const {
    return schema::GetRecord(bytes(e).data());
  }
};

class ScanReader {
 public:
  // Starts reading `db` from record key 1 up to the first meta key.
  explicit ScanReader(rocksdb::DB* db);
  ~ScanReader();
  ScanReader(const ScanReader&) = delete;
  ScanReader& operator=(const ScanReader&) = delete;

  // The next batch in key order; blocks until it is read. After a batch with last set,
  // returns nullptr.
  std::unique_ptr<ScanBatch> Next();

  // Gives a batch the consumer is done with back for reuse: the reader then refills
  // memory that is already mapped instead of allocating (and the kernel zeroing) a
  // fresh megabyte per batch.
  void Recycle(std::unique_ptr<ScanBatch> batch);

 private:
  void Run();
  // A spare batch emptied, or a new one.
  std::unique_ptr<ScanBatch> TakeBatch();
  // Hands a full batch over; false when the reader must stop.
  bool Push(std::unique_ptr<ScanBatch> batch);

  rocksdb::DB* const db_;
  absl::Mutex mu_;
  std::deque<std::unique_ptr<ScanBatch>> ready_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<ScanBatch>> spare_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ = false;  // the consumer's own: a last batch was handed out
  std::thread thread_;
};

}  // namespace almanac::replay

#endif  // ALMANAC_REPLAY_SCAN_READER_H_
