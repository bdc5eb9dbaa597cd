#include "journal/journal.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/check.h"
#include "base/thread_name.h"
#include "journal/limits.h"
#include "journal/record.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace almanac::journal {
namespace {

std::string BigEndian64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, value >>= 8) out[i] = static_cast<char>(value & 0xff);
  return out;
}

// RocksDB table block size (see DbOptions).
constexpr size_t kTableBlockBytes = size_t{64} << 10;

rocksdb::Options DbOptions(const JournalOptions& options) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.paranoid_checks = true;
  o.write_buffer_size = options.memtable_bytes;
  if (options.env != nullptr) o.env = options.env;
  // The write-ahead log is what makes a record durable: never disable it. A power cut
  // can leave the log writes after the last finished fsync torn: cut short, or full
  // length with some sectors never written (zeros), so a checksum fails. Those writes
  // were never acknowledged (a record is answered only after an fsync that covers it: a
  // synced write, or the SyncWAL that ends the writer's group), and every acknowledged
  // record lies before them. kTolerateCorruptedTailRecords accepts only the cut-short case and refuses to open
  // after the second, which tests/power_cut_test.cc produces; point-in-time recovery
  // replays up to the first bad record and drops the rest. What that cannot tell apart is
  // a record that rotted in the MIDDLE of the synced log: the records after it would be
  // dropped too. Tracking the logs in the manifest makes RocksDB refuse to open when a log
  // it synced and closed is missing or shorter than it was.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  o.track_and_verify_wals_in_manifest = true;
  // fdatasync is enough for the log: its size changes are covered by RocksDB's
  // preallocation and the manifest; full fsync only adds inode time updates.
  o.use_fsync = false;
  // No block compression: a record is ~250 bytes of which 64 are hashes (incompressible),
  // so compression saves little disk, and replay (open, followers, audits) decompresses
  // every block; measured with journal_bench, uncompressed replays faster.
  o.compression = rocksdb::kNoCompression;
  // Replay reads whole table files in order, and every block costs an allocation, a
  // checksum call, a cache lookup and an iterator reset: 64 KiB blocks (~250 records)
  // instead of RocksDB's 4 KiB (~16) make that cost per record small. Point reads (a
  // follower's first Read, the snapshot's record) read one bigger block: rare.
  rocksdb::BlockBasedTableOptions table;
  table.block_size = kTableBlockBytes;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // RocksDB's own LOG is diagnostics; keep it from growing in a long-lived daemon.
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.keep_log_file_num = 4;
  return o;
}

// Creates the meta keys of a new journal, or checks them on an existing one; returns
// the last seq recorded in the kLastSeqKey entry.
absl::StatusOr<uint64_t> CheckFormat(rocksdb::DB* db) {
  std::string format;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), kFormatKey, &format);
  if (s.IsNotFound()) {
    // New journal, unless there are records without a format key (a damaged one).
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid()) {
      return absl::DataLossError("journal has entries but no format key: not a journal, "
                                 "or its meta entries were lost");
    }
    if (!it->status().ok()) return FromRocksDb(it->status(), "journal first entry");
    rocksdb::WriteBatch batch;
    batch.Put(kFormatKey, kFormatVersion);
    batch.Put(kLastSeqKey, BigEndian64(0));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (absl::Status st = FromRocksDb(db->Write(wo, &batch), "journal create"); !st.ok()) {
      return st;
    }
    return 0;
  }
  if (!s.ok()) return FromRocksDb(s, "journal format key");
  if (format != kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal format version \"", format, "\" is not supported (want \"",
                     std::string(kFormatVersion), "\")"));
  }
  std::string last;
  s = db->Get(rocksdb::ReadOptions(), kLastSeqKey, &last);
  if (s.IsNotFound()) return absl::DataLossError("journal last_seq meta key is missing");
  if (!s.ok()) return FromRocksDb(s, "journal last_seq key");
  if (last.size() != 8) return absl::DataLossError("journal last_seq meta key is damaged");
  const uint64_t last_seq = DecodeBigEndian64(last);
  if (last_seq > kSeqMax) return absl::DataLossError("journal last_seq is out of range");
  return last_seq;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& dir,
                                                       const JournalOptions& options) {
  rocksdb::Options db_options = DbOptions(options);
  std::unique_ptr<ZeroedLogs> zeroed_logs;
  if (options.zeroed_log_bytes != 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return absl::InternalError(absl::StrCat("create ", dir, ": ", ec.message()));
    // A new journal's first log gets a spare (written now, once); a restart never waits
    // for one (RocksDB names a database by its CURRENT file).
    const bool new_journal = !std::filesystem::exists(dir + "/CURRENT", ec);
    absl::StatusOr<std::unique_ptr<ZeroedLogs>> started = ZeroedLogs::Start(
        db_options.env != nullptr ? db_options.env : rocksdb::Env::Default(), dir,
        options.zeroed_log_bytes,
        new_journal ? ZeroedLogs::FirstSpare::kNow : ZeroedLogs::FirstSpare::kInBackground);
    if (!started.ok()) return started.status();
    zeroed_logs = std::move(*started);
    db_options.env = zeroed_logs->env();
  }
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(db_options, dir, &raw);
  if (!s.ok()) return FromRocksDb(s, absl::StrCat("open journal ", dir));
  std::unique_ptr<rocksdb::DB> db(raw);

  absl::StatusOr<uint64_t> last_seq = CheckFormat(db.get());
  if (!last_seq.ok()) return last_seq.status();
  ChainTip start;
  if (options.verify_from_seq != 0) {
    const uint64_t from = options.verify_from_seq;
    if (from > *last_seq) {
      return absl::InvalidArgumentError(absl::StrCat(
          "verify_from_seq ", from, " is past the journal's last seq ", *last_seq));
    }
    absl::StatusOr<ChainHash> stored = ReadStoredChainHash(db.get(), from);
    if (!stored.ok()) return stored.status();
    if (*stored != options.trusted_hash) {
      return absl::DataLossError(absl::StrCat(
          "journal record ", from, ": stored chain hash ", HashHex(*stored),
          " does not match the trusted hash ", HashHex(options.trusted_hash)));
    }
    start = ChainTip{from, options.trusted_hash};
  }
  absl::StatusOr<ChainTip> tip =
      ScanChain(db.get(), start, ScanBounds{*last_seq, 0, 0}, /*fill_cache=*/false,
                [](const VerifiedRecord&) { return absl::OkStatus(); });
  if (!tip.ok()) return tip.status();
  ALMANAC_CHECK(tip->seq == *last_seq);
  if (absl::Status st = CheckNoRecordAfter(db.get(), *last_seq); !st.ok()) return st;
  return std::unique_ptr<Journal>(new Journal(std::move(zeroed_logs), std::move(db), *tip));
}

Journal::Journal(std::unique_ptr<ZeroedLogs> zeroed_logs, std::unique_ptr<rocksdb::DB> db,
                 const ChainTip& tip)
    : zeroed_logs_(std::move(zeroed_logs)), db_(std::move(db)), writer_tip_(tip), tip_(tip) {
  writer_ = std::thread([this] {
    NameThisThread("journal-writer");
    WriterLoop();
  });
}

Journal::~Journal() {
  stopping_ = true;
  queue_.Wake();
  writer_.join();
  ALMANAC_CHECK(queued_drafts_.load() == 0);
  // The flush below opens one more log, which stays empty: keep the spare for the next
  // Open instead.
  if (zeroed_logs_ != nullptr) zeroed_logs_->Stop();
  // Move the memtable into a table file on a clean close, so the next Open does not
  // have to replay (and, by RocksDB's default, flush) up to memtable_bytes of log first:
  // that made a start after a clean stop several times slower than the chain check.
  // Best effort: the log holds every record anyway, and a failure here loses nothing.
  // Not after a failed write: what the memtable holds then is not known to be durable.
  if (!health().ok()) return;
  rocksdb::FlushOptions flush;
  flush.wait = true;
  db_->Flush(flush).PermitUncheckedError();
}

absl::StatusOr<uint64_t> Journal::Append(std::string draft) {
  std::vector<std::string> drafts;
  drafts.push_back(std::move(draft));
  return AppendBatch(std::move(drafts));
}

absl::StatusOr<uint64_t> Journal::AppendBatch(std::vector<std::string> drafts) {
  std::vector<StoredRecord> ignored;
  return AppendBatch(std::move(drafts), &ignored);
}

absl::StatusOr<uint64_t> Journal::AppendBatch(std::vector<std::string> drafts,
                                              std::vector<StoredRecord>* appended) {
  ALMANAC_CHECK(appended != nullptr);
  if (drafts.empty()) return absl::InvalidArgumentError("empty batch");
  if (drafts.size() > kBatchRecordsMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "batch of ", drafts.size(), " records, max ", kBatchRecordsMax));
  }
  Request request;
  for (const std::string& draft : drafts) {
    // Verified here, on the caller's thread, so a bad draft never reaches the writer
    // and the single writer thread spends its time on sequencing and I/O.
    if (absl::Status s = VerifyDraft(draft); !s.ok()) return s;
    request.bytes += draft.size();
  }
  if (request.bytes > kBatchBytesMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "batch of ", request.bytes, " bytes, max ", kBatchBytesMax));
  }
  request.drafts = std::move(drafts);
  request.hashes.reserve(request.drafts.size());
  return SubmitAndCollect(&request, appended);
}

absl::StatusOr<uint64_t> Journal::AppendRecords(std::vector<std::string> records,
                                                std::vector<StoredRecord>* appended) {
  ALMANAC_CHECK(appended != nullptr);
  if (records.empty()) return absl::InvalidArgumentError("empty batch");
  if (records.size() > kBatchRecordsMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "batch of ", records.size(), " records, max ", kBatchRecordsMax));
  }
  Request request;
  request.sequenced = true;
  for (const std::string& record : records) {
    if (absl::StatusOr<const schema::Record*> r = VerifyRecord(record); !r.ok()) {
      return r.status();
    }
    request.bytes += record.size();
  }
  if (request.bytes > kBatchBytesMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "batch of ", request.bytes, " bytes, max ", kBatchBytesMax));
  }
  request.drafts = std::move(records);
  request.hashes.reserve(request.drafts.size());
  return SubmitAndCollect(&request, appended);
}

absl::StatusOr<uint64_t> Journal::SubmitAndCollect(Request* request_ptr,
                                                   std::vector<StoredRecord>* appended) {
  Request& request = *request_ptr;
  absl::StatusOr<uint64_t> last = Submit(&request);
  if (!last.ok()) return last;
  ALMANAC_CHECK(request.hashes.size() == request.drafts.size());
  appended->clear();
  appended->reserve(request.drafts.size());
  const uint64_t first = *last - request.drafts.size() + 1;
  for (size_t i = 0; i < request.drafts.size(); ++i) {
    appended->push_back(
        StoredRecord{first + i, std::move(request.drafts[i]), request.hashes[i]});
  }
  return last;
}

absl::StatusOr<uint64_t> Journal::Submit(Request* request) {
  if (failed_flag_.load()) return health();
  if (stopping_.load()) return absl::FailedPreconditionError("journal is closing");
  const size_t count = request->drafts.size();
  if (queued_drafts_.fetch_add(count) + count > kQueueDraftsMax) {
    const size_t waiting = queued_drafts_.fetch_sub(count) - count;
    return absl::ResourceExhaustedError(absl::StrCat(
        "journal queue full: ", waiting, " drafts waiting, max ", kQueueDraftsMax));
  }
  request->caller = std::this_thread::get_id();
  if (!TryWriteDirectly(request)) {
    queue_.Push(request);
    queue_.AwaitAnswer(request);
  }
  if (!request->status.ok()) return request->status;
  return request->last_seq;
}

bool Journal::TryWriteDirectly(Request* request) {
  if (!writer_idle_.load() || paused_.load() || !queue_.Empty()) return false;
  if (!write_mu_.TryLock()) return false;
  WriteGroup({request});
  write_mu_.Unlock();
  queued_drafts_.fetch_sub(request->drafts.size());
  return true;
}

void Journal::WriteGroup(const std::vector<Request*>& group) {
  absl::Status failed = health();
  Publish(failed.ok() ? CommitGroup(group, /*sync=*/true) : failed, group);
}

void Journal::Publish(const absl::StatusOr<ChainTip>& durable,
                      const std::vector<Request*>& requests) {
  absl::MutexLock lock(&mu_);
  if (durable.ok()) {
    ALMANAC_CHECK(durable->seq >= tip_.seq);
    tip_ = *durable;
    return;
  }
  if (failed_.ok()) {
    failed_ = durable.status();
    failed_flag_ = true;
  }
  for (Request* request : requests) request->status = durable.status();
}

void Journal::TakeQueued() {
  const size_t first = waiting_.size();
  queue_.TakeAll(&waiting_);
  for (size_t i = first; i < waiting_.size(); ++i) {
    hold_.Returned(waiting_[i]->caller);
    waiting_drafts_ += waiting_[i]->drafts.size();
  }
}

void Journal::WriteWaiting(Group* group) {
  while (!waiting_.empty() && group->records < kBatchRecordsMax) {
    // The oldest requests that fit one RocksDB write (one request always fits).
    std::vector<Request*> write;
    size_t records = 0;
    size_t bytes = 0;
    size_t taken = 0;
    for (; taken < waiting_.size(); ++taken) {
      Request* next = waiting_[taken];
      const bool fits = records + next->drafts.size() <= kBatchRecordsMax &&
                        bytes + next->bytes <= kBatchBytesMax;
      if (!write.empty() && !fits) break;
      records += next->drafts.size();
      bytes += next->bytes;
      write.push_back(next);
    }
    waiting_.erase(waiting_.begin(), waiting_.begin() + taken);
    waiting_drafts_ -= records;
    // After a failed write nothing more is written; the rest of the group is answered
    // with that error.
    if (group->failed.ok()) {
      const absl::Time start = absl::Now();
      absl::MutexLock lock(&write_mu_);
      group->failed = health();
      if (group->failed.ok()) {
        absl::StatusOr<ChainTip> tip = CommitGroup(write, /*sync=*/false);
        if (tip.ok()) {
          group->tip = *tip;
        } else {
          group->failed = tip.status();
        }
      }
      group->write_time += absl::Now() - start;
    }
    group->requests.insert(group->requests.end(), write.begin(), write.end());
    group->records += records;
  }
}

void Journal::HoldForReturningCallers(Group* group) {
  // Wait briefly for the callers the last group answered (journal/group_hold.h), writing
  // each few as they come back.
  hold_.Hold(
      queue_, kReturnsPerWrite,
      [this, group] {
        TakeQueued();
        WriteWaiting(group);
      },
      [this, group] {
        return !stopping_.load() && !paused_.load() && group->records < kBatchRecordsMax;
      });
}

void Journal::SyncAndAnswer(Group* group) {
  const absl::Time start = absl::Now();
  if (group->failed.ok() && group->tip.seq != group->first_tip.seq) {
    const rocksdb::Status s = db_->SyncWAL();
    CountSync(absl::Now() - start);
    if (!s.ok()) {
      group->failed = FromRocksDb(
          s, absl::StrCat("journal log sync of records ", group->first_tip.seq + 1, "..",
                          group->tip.seq, " failed; the journal accepts no more appends until "
                          "it is reopened"));
    }
  }
  hold_.set_last_write(group->write_time + (absl::Now() - start));
  Publish(group->failed.ok() ? absl::StatusOr<ChainTip>(group->tip) : group->failed,
          group->requests);
  queued_drafts_.fetch_sub(group->records);
  for (Request* request : group->requests) hold_.Answered(request->caller);
  // Last: a caller may return (and free its request) as soon as it is answered.
  queue_.AnswerAll(group->requests);
}

void Journal::CountSync(absl::Duration took) {
  sync_writes_.fetch_add(1, std::memory_order_relaxed);
  sync_nanos_.fetch_add(absl::ToInt64Nanoseconds(took), std::memory_order_relaxed);
}

void Journal::WriterLoop() {
  size_t last_group_requests = 0;
  for (;;) {
    TakeQueued();
    bool hold = false;
    if (stopping_.load()) {
      if (waiting_.empty()) return;
    } else if (paused_.load()) {
      queue_.WaitForMore(1, absl::InfiniteFuture());
      continue;
    } else if (waiting_.empty() && (last_group_requests <= 1 || hold_.AllReturned())) {
      // Nobody to wait for: a lone caller may now write directly (TryWriteDirectly).
      writer_idle_ = true;
      queue_.WaitForMore(1, absl::InfiniteFuture());
      writer_idle_ = false;
      continue;
    } else {
      // The callers of a shared group are on their way back: wait (bounded) to sync them
      // together, and meanwhile keep the first one back from the direct path.
      hold = !hold_.AllReturned();
    }
    // One group, one fsync: what waits now and what the callers of the last group bring
    // while the writer holds for them. Each request is written as it comes (sequenced,
    // hashed, in RocksDB's log and memtable, not yet synced), so that work overlaps the
    // wait for the rest instead of following it; one SyncWAL then makes all of it
    // durable, and only then is it visible (tip_) and answered.
    Group group;
    {
      absl::MutexLock lock(&write_mu_);
      group.first_tip = writer_tip_;
      group.tip = writer_tip_;
    }
    WriteWaiting(&group);
    if (hold) HoldForReturningCallers(&group);
    WriteWaiting(&group);
    if (group.requests.empty()) continue;
    last_group_requests = group.requests.size();
    SyncAndAnswer(&group);
  }
}

absl::StatusOr<ChainTip> Journal::CommitGroup(const std::vector<Request*>& group,
                                               bool sync) {
  rocksdb::WriteBatch batch;
  ChainTip tip = writer_tip_;
  for (Request* request : group) {
    if (request->sequenced) {
      // A refused request is answered alone; the rest of the group is still written.
      request->status = AddSequenced(request, &tip, &batch);
      continue;
    }
    for (std::string& draft : request->drafts) {
      const uint64_t seq = tip.seq + 1;
      ALMANAC_CHECK(seq <= kSeqMax);
      PatchDraft(&draft, seq, tip.hash);
      // Check the record as it will be stored, before it is written (and again on
      // every read): patching must have produced exactly record `seq` linked to tip.
      absl::StatusOr<const schema::Record*> record = VerifyRecord(draft);
      ALMANAC_CHECK_MSG(record.ok(), "patched draft does not verify");
      ALMANAC_CHECK((*record)->seq() == seq);
      const ChainHash hash = ComputeChainHash(tip.hash, draft);
      const std::string key = RecordKey(seq);
      const rocksdb::Slice value_parts[2] = {
          rocksdb::Slice(draft),
          rocksdb::Slice(reinterpret_cast<const char*>(hash.data()), hash.size())};
      const rocksdb::Slice key_slice(key);
      batch.Put(rocksdb::SliceParts(&key_slice, 1), rocksdb::SliceParts(value_parts, 2));
      request->hashes.push_back(hash);
      tip = ChainTip{seq, hash};
    }
    request->last_seq = tip.seq;
  }
  // Only refused AppendRecords requests: nothing to write.
  if (tip.seq == writer_tip_.seq) return tip;
  // The meta last_seq moves in the same atomic batch, so it always equals the last
  // record on disk and a lost tail is detectable on open.
  batch.Put(kLastSeqKey, BigEndian64(tip.seq));
  rocksdb::WriteOptions options;
  options.sync = sync;
  const absl::Time write_start = absl::Now();
  const rocksdb::Status s = db_->Write(options, &batch);
  if (sync) CountSync(absl::Now() - write_start);
  if (!s.ok()) {
    return FromRocksDb(s, absl::StrCat("journal ", sync ? "sync " : "", "write of records ",
                                       writer_tip_.seq + 1, "..", tip.seq, " failed; the "
                                       "journal accepts no more appends until it is reopened"));
  }
  writer_tip_ = tip;
  return tip;
}

absl::Status Journal::AddSequenced(Request* request, ChainTip* tip,
                                   rocksdb::WriteBatch* batch) {
  ChainTip t = *tip;
  std::vector<ChainHash> hashes;
  hashes.reserve(request->drafts.size());
  for (const std::string& bytes : request->drafts) {
    const auto* record = flatbuffers::GetRoot<schema::Record>(bytes.data());
    if (record->seq() != t.seq + 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "record ", record->seq(), " does not follow the journal's last record ", t.seq));
    }
    if (record->prev_hash()->size() != kChainHashBytes ||
        !std::equal(t.hash.begin(), t.hash.end(), record->prev_hash()->begin())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "record ", record->seq(), ": prev_hash does not match the chain hash ",
          HashHex(t.hash), " of record ", t.seq));
    }
    const ChainHash hash = ComputeChainHash(t.hash, bytes);
    hashes.push_back(hash);
    t = ChainTip{record->seq(), hash};
  }
  for (size_t i = 0; i < request->drafts.size(); ++i) {
    const std::string key = RecordKey(tip->seq + 1 + i);
    const rocksdb::Slice value_parts[2] = {
        rocksdb::Slice(request->drafts[i]),
        rocksdb::Slice(reinterpret_cast<const char*>(hashes[i].data()), hashes[i].size())};
    const rocksdb::Slice key_slice(key);
    batch->Put(rocksdb::SliceParts(&key_slice, 1), rocksdb::SliceParts(value_parts, 2));
  }
  request->hashes = std::move(hashes);
  request->last_seq = t.seq;
  *tip = t;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Journal::CutAfter(uint64_t keep_seq) {
  absl::MutexLock write_lock(&write_mu_);
  if (queued_drafts_.load() != 0) {
    return absl::FailedPreconditionError("cannot cut the journal while appends are queued");
  }
  if (absl::Status failed = health(); !failed.ok()) return failed;
  if (keep_seq >= writer_tip_.seq) return uint64_t{0};
  ChainTip keep{keep_seq, kZeroChainHash};
  if (keep_seq > 0) {
    absl::StatusOr<ChainHash> hash = ReadStoredChainHash(db_.get(), keep_seq);
    if (!hash.ok()) return hash.status();
    keep.hash = *hash;
  }
  rocksdb::WriteBatch batch;
  const std::string from = RecordKey(keep_seq + 1);
  // Record keys end before the meta prefix: delete [keep + 1, first meta key).
  batch.DeleteRange(from, std::string(1, kMetaKeyPrefix));
  batch.Put(kLastSeqKey, BigEndian64(keep_seq));
  rocksdb::WriteOptions options;
  options.sync = true;
  const rocksdb::Status s = db_->Write(options, &batch);
  absl::MutexLock lock(&mu_);
  if (!s.ok()) {
    failed_ = FromRocksDb(s, absl::StrCat("journal cut after record ", keep_seq));
    failed_flag_ = true;
    return failed_;
  }
  const uint64_t removed = writer_tip_.seq - keep_seq;
  tip_ = keep;
  writer_tip_ = keep;
  return removed;
}

absl::StatusOr<std::vector<StoredRecord>> Journal::Read(uint64_t from_seq,
                                                        size_t limit) const {
  if (from_seq == 0) return absl::InvalidArgumentError("Read from seq 0; seqs start at 1");
  if (limit == 0) return absl::InvalidArgumentError("Read with limit 0");
  std::vector<StoredRecord> out;
  const uint64_t last = last_seq();
  if (from_seq > last) return out;
  ChainTip start{from_seq - 1, kZeroChainHash};
  if (from_seq > 1) {
    absl::StatusOr<ChainHash> prev = ReadStoredChainHash(db_.get(), from_seq - 1);
    if (!prev.ok()) return prev.status();
    start.hash = *prev;
  }
  const size_t records_max = std::min(limit, kReadRecordsMax);
  out.reserve(std::min<uint64_t>(records_max, last - from_seq + 1));
  absl::StatusOr<ChainTip> tip =
      ScanChain(db_.get(), start, ScanBounds{last, records_max, kReadBytesMax},
                /*fill_cache=*/true, [&out](const VerifiedRecord& r) {
                  out.push_back(StoredRecord{r.seq, std::string(r.bytes), r.chain_hash});
                  return absl::OkStatus();
                });
  if (!tip.ok()) return tip.status();
  return out;
}

namespace {
struct AfterArg {
  const ChainTip* tip;
  uint64_t seq;
};
bool IsAfter(AfterArg* arg) { return arg->tip->seq > arg->seq; }
}  // namespace

bool Journal::WaitForAfter(uint64_t seq, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  AfterArg arg{&tip_, seq};
  return mu_.AwaitWithTimeout(absl::Condition(&IsAfter, &arg), timeout);
}

uint64_t Journal::last_seq() const {
  absl::MutexLock lock(&mu_);
  return tip_.seq;
}

ChainHash Journal::last_hash() const {
  absl::MutexLock lock(&mu_);
  return tip_.hash;
}

absl::Status Journal::health() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

bool Journal::WaitForBackgroundWork(absl::Duration timeout) const {
  constexpr absl::Duration kPollEvery = absl::Milliseconds(5);
  const absl::Time deadline = absl::Now() + timeout;
  if (zeroed_logs_ != nullptr) zeroed_logs_->WaitForSpare();
  const auto busy = [this] {
    for (const std::string& property :
         {rocksdb::DB::Properties::kNumRunningFlushes, rocksdb::DB::Properties::kMemTableFlushPending,
          rocksdb::DB::Properties::kNumRunningCompactions,
          rocksdb::DB::Properties::kCompactionPending}) {
      uint64_t value = 0;
      if (db_->GetIntProperty(property, &value) && value != 0) return true;
    }
    return false;
  };
  while (busy()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kPollEvery);
  }
  return true;
}

absl::Status Journal::CreateCheckpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return FromRocksDb(s, "journal checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocksDb(checkpoint->CreateCheckpoint(dir), absl::StrCat("journal checkpoint ", dir));
}

void Journal::PauseWriterForTest(bool paused) {
  paused_ = paused;
  queue_.Wake();
}

void Journal::WaitQueuedDraftsForTest(size_t count) const {
  while (queued_drafts_.load() < count) absl::SleepFor(absl::Milliseconds(1));
}

}  // namespace almanac::journal
