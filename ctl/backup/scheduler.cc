#include "ctl/backup/scheduler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ctl/backup/limits.h"

namespace almanac::backup {

BackupScheduler::BackupScheduler(SchedulerOptions options, ctl::HomePaths home,
                                 const journal::Journal* journal)
    : options_(std::move(options)), home_(std::move(home)), journal_(journal) {}

absl::StatusOr<std::unique_ptr<BackupScheduler>> BackupScheduler::Start(
    const SchedulerOptions& options, const ctl::HomePaths& home,
    const journal::Journal* journal) {
  if (options.dir.empty()) return absl::InvalidArgumentError("no backup directory given");
  if (options.every < kBackupEveryMin) {
    return absl::InvalidArgumentError(absl::StrCat(
        "backups every ", absl::FormatDuration(options.every), " is more often than the ",
        absl::FormatDuration(kBackupEveryMin), " minimum"));
  }
  if (options.retention.keep == 0 || options.retention.keep > kBackupsKeptMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("backups kept must be 1..", kBackupsKeptMax));
  }
  if (options.retention.max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the backup max age must be positive");
  }
  if (journal == nullptr) return absl::InvalidArgumentError("no journal");
  std::unique_ptr<BackupScheduler> s(new BackupScheduler(options, home, journal));
  {
    absl::MutexLock lock(&s->mu_);
    s->next_due_ = absl::Now() + options.every;  // infinite + now stays infinite
  }
  BackupScheduler* raw = s.get();
  s->thread_ = std::thread([raw] { raw->Loop(); });
  return s;
}

BackupScheduler::~BackupScheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void BackupScheduler::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

absl::StatusOr<BackupInfo> BackupScheduler::BackupNow() {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("backups are stopping");
  const uint64_t wanted = ++requested_;
  auto answered = [this, wanted]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || finished_ >= wanted;
  };
  mu_.Await(absl::Condition(&answered));
  if (finished_ < wanted || !last_result_.has_value()) {
    return absl::UnavailableError("backups are stopping");
  }
  return *last_result_;
}

absl::StatusOr<BackupInfo> BackupScheduler::RunOne() {
  absl::StatusOr<BackupInfo> made = CreateBackup(home_, *journal_, options_.dir, absl::Now());
  if (!made.ok()) {
    backups_failed_.fetch_add(1);
    Log(absl::StrCat("backup failed: ", made.status().ToString()));
    return made;
  }
  backups_made_.fetch_add(1);
  last_backup_seq_ = made->manifest.last_seq;
  Log(absl::StrCat("backup ", made->path, " at record ", made->manifest.last_seq));
  absl::StatusOr<std::vector<std::string>> pruned =
      PruneBackups(options_.dir, options_.controller, options_.retention, absl::Now());
  if (!pruned.ok()) {
    Log(absl::StrCat("pruning backups failed: ", pruned.status().ToString()));
  } else if (!pruned->empty()) {
    Log(absl::StrCat("pruned backups: ", absl::StrJoin(*pruned, ", ")));
  }
  return made;
}

void BackupScheduler::Loop() {
  if (absl::StatusOr<std::vector<std::string>> pruned =
          PruneBackups(options_.dir, options_.controller, options_.retention, absl::Now());
      !pruned.ok() && !absl::IsNotFound(pruned.status())) {
    Log(absl::StrCat("pruning backups failed: ", pruned.status().ToString()));
  }
  while (true) {
    uint64_t taking = 0;
    bool on_demand = false;
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || requested_ > finished_;
      };
      mu_.AwaitWithDeadline(absl::Condition(&woken), next_due_);
      if (stopping_) return;
      on_demand = requested_ > finished_;
      if (!on_demand && absl::Now() < next_due_) continue;
      taking = requested_;
    }
    std::optional<absl::StatusOr<BackupInfo>> result;
    if (!on_demand && journal_->last_seq() == last_backup_seq_) {
      backups_skipped_.fetch_add(1);  // nothing new since the last backup
    } else {
      result = RunOne();
    }
    absl::MutexLock lock(&mu_);
    next_due_ = absl::Now() + options_.every;
    if (on_demand) {
      finished_ = taking;
      last_result_ = std::move(result);
    }
  }
}

}  // namespace almanac::backup
