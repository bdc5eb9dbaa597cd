// The standby's side of replication (almanacd --standby-of host:port) and promotion.
//
// Before the controller opens (Reconcile): connect to the primary and check that this
// home's journal is a prefix of the primary's. If it is not (a former primary coming
// back: it has records the new primary never got), find the last common record by
// PROBE (binary search), save the records after it to a file in the home, cut them from
// the journal, delete snapshots taken after it, and report. Never merged.
//
// While running (Follower): a thread connects, proves the identity (ctl/replication/
// channel.h), asks for records after its last one (FOLLOW), and appends each RECORDS
// message through Sequencer::AppendReplicated (which checks every record's chain link
// and applies it with the projector), then ACKs the seq once it is durable. It answers
// HEARTBEATs with an ACK too. On any error it logs (once per distinct error) and
// reconnects with a backoff; a REFUSE from the primary is logged with its reason.
//
// Promote: stops the follower, appends EpochStarted with an epoch above every epoch
// seen, and makes the sequencer writable.
//
// Thread safety: all public methods may be called from any thread.
#ifndef ALMANAC_CTL_REPLICATION_STANDBY_H_
#define ALMANAC_CTL_REPLICATION_STANDBY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ctl/home.h"
#include "ctl/replication/channel.h"
#include "ctl/sequencer.h"
#include "ctl/zt/identity.h"
#include "journal/journal.h"

namespace almanac::replication {

struct StandbyOptions {
  std::string primary;                          // "host:port" of the replication listener
  std::function<void(const std::string&)> log;  // may be empty
};

struct ReconcileReport {
  uint64_t kept_seq = 0;     // the last record both have
  uint64_t cut_records = 0;  // records removed from this home's journal
  std::string cut_file;      // where they were saved (empty when none)
};

// See the top. Opens (and closes) the home's journal itself, so it must run before the
// controller opens it. Cut file format: repeated (record length u32 big-endian ||
// record bytes), named "<home>/cut-<unix ms>-after-<kept_seq>.records", fsynced before
// the journal is cut. Errors: Unavailable when the primary cannot be reached or
// refuses; PermissionDenied when it does not hold the identity; journal errors.
absl::StatusOr<ReconcileReport> Reconcile(const StandbyOptions& options,
                                          const ctl::HomePaths& paths,
                                          const zt::Identity& identity);

struct StandbyStats {
  bool connected = false;
  uint64_t primary_last_seq = 0;  // as the primary last said
  uint64_t applied_seq = 0;
  uint64_t lag_records = 0;
  int64_t lag_ms = 0;             // how long this standby has been behind (0: caught up)
  int64_t last_contact_ms = 0;    // unix ms of the last message from the primary
  uint64_t records_received = 0;
  std::string last_error;
};

class Follower {
 public:
  // Starts following. The journal, sequencer and identity must outlive the follower.
  static std::unique_ptr<Follower> Start(const StandbyOptions& options,
                                         journal::Journal* journal, ctl::Sequencer* sequencer,
                                         const zt::Identity* identity);
  ~Follower();  // Stop()
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Closes the connection and joins the thread. Idempotent. After it returns no more
  // records are appended.
  void Stop();
  StandbyStats stats() const;

 private:
  Follower(const StandbyOptions& options, journal::Journal* journal, ctl::Sequencer* sequencer,
           const zt::Identity* identity);
  void Run();
  absl::Status FollowOnce();
  void Log(const std::string& line) const;

  const StandbyOptions options_;
  journal::Journal* const journal_;
  ctl::Sequencer* const sequencer_;
  const zt::Identity* const identity_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Channel* channel_ ABSL_GUARDED_BY(mu_) = nullptr;  // the live one, to Close on Stop
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t primary_last_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t behind_since_ms_ ABSL_GUARDED_BY(mu_) = 0;  // 0: not behind
  int64_t last_contact_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t received_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

// Turns a standby into the primary: follower->Stop() (follower may be null), then
// appends EpochStarted(max(epoch seen) + 1) and makes the sequencer writable. Returns
// the new epoch. Errors: FailedPrecondition when the sequencer is already writable;
// the sequencer's errors.
absl::StatusOr<uint64_t> Promote(Follower* follower, ctl::Sequencer* sequencer);

}  // namespace almanac::replication

#endif  // ALMANAC_CTL_REPLICATION_STANDBY_H_
