// The journal: Almanac's truth, an append-only, hash-chained log of Record buffers
// (schemas/events.fbs) in RocksDB. Byte layout: journal/record_format.h.
//
// Writing: callers hand complete record drafts (journal/record.h, BuildRecordDraft) to
// Append or AppendBatch and block. ONE writer thread takes every draft waiting, gives
// them consecutive sequence numbers, patches seq and prev_hash into each buffer,
// verifies and hashes it, and writes them into RocksDB unsynced (the log's file and the
// memtable). While the callers it answered last are on their way back with their next
// drafts (journal/group_hold.h, bounded) it writes what they bring the same way; then
// one SyncWAL makes the whole group durable (group commit: concurrent callers share one
// fsync, and the CPU work of writing overlaps the wait for the group to fill). Each
// caller is answered only after that sync returned: an OK Append means the record is
// durable. Until then the record is not visible (last_seq, Read, WaitForAfter). A caller
// that finds the writer thread idle and nothing queued writes its own drafts with one
// synced write on its own thread (the direct path: a lone caller such as the sequencer
// pays no hand-off).
//
// A failed write is not retried. The journal enters a failed state and every later
// Append returns that same error, until the process reopens the journal. Why: after a
// failed fsync the kernel may have dropped the dirty pages and marked them clean, so a
// retry can "succeed" without the data on disk; only a restart that re-reads the disk
// knows what is really there. After any Append error the records of that call may or may
// not be in the journal (reopen and read to find out); their seqs are never reused by
// this Journal object.
//
// Reading: every record read back is verified (journal/chain.h); corruption is DataLoss
// naming the sequence number. Open verifies the chain before returning.
//
// Thread safety: all public methods may be called from any thread concurrently, except
// that the destructor must not race with other calls. The destructor finishes every
// queued append first (so no caller is left blocked) and then closes the database.
#ifndef ALMANAC_JOURNAL_JOURNAL_H_
#define ALMANAC_JOURNAL_JOURNAL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "journal/chain.h"
#include "journal/commit_queue.h"
#include "journal/group_hold.h"
#include "journal/record_format.h"
#include "journal/zeroed_log.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace almanac::journal {

struct JournalOptions {
  // Verification on open. verify_from_seq = 0 checks the whole chain from record 1.
  // A caller that loaded a snapshot taken at record S passes verify_from_seq = S and
  // trusted_hash = chain_hash(S) from that snapshot: Open then checks that record S's
  // stored chain hash equals trusted_hash and verifies only records S+1 onward.
  uint64_t verify_from_seq = 0;
  ChainHash trusted_hash = kZeroChainHash;

  // RocksDB memtable size. Records are small and only appended, so the memtable mostly
  // delays flushes; 64 MiB holds ~200,000 records, which keeps flushes (and the write
  // stalls they can cause behind the single writer) rare without much memory.
  size_t memtable_bytes = size_t{64} << 20;

  // RocksDB environment; nullptr means rocksdb::Env::Default(). Tests pass one whose
  // file system fails syncs. Not owned; must outlive the Journal.
  rocksdb::Env* env = nullptr;

  // Size of the zero-filled, synced spare kept ready for the next write-ahead log
  // (journal/zeroed_log.h): synced appends then overwrite written blocks, which costs
  // ext4 one device flush instead of two. 0 turns it off (short-lived journals: tests,
  // restores). Long-lived journals use ZeroedLogBytesFor(memtable_bytes).
  size_t zeroed_log_bytes = 0;
};

// A spare that a full memtable's log fits in: the log holds the memtable's records plus
// a little framing, and the memtable's own overhead makes it switch before the log
// reaches memtable_bytes.
inline size_t ZeroedLogBytesFor(size_t memtable_bytes) {
  return memtable_bytes + memtable_bytes / 8;
}

// A record as read back, verified.
struct StoredRecord {
  uint64_t seq = 0;
  std::string bytes;       // the Record FlatBuffers buffer (schema::GetRecord works on it)
  ChainHash chain_hash{};  // chain_hash(seq)
};

class Journal {
 public:
  // Opens the journal in directory `dir`, creating it (and a fresh empty journal) when
  // missing, verifies the chain (see JournalOptions) and starts the writer thread.
  // Errors: DataLoss naming the first corrupt, missing or reordered record, or a
  // mismatch between record verify_from_seq and trusted_hash; FailedPrecondition for an
  // unknown format version; InvalidArgument when verify_from_seq is past the last record;
  // Internal/Unavailable for RocksDB I/O failures (e.g. the directory is locked by
  // another process: RocksDB allows one writer per database).
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& dir,
                                                       const JournalOptions& options);

  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one record and blocks until it is durable; returns its seq.
  // `draft`: a record built with seq 0 and prev_hash of 32 zero bytes, both present
  // (BuildRecordDraft). Errors: InvalidArgument for a draft that does not verify;
  // ResourceExhausted when the draft is over kRecordBytesMax or kQueueDraftsMax drafts
  // are already waiting; the failed state's error (see top); FailedPrecondition while
  // the journal is being destroyed.
  absl::StatusOr<uint64_t> Append(std::string draft);

  // Appends drafts as consecutive records, atomically (all or none) in one write, and
  // blocks until they are durable; returns the seq of the last one. Batches of other
  // callers may share the same sync write. Errors as Append, plus InvalidArgument for
  // an empty batch and ResourceExhausted for more than kBatchRecordsMax drafts or more
  // than kBatchBytesMax bytes in all.
  absl::StatusOr<uint64_t> AppendBatch(std::vector<std::string> drafts);

  // The same, and on success also hands back the records as stored (seq, final bytes,
  // chain hash) in *appended (replacing its contents), so a caller that applies them
  // at once need not read them back. REQUIRES: appended != nullptr.
  absl::StatusOr<uint64_t> AppendBatch(std::vector<std::string> drafts,
                                       std::vector<StoredRecord>* appended);

  // Appends records that another journal already sequenced (a standby copying its
  // primary): each must verify as a record (VerifyRecord), and they must continue this
  // journal's chain exactly: the first's seq is last_seq() + 1 and its prev_hash is
  // last_hash() at the moment the writer takes them, each next one links to the one
  // before. Nothing is patched. All or none, durable on return like AppendBatch; on
  // success *appended holds them as stored. Errors: DataLoss for a record that does not
  // verify; FailedPrecondition when they do not continue the chain (nothing is written
  // and, unlike a write error, the journal stays healthy); InvalidArgument / the limits /
  // the failed state as AppendBatch. REQUIRES: appended != nullptr.
  absl::StatusOr<uint64_t> AppendRecords(std::vector<std::string> records,
                                         std::vector<StoredRecord>* appended);

  // Removes every record after keep_seq in one synced write (a former primary rejoining
  // as a standby drops a tail its new primary never had; the caller saves it first).
  // Returns the number of records removed (0 when keep_seq >= last_seq()).
  // Errors: FailedPrecondition while appends are queued (the caller must be the only
  // writer); the failed state's error; I/O errors (the journal then enters the failed
  // state). REQUIRES: no concurrent Append/AppendBatch/AppendRecords.
  absl::StatusOr<uint64_t> CutAfter(uint64_t keep_seq);

  // Reads records from_seq, from_seq + 1, ... up to last_seq(): at most `limit`,
  // kReadRecordsMax records, and about kReadBytesMax bytes (always at least one record
  // when from_seq <= last_seq()). Empty when from_seq > last_seq(). Each is verified.
  // Errors: InvalidArgument for from_seq 0 or limit 0; DataLoss naming a bad record.
  absl::StatusOr<std::vector<StoredRecord>> Read(uint64_t from_seq, size_t limit) const;

  // Blocks until last_seq() > seq (true) or `timeout` passed (false). Followers call it
  // with the last seq they hold, then Read(seq + 1, ...).
  bool WaitForAfter(uint64_t seq, absl::Duration timeout) const;

  // The last durable record's seq (0 for an empty journal) and its chain hash.
  uint64_t last_seq() const;
  ChainHash last_hash() const;

  // OK, or the error that put the journal in its failed state.
  absl::Status health() const;

  // Number of sync writes (fsyncs of the log) done since Open. Appends divided by this
  // is the group commit's batching factor.
  uint64_t sync_writes() const { return sync_writes_.load(std::memory_order_relaxed); }

  // The time those sync writes took, summed: the writer's SyncWAL, and on the direct
  // path the whole synced RocksDB write (its log write and memtable insert too). Over a
  // busy interval, how much of it the disk spent making records durable.
  absl::Duration sync_time() const {
    return absl::Nanoseconds(sync_nanos_.load(std::memory_order_relaxed));
  }

  // Write-ahead logs opened since Open that started as a zeroed spare (0 when
  // zeroed_log_bytes is 0). Open itself opens one.
  uint64_t logs_from_zeroed_spares() const {
    return zeroed_logs_ ? zeroed_logs_->logs_from_spares() : 0;
  }

  // Blocks until the journal does nothing in the background: no RocksDB flush or
  // compaction running or pending, and the zeroed log spare (if on) ready or failed.
  // False when `timeout` passed first (a spare being written is waited for in full: it
  // is bounded by writing it). For benchmarks that measure the disk's own rate
  // between phases of appends, which would otherwise share the disk with the flush
  // those appends started.
  bool WaitForBackgroundWork(absl::Duration timeout) const;

  // Writes a consistent online copy of the journal (a RocksDB checkpoint: hard links to
  // immutable files plus copies) into `dir`, which must not exist yet; it opens as a
  // journal. Errors: AlreadyExists-like Internal from RocksDB when dir exists, I/O errors.
  // Taken while appends are in flight, it may hold records written but not yet synced
  // and answered: a journal that a crash at that moment could also have left.
  absl::Status CreateCheckpoint(const std::string& dir) const;

  // Test hooks. PauseWriterForTest stops the writer thread from taking new drafts so
  // the queue can be filled; WaitQueuedDraftsForTest blocks until `count` drafts wait.
  void PauseWriterForTest(bool paused);
  void WaitQueuedDraftsForTest(size_t count) const;

 private:
  // One caller's drafts, waiting to be written. Lives on the caller's stack. Whoever
  // writes it (the writer thread, or the caller itself on the direct path) fills
  // status, last_seq and hashes; the writer thread then answers it (CommitQueue).
  struct Request {
    std::vector<std::string> drafts;  // patched in place when written
    std::vector<ChainHash> hashes;    // chain hash of each draft, filled when written
    bool sequenced = false;           // AppendRecords: check the links, patch nothing
    size_t bytes = 0;
    absl::Status status;
    uint64_t last_seq = 0;
    std::thread::id caller;  // the submitting thread, for the writer's GroupHold
    Request* queue_next = nullptr;  // CommitQueue's link
    uint64_t queue_ticket = 0;      // CommitQueue's
    std::atomic<bool> answered{false};
  };

  Journal(std::unique_ptr<ZeroedLogs> zeroed_logs, std::unique_ptr<rocksdb::DB> db,
          const ChainTip& tip);

  absl::StatusOr<uint64_t> Submit(Request* request);
  absl::StatusOr<uint64_t> SubmitAndCollect(Request* request,
                                            std::vector<StoredRecord>* appended);
  // The direct path: when the writer thread is idle with nothing queued (a lone caller,
  // such as the sequencer), the caller writes its own request on its own thread instead
  // of paying two thread hand-offs. Returns false (nothing done) when that is not the
  // case right now.
  bool TryWriteDirectly(Request* request);
  // The writer thread's unit of work: the requests one SyncWAL makes durable, each
  // already written (unsynced) by one of possibly several RocksDB writes.
  struct Group {
    std::vector<Request*> requests;  // in chain order
    size_t records = 0;
    ChainTip first_tip;  // the writer's tip before the group
    ChainTip tip;        // after its last successful write
    absl::Status failed;  // the first write's error; nothing after it is written
    absl::Duration write_time = absl::ZeroDuration();  // its writes, for GroupHold
  };

  // While holding for returning callers, the writer wakes to write what came back every
  // this many returns (or when all are back, or the hold's budget ends). Waking on every
  // return costs a context switch each; waiting for all puts the whole group's writing
  // after the last return. Measured with almanac-bench journal, 64 writers: 2, 8 and 32
  // were within the run-to-run spread of one another.
  static constexpr size_t kReturnsPerWrite = 8;

  // Writes `group` as one synced write and fills its requests' status and last_seq,
  // updating tip_ or entering the failed state. Does not answer them. The direct path's.
  // REQUIRES: write_mu_ held.
  void WriteGroup(const std::vector<Request*>& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // After a write or sync: moves tip_ to `durable`, or enters the failed state with its
  // error and gives that error to every one of `requests`. Does not answer them.
  void Publish(const absl::StatusOr<ChainTip>& durable, const std::vector<Request*>& requests)
      ABSL_LOCKS_EXCLUDED(mu_);
  // AppendRecords' link check of one request against the writer's tip; on success puts
  // its records in batch, fills request->hashes and advances *tip.
  absl::Status AddSequenced(Request* request, ChainTip* tip, rocksdb::WriteBatch* batch);
  void WriterLoop();
  // Writer thread: moves what callers pushed into waiting_, noting who came back.
  void TakeQueued();
  // Writer thread: writes what waits into `group` (unsynced), as RocksDB writes of at
  // most kBatchRecordsMax records / kBatchBytesMax bytes, until the group holds
  // kBatchRecordsMax records.
  void WriteWaiting(Group* group);
  // Writer thread: the GroupHold wait (journal/group_hold.h), writing into `group` what
  // the returning callers bring.
  void HoldForReturningCallers(Group* group);
  // Writer thread: one SyncWAL for everything `group` wrote (skipped after a failed
  // write), then moves tip_ or enters the failed state, and answers every request.
  void SyncAndAnswer(Group* group);
  // Counts one fsync of the log (a SyncWAL or a synced write) that took `took`.
  void CountSync(absl::Duration took);
  // Sequences, patches, verifies and hashes every draft of `requests`, then writes them
  // in one WriteBatch, synced or not. Returns the new tip, or the write's error.
  absl::StatusOr<ChainTip> CommitGroup(const std::vector<Request*>& requests, bool sync)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // The spare keeper whose env db_ uses, if any; declared first so it outlives db_.
  std::unique_ptr<ZeroedLogs> zeroed_logs_;
  std::unique_ptr<rocksdb::DB> db_;

  // Callers' requests on their way to the writer thread, and the counts that bound it.
  CommitQueue<Request> queue_;
  std::atomic<size_t> queued_drafts_{0};  // pushed and not yet written
  std::atomic<bool> stopping_{false};
  std::atomic<bool> paused_{false};
  // True while the writer thread waits for work with nothing taken: the direct path's cue.
  std::atomic<bool> writer_idle_{false};
  std::atomic<bool> failed_flag_{false};  // failed_ is set (read without mu_)

  // Held while a group is being written, by the writer thread or a direct caller: one
  // write at a time, in chain order.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // The last record written (durable or not: the writer thread syncs after writing):
  // only the write_mu_ holder appends.
  ChainTip writer_tip_ ABSL_GUARDED_BY(write_mu_);

  mutable absl::Mutex mu_;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  ChainTip tip_ ABSL_GUARDED_BY(mu_);

  // Writer thread only.
  std::vector<Request*> waiting_;  // taken from queue_, oldest first, not yet written
  size_t waiting_drafts_ = 0;
  GroupHold hold_;

  std::atomic<uint64_t> sync_writes_{0};
  std::atomic<int64_t> sync_nanos_{0};
  std::thread writer_;
};

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_JOURNAL_H_
