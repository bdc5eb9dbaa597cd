// almanacd's backup thread: scheduled backups (ctl/backup/backup.h) every `every`, with
// retention applied after each, and on-demand backups (the admin API's POST
// /unstable/backup) run on the same thread, so backups never overlap and never run on a
// request thread or the sequencer: the checkpoint, its verification and the copies only
// compete with requests for the disk.
//
// Schedule: the first scheduled backup is due `every` after Start; after any backup
// (scheduled or on demand) the next is due `every` later. A due backup is skipped (and
// the next one scheduled) when the journal's last record has not changed since the last
// backup this thread made: an idle controller does not fill the directory with copies.
// every = 0 (InfiniteDuration) means on demand only.
//
// On demand: BackupNow blocks until a backup that STARTED after the call was made, and
// returns it; callers that wait at the same time share one backup (each change they saw
// acknowledged before calling is in it).
//
// Every backup (scheduled or on demand) goes through BackupAndPrune (backup.h), so the
// retention applied is the same as `almanac backup create` on a stopped home applies.
//
// Thread safety: BackupNow and the accessors may be called from any thread. The
// destructor must not race with them (stop the admin API first); it finishes a backup in
// progress, then joins the thread.
#ifndef ALMANAC_CTL_BACKUP_SCHEDULER_H_
#define ALMANAC_CTL_BACKUP_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ctl/api/metrics.h"
#include "ctl/backup/backup.h"
#include "ctl/home.h"
#include "journal/journal.h"

namespace almanac::backup {

struct SchedulerOptions {
  std::string dir;                                  // the backup directory
  absl::Duration every = absl::InfiniteDuration();  // >= kBackupEveryMin, or infinite
  Retention retention;
  uint64_t controller = 0;  // whose backups retention prunes (the home's address)
  // One line per backup made, pruned or failed; may be empty.
  std::function<void(const std::string&)> log;
  // Where the backup metrics go (may be null): almanac_backups_total{result="ok"|
  // "failed"}, almanac_backups_skipped_total, almanac_backup_last_seq,
  // almanac_backup_last_success_timestamp_seconds, almanac_backup_duration_seconds.
  // Must outlive the scheduler; its gauges read the scheduler, so it must not be
  // rendered after the scheduler is destroyed.
  api::MetricsRegistry* metrics = nullptr;
};

class BackupScheduler {
 public:
  // Checks the options and starts the thread (it prunes at once, then waits).
  // InvalidArgument for an empty dir, every below kBackupEveryMin or keep 0. The home
  // and the journal must outlive the scheduler.
  static absl::StatusOr<std::unique_ptr<BackupScheduler>> Start(
      const SchedulerOptions& options, const ctl::HomePaths& home,
      const journal::Journal* journal);
  ~BackupScheduler();
  BackupScheduler(const BackupScheduler&) = delete;
  BackupScheduler& operator=(const BackupScheduler&) = delete;

  // See the top. Errors: CreateBackup's; Unavailable when the scheduler is stopping.
  absl::StatusOr<BackupInfo> BackupNow();

  uint64_t backups_made() const { return backups_made_.load(); }
  uint64_t backups_skipped() const { return backups_skipped_.load(); }
  uint64_t backups_failed() const { return backups_failed_.load(); }

 private:
  BackupScheduler(SchedulerOptions options, ctl::HomePaths home,
                  const journal::Journal* journal);
  void RegisterMetrics(api::MetricsRegistry* metrics);
  void Loop();
  void Log(const std::string& line) const;
  absl::StatusOr<BackupInfo> RunOne();

  const SchedulerOptions options_;
  const ctl::HomePaths home_;
  const journal::Journal* const journal_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // On-demand requests: requested_ counts calls, started_ is the value of requested_
  // when the running (or last) backup started, finished_ the same for the last finished.
  uint64_t requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t finished_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::StatusOr<BackupInfo>> last_result_ ABSL_GUARDED_BY(mu_);
  absl::Time next_due_ ABSL_GUARDED_BY(mu_);

  uint64_t last_backup_seq_ = 0;  // the loop thread's own
  std::atomic<uint64_t> backups_made_{0};
  std::atomic<uint64_t> backups_skipped_{0};
  std::atomic<uint64_t> backups_failed_{0};
  std::atomic<uint64_t> last_success_seq_{0};
  std::atomic<int64_t> last_success_ms_{0};
  std::atomic<int64_t> last_duration_us_{0};
  // Set once before the thread starts (RegisterMetrics); null without metrics.
  api::Counter* ok_counter_ = nullptr;
  api::Counter* failed_counter_ = nullptr;
  std::thread thread_;
};

}  // namespace almanac::backup

#endif  // ALMANAC_CTL_BACKUP_SCHEDULER_H_
