#include "ctl/backup/scheduler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/thread_name.h"
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
  if (options.metrics != nullptr) s->RegisterMetrics(options.metrics);
  {
    absl::MutexLock lock(&s->mu_);
    s->next_due_ = absl::Now() + options.every;  // infinite + now stays infinite
  }
  BackupScheduler* raw = s.get();
  s->thread_ = std::thread([raw] {
    NameThisThread("backups");
    raw->Loop();
  });
  return s;
}

void BackupScheduler::RegisterMetrics(api::MetricsRegistry* metrics) {
  constexpr char kTotalHelp[] =
      "Backups the backup thread finished (scheduled and on demand), by result.";
  ok_counter_ = metrics->GetCounter("almanac_backups_total", kTotalHelp, {{"result", "ok"}});
  failed_counter_ =
      metrics->GetCounter("almanac_backups_total", kTotalHelp, {{"result", "failed"}});
  metrics->SetCounterFunction(
      "almanac_backups_skipped_total",
      "Scheduled backups skipped because the journal had no new record since the last one.",
      [this] { return static_cast<double>(backups_skipped_.load()); });
  metrics->SetGauge("almanac_backup_last_seq",
                    "Last journal record in the newest successful backup (0: none yet).",
                    [this] { return static_cast<double>(last_success_seq_.load()); });
  metrics->SetGauge("almanac_backup_last_success_timestamp_seconds",
                    "Unix time the newest successful backup was taken (0: none yet).",
                    [this] { return static_cast<double>(last_success_ms_.load()) / 1000.0; });
  metrics->SetGauge("almanac_backup_duration_seconds",
                    "How long the last backup took (checkpoint, verification, retention), "
                    "successful or not.",
                    [this] { return static_cast<double>(last_duration_us_.load()) / 1e6; });
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
  const absl::Time start = absl::Now();
  absl::StatusOr<BackupMade> made =
      BackupAndPrune(home_, *journal_, options_.dir, options_.retention, start);
  const absl::Duration took = absl::Now() - start;
  last_duration_us_.store(absl::ToInt64Microseconds(took));
  if (!made.ok()) {
    if (failed_counter_ != nullptr) failed_counter_->Add();
    backups_failed_.fetch_add(1);
    Log(absl::StrCat("backup failed: ", made.status().ToString()));
    return made.status();
  }
  last_backup_seq_ = made->backup.manifest.last_seq;
  last_success_seq_.store(made->backup.manifest.last_seq);
  last_success_ms_.store(made->backup.manifest.created_ms);
  if (ok_counter_ != nullptr) ok_counter_->Add();
  backups_made_.fetch_add(1);  // last: a caller that sees it sees the metrics too
  Log(absl::StrCat("backup ", made->backup.path, " at record ", made->backup.manifest.last_seq,
                   " in ", absl::FormatDuration(absl::Trunc(took, absl::Milliseconds(1)))));
  if (!made->prune_status.ok()) {
    Log(absl::StrCat("pruning backups failed: ", made->prune_status.ToString()));
  } else if (!made->pruned.empty()) {
    Log(absl::StrCat("pruned backups: ", absl::StrJoin(made->pruned, ", ")));
  }
  return made->backup;
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
