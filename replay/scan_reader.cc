#include "replay/scan_reader.h"

#include <cstring>

#include "base/thread_name.h"
#include "journal/chain.h"
#include "journal/record.h"

namespace almanac::replay {
namespace {

// Checks what one stored value can tell about itself. `prev_stored` is the stored hash
// of the previous well-formed entry: the checksum of a record that does not verify is
// taken over it (its own prev_hash cannot be read).
void CheckEntry(ScanBatch& batch, ScannedEntry& e, const journal::ChainHash& prev_stored) {
  const std::string_view bytes = batch.bytes(e);
  absl::StatusOr<const schema::Record*> verified = journal::VerifyRecord(bytes);
  e.own_prev = prev_stored;
  if (verified.ok()) {
    std::memcpy(e.own_prev.data(), (*verified)->prev_hash()->data(), e.own_prev.size());
  }
  e.verify_status = verified.status();
  e.checksum_ok = journal::ComputeChainHash(e.own_prev, bytes) == e.stored;
}

}  // namespace

ScanReader::ScanReader(rocksdb::DB* db) : db_(db) {
  thread_ = std::thread([this] {
    NameThisThread("replay-reader");
    Run();
  });
}

ScanReader::~ScanReader() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

bool ScanReader::Push(std::unique_ptr<ScanBatch> batch) {
  absl::MutexLock lock(&mu_);
  auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || ready_.size() < kScanBatchesInFlight;
  };
  mu_.Await(absl::Condition(&room));
  if (stopping_) return false;
  ready_.push_back(std::move(batch));
  return true;
}

std::unique_ptr<ScanBatch> ScanReader::Next() {
  if (ended_) return nullptr;
  absl::MutexLock lock(&mu_);
  auto has = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !ready_.empty(); };
  mu_.Await(absl::Condition(&has));
  std::unique_ptr<ScanBatch> batch = std::move(ready_.front());
  ready_.pop_front();
  ended_ = batch->last;
  return batch;
}

void ScanReader::Recycle(std::unique_ptr<ScanBatch> batch) {
  absl::MutexLock lock(&mu_);
  // At most the batches in flight plus the two being filled and read exist at once.
  if (spare_.size() < kScanBatchesInFlight) spare_.push_back(std::move(batch));
}

std::unique_ptr<ScanBatch> ScanReader::TakeBatch() {
  std::unique_ptr<ScanBatch> batch;
  {
    absl::MutexLock lock(&mu_);
    if (!spare_.empty()) {
      batch = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  if (batch == nullptr) {
    batch = std::make_unique<ScanBatch>();
    batch->arena.reserve(kScanBatchBytesMax / 8 + 1024);  // regrows only for a huge record
    batch->entries.reserve(kScanBatchRecordsMax);
  }
  batch->entries.clear();
  batch->arena.clear();
  return batch;
}

void ScanReader::Run() {
  rocksdb::ReadOptions read;
  read.fill_cache = false;  // one pass over everything: the cache would only churn
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
  journal::ChainHash prev_stored = journal::kZeroChainHash;
  std::unique_ptr<ScanBatch> batch = TakeBatch();
  size_t arena_bytes = 0;
  for (it->Seek(journal::RecordKey(1)); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (key.size() > 0 && key[0] == journal::kMetaKeyPrefix) break;
    ScannedEntry e;
    e.key_bytes = key.size();
    if (e.well_formed_key()) {
      e.seq = journal::DecodeBigEndian64(std::string_view(key.data(), key.size()));
      const rocksdb::Slice value = it->value();
      e.value_bytes = value.size();
      if (!e.too_short()) {
        const size_t record_bytes = value.size() - journal::kChainHashBytes;
        e.offset = arena_bytes;
        arena_bytes += (record_bytes + 7) & ~size_t{7};
        batch->arena.resize(arena_bytes / 8);
        std::memcpy(reinterpret_cast<char*>(batch->arena.data()) + e.offset, value.data(),
                    record_bytes);
        std::memcpy(e.stored.data(), value.data() + record_bytes, e.stored.size());
        CheckEntry(*batch, e, prev_stored);
        prev_stored = e.stored;
      }
    }
    batch->entries.push_back(std::move(e));
    if (batch->entries.size() >= kScanBatchRecordsMax || arena_bytes >= kScanBatchBytesMax) {
      if (!Push(std::move(batch))) return;
      batch = TakeBatch();
      arena_bytes = 0;
    }
  }
  batch->last = true;
  if (!it->status().ok()) batch->status = absl::InternalError(it->status().ToString());
  Push(std::move(batch));
}

}  // namespace almanac::replay
