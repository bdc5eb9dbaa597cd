#include "journal/chain.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/check.h"
#include "base/thread_name.h"
#include "journal/limits.h"
#include "journal/record.h"

namespace almanac::journal {
namespace {

// A scan reads up to this many records (or bytes, plus one record) from RocksDB, then
// checks them all, split across the caller and its helper threads. Big enough that a
// fork-join per block costs little next to ~0.5 us of hashing per record; small enough
// that a block stays in cache.
constexpr size_t kScanBlockRecords = 2048;
constexpr size_t kScanBlockBytes = size_t{1} << 20;
// Scans shorter than this run on the caller alone (a follower's small Read should not
// start a thread). A block smaller than this is checked on the caller alone too.
constexpr size_t kScanParallelRecordsMin = 512;
// Most threads (caller included) checking one scan's records.
constexpr size_t kScanThreadsMax = 4;
// Records one thread checks per turn: ~30 us of work, far above the cost of taking it.
constexpr size_t kCheckChunkRecords = 64;

absl::Status RecordError(uint64_t seq, const std::string& what) {
  return absl::DataLossError(absl::StrCat("journal record ", seq, ": ", what));
}

// One entry read from RocksDB, its record bytes copied into the block's arena.
struct Entry {
  uint64_t seq;
  size_t offset;  // into Block::arena, 8-byte aligned
  size_t size;    // record bytes, without the stored chain hash
  ChainHash stored_hash;
  const schema::Record* record = nullptr;  // set by CheckRecord
};

// Records read in one go, then checked in parallel. Record bytes are copied into the
// arena: values inside RocksDB blocks have no alignment, and the FlatBuffers Verifier
// (rightly) insists on it. Reused across blocks so a scan allocates only at its start.
struct Block {
  std::string arena;
  std::vector<Entry> entries;
  // The first problem found while reading (a missing record, an I/O error), which lies
  // AFTER every entry: reported only if all entries pass.
  absl::Status read_error;

  std::string_view bytes(const Entry& e) const {
    return std::string_view(arena.data() + e.offset, e.size);
  }
};

// The checks that need only the entry as stored (key and value size): done while
// reading, since a failure ends the block. On success copies the entry into `block`.
absl::Status ReadEntry(uint64_t seq, std::string_view key, std::string_view value,
                       Block* block) {
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
  Entry entry{seq, (block->arena.size() + 7) & ~size_t{7}, value.size() - kChainHashBytes,
              {}};
  std::memcpy(entry.stored_hash.data(), value.data() + entry.size, kChainHashBytes);
  block->arena.resize(entry.offset);
  block->arena.append(value.data(), entry.size);
  block->entries.push_back(entry);
  return absl::OkStatus();
}

// The checks of record e's contents, linked to `prev` (the chain hash of the record
// before it). Every input is the entry's own stored bytes, so records can be checked in
// any order and on any thread; the scan reports the first failure in seq order. Checks
// run from the cheapest and most telling (what is this?) to the hash, so the message
// says what went wrong.
absl::Status CheckRecord(std::string_view bytes, const ChainHash& prev, Entry* e) {
  absl::StatusOr<const schema::Record*> verified = VerifyRecord(bytes);
  if (!verified.ok()) return RecordError(e->seq, std::string(verified.status().message()));
  if ((*verified)->seq() != e->seq) {
    return RecordError(e->seq, absl::StrCat("holds a record with seq ", (*verified)->seq(),
                                            " (reordered or misplaced)"));
  }
  if (std::memcmp((*verified)->prev_hash()->data(), prev.data(), kChainHashBytes) != 0) {
    return RecordError(e->seq, "prev_hash does not match the chain hash of the record "
                               "before it (chain broken)");
  }
  const ChainHash computed = ComputeChainHash(prev, bytes);
  if (computed != e->stored_hash) {
    return RecordError(e->seq, "stored chain hash does not match the record bytes "
                               "(corrupt or edited)");
  }
  e->record = *verified;
  return absl::OkStatus();
}

// Checks entries [begin, end) of `block`, the first linked to `prev`. Returns the index
// of the first bad entry (end when all pass) and its error in *error.
size_t CheckRange(Block* block, size_t begin, size_t end, const ChainHash& prev,
                  absl::Status* error) {
  for (size_t i = begin; i < end; ++i) {
    Entry& e = block->entries[i];
    const ChainHash& link = i == 0 ? prev : block->entries[i - 1].stored_hash;
    // Linking to the previous entry's STORED hash is what makes the check parallel. It
    // is equivalent to linking to its recomputed hash: if entry i-1 passed, the two are
    // equal; if it failed, its error comes first in seq order and i's is not reported.
    *error = CheckRecord(block->bytes(e), link, &e);
    if (!error->ok()) return i;
  }
  return end;
}

// A fixed set of helper threads that join the caller's work on one job at a time.
// Lives for one scan. Work is shared through the job's own counter, not handed out in
// fixed slices: on a busy machine a helper that is not scheduled in time simply does
// nothing, and the caller never waits for work nobody started.
class Helpers {
 public:
  explicit Helpers(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      threads_.emplace_back([this] {
        NameThisThread("journal-verify");
        Loop();
      });
    }
  }
  ~Helpers() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : threads_) t.join();
  }
  Helpers(const Helpers&) = delete;
  Helpers& operator=(const Helpers&) = delete;

  // Offers *work to the helpers, which start on it as they wake; the caller is free to do
  // something else meanwhile (read the next block). REQUIRES: Finish(work) follows
  // before *work or anything it uses goes away.
  void Start(const absl::FunctionRef<void()>* work) {
    absl::MutexLock lock(&mu_);
    job_ = work;
    ++generation_;
  }

  // Runs *work on the calling thread too, then returns when every helper run of it that
  // started has ended. *work must finish the whole job even when it runs only on the
  // caller.
  void Finish(const absl::FunctionRef<void()>* work) {
    (*work)();
    absl::MutexLock lock(&mu_);
    job_ = nullptr;  // late helpers skip this job
    mu_.Await(absl::Condition(+[](size_t* active) { return *active == 0; }, &active_));
  }

 private:
  void Loop() {
    uint64_t seen = 0;
    while (true) {
      const absl::FunctionRef<void()>* job;
      {
        absl::MutexLock lock(&mu_);
        struct Arg {
          Helpers* self;
          uint64_t seen;
        } arg{this, seen};
        mu_.Await(absl::Condition(
            +[](Arg* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return a->self->stopping_ || a->self->generation_ != a->seen;
            },
            &arg));
        if (stopping_) return;
        seen = generation_;
        job = job_;
        if (job == nullptr) continue;
        ++active_;
      }
      (*job)();
      absl::MutexLock lock(&mu_);
      --active_;
    }
  }

  absl::Mutex mu_;
  const absl::FunctionRef<void()>* job_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t active_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// Checks every entry of a block in chunks that whoever is free (the caller, helpers)
// takes next. Work() may run on several threads at once; Result() after all of them
// returned.
class BlockCheck {
 public:
  BlockCheck(Block* block, const ChainHash& prev)
      : block_(block),
        prev_(prev),
        n_(block->entries.size()),
        chunks_((n_ + kCheckChunkRecords - 1) / kCheckChunkRecords),
        bad_(chunks_, n_),
        errors_(chunks_) {}

  void Work() {
    for (size_t c = next_.fetch_add(1); c < chunks_; c = next_.fetch_add(1)) {
      const size_t end = std::min(n_, (c + 1) * kCheckChunkRecords);
      bad_[c] = CheckRange(block_, c * kCheckChunkRecords, end, prev_, &errors_[c]);
      if (bad_[c] == end) bad_[c] = n_;
    }
  }

  // The index of the first bad entry in seq order (entries.size() when all pass), its
  // error in *error. Chunks are in seq order: the first chunk with a failure holds it.
  size_t Result(absl::Status* error) const {
    for (size_t c = 0; c < chunks_; ++c) {
      if (bad_[c] != n_) {
        *error = errors_[c];
        return bad_[c];
      }
    }
    *error = absl::OkStatus();
    return n_;
  }

 private:
  Block* const block_;
  const ChainHash prev_;
  const size_t n_;
  const size_t chunks_;
  std::vector<size_t> bad_;
  std::vector<absl::Status> errors_;
  std::atomic<size_t> next_{0};
};

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

namespace {

// Helper threads for a scan of `records` records: none for short scans or one core.
std::unique_ptr<Helpers> HelpersFor(uint64_t records) {
  if (records < kScanParallelRecordsMin) return nullptr;
  const size_t threads = std::min<size_t>(std::thread::hardware_concurrency(),
                                          kScanThreadsMax);
  if (threads <= 1) return nullptr;
  return std::make_unique<Helpers>(threads - 1);
}

// Reads the next block of entries, records tip_seq + 1 onward, from `it` (standing on
// the first of them). Stops at a full block, at bounds.seq_last, at a limit (counted in
// *records and *bytes across blocks; sets *done), or at the first problem (stored in
// block->read_error; sets *done).
void ReadBlock(rocksdb::Iterator* it, uint64_t tip_seq, const ScanBounds& bounds,
               size_t* records, size_t* bytes, Block* block, bool* done) {
  block->arena.clear();
  block->entries.clear();
  block->read_error = absl::OkStatus();
  for (uint64_t seq = tip_seq + 1;; ++seq) {
    if (seq > bounds.seq_last) {
      *done = true;
      return;
    }
    if (!it->Valid()) {
      block->read_error =
          it->status().ok()
              ? RecordError(seq, absl::StrCat("missing (the journal's last seq is ",
                                              bounds.seq_last, ")"))
              : FromRocksDb(it->status(), absl::StrCat("journal record ", seq));
      *done = true;
      return;
    }
    block->read_error =
        ReadEntry(seq, it->key().ToStringView(), it->value().ToStringView(), block);
    if (!block->read_error.ok()) {
      *done = true;
      return;
    }
    ++*records;
    *bytes += block->entries.back().size;
    if ((bounds.records_max != 0 && *records >= bounds.records_max) ||
        (bounds.bytes_max != 0 && *bytes >= bounds.bytes_max)) {
      *done = true;
      return;
    }
    it->Next();
    if (block->entries.size() >= kScanBlockRecords ||
        block->arena.size() >= kScanBlockBytes) {
      return;
    }
  }
}

}  // namespace

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
  uint64_t expected = bounds.seq_last - start.seq;
  if (bounds.records_max != 0) expected = std::min<uint64_t>(expected, bounds.records_max);
  std::unique_ptr<Helpers> helpers = HelpersFor(expected);
  // Two blocks, so reading the next one (RocksDB iteration and copying: serial) overlaps
  // the helpers checking this one; then the caller joins the check. On 2 cores this keeps
  // both busy instead of leaving one idle through every read.
  Block blocks[2];
  Block* block = &blocks[0];
  Block* next = &blocks[1];
  size_t records = 0;
  size_t bytes = 0;
  bool done = false;
  it->Seek(RecordKey(start.seq + 1));
  ReadBlock(it.get(), tip.seq, bounds, &records, &bytes, block, &done);
  while (true) {
    BlockCheck check(block, tip.hash);
    auto work_fn = [&check] { check.Work(); };
    const absl::FunctionRef<void()> work(work_fn);
    const bool parallel =
        helpers != nullptr && block->entries.size() >= kScanParallelRecordsMin;
    if (parallel) helpers->Start(&work);
    // Entries are linked to the stored hash before them (CheckRange), so the next block
    // can be read before this one is checked; a failure here is still reported first.
    const bool have_next = !done;
    if (have_next) {
      const uint64_t read_tip = block->entries.empty() ? tip.seq : block->entries.back().seq;
      ReadBlock(it.get(), read_tip, bounds, &records, &bytes, next, &done);
    }
    if (parallel) {
      helpers->Finish(&work);
    } else {
      work();
    }
    absl::Status error;
    const size_t good = check.Result(&error);
    // Visit, in order, every record before the first bad one; then report it.
    for (size_t i = 0; i < good; ++i) {
      const Entry& e = block->entries[i];
      if (absl::Status s = visit(VerifiedRecord{e.seq, block->bytes(e), e.record,
                                                e.stored_hash});
          !s.ok()) {
        return s;
      }
      tip = ChainTip{e.seq, e.stored_hash};
    }
    if (good < block->entries.size()) return error;
    if (!block->read_error.ok()) return block->read_error;
    if (!have_next) break;
    std::swap(block, next);
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
