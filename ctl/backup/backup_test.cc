#include "ctl/backup/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/testing.h"
#include "ctl/api/metrics.h"
#include "ctl/api/network_json.h"
#include "ctl/backup/limits.h"
#include "ctl/backup/scheduler.h"
#include "ctl/commands/network_commands.h"
#include "ctl/controller.h"
#include "ctl/state/snapshot.h"
#include "ctl/state/state.h"
#include "gtest/gtest.h"
#include "journal/chain.h"

namespace almanac::backup {
namespace {

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::unique_ptr<ctl::Controller> OpenHome(const std::string& home) {
  ctl::ControllerOptions options;
  options.home = home;
  options.seal_interval_records = 0;
  options.seal_interval_seconds = 0;
  options.snapshot_interval_records = 0;
  absl::StatusOr<std::unique_ptr<ctl::Controller>> c = ctl::Controller::Open(options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

// Creates a network named `name`; returns the journal's last seq after it.
uint64_t CreateNetwork(ctl::Controller& c, const std::string& name) {
  api::NetworkPatch patch;
  patch.name = name;
  auto outcome = std::make_shared<commands::NetworkOutcome>();
  const ctl::Actor actor{schema::ActorKind::AdminToken, "test", "backup_test"};
  absl::StatusOr<ctl::CommitResult> r = c.sequencer()->Submit(commands::CreateNetworkCommand(
      actor, c.identity().address(), api::MakeNetworkEdit(std::move(patch)), outcome));
  EXPECT_TRUE(r.ok()) << r.status();
  return c.journal()->last_seq();
}

size_t Networks(ctl::Controller& c) {
  return c.sequencer()->Read([](const state::State& s) { return s.network_count(); });
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = almanac::testing::MakeTempDir("backup_test");
    home_ = root_ + "/home";
    backups_ = root_ + "/backups";
    controller_ = OpenHome(home_);
    ASSERT_NE(controller_, nullptr);
  }
  std::string root_, home_, backups_;
  std::unique_ptr<ctl::Controller> controller_;
};

TEST(ManifestTest, RoundTripsAndRefusesDamage) {
  Manifest m;
  m.controller = 0x8056c2e21c;
  m.last_seq = 812;
  m.chain_hash[0] = 0xab;
  m.chain_hash[31] = 0x01;
  m.created_ms = 1764588877123;
  m.snapshot_seq = 500;
  const std::string text = FormatManifest(m);
  absl::StatusOr<Manifest> back = ParseManifest(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->controller, m.controller);
  EXPECT_EQ(back->last_seq, 812u);
  EXPECT_EQ(back->chain_hash, m.chain_hash);
  EXPECT_EQ(back->created_ms, m.created_ms);
  EXPECT_EQ(back->snapshot_seq, 500u);
  // A later version may add lines.
  EXPECT_TRUE(ParseManifest(text + "future_key something\n").ok());

  EXPECT_FALSE(ParseManifest("").ok());
  EXPECT_FALSE(ParseManifest("almanac-backup 2\n" + text.substr(text.find('\n') + 1)).ok());
  // Each required line missing, and each damaged.
  for (const char* key : {"controller", "last_seq", "chain_hash", "created_ms",
                          "snapshot_seq"}) {
    std::string cut;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::StartsWith(line, key) && !line.empty()) cut += absl::StrCat(line, "\n");
    }
    EXPECT_FALSE(ParseManifest(cut).ok()) << key;
    EXPECT_FALSE(ParseManifest(cut + key + " zz\n").ok()) << key;
  }
  std::string upper = text;
  upper.replace(upper.find("ab"), 2, "AB");
  EXPECT_FALSE(ParseManifest(upper).ok());
  Manifest past = m;
  past.snapshot_seq = 813;
  EXPECT_FALSE(ParseManifest(FormatManifest(past)).ok());
  EXPECT_FALSE(ParseManifest(std::string(kManifestBytesMax + 1, 'a')).ok());
}

TEST_F(BackupTest, CreateListsAVerifiedCopyOfTheHome) {
  CreateNetwork(*controller_, "one");
  ASSERT_TRUE(controller_->WriteSnapshotNow().ok());
  const uint64_t seq = CreateNetwork(*controller_, "two");
  const absl::Time now = absl::FromUnixMillis(1764588877123);
  absl::StatusOr<BackupInfo> made =
      CreateBackup(controller_->paths(), *controller_->journal(), backups_, now);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->name, absl::StrCat("backup-20251201T113437.123Z-", seq));
  EXPECT_EQ(made->manifest.last_seq, seq);
  EXPECT_EQ(made->manifest.chain_hash, controller_->journal()->last_hash());
  EXPECT_EQ(made->manifest.controller, controller_->identity().address());
  EXPECT_EQ(made->manifest.created_ms, 1764588877123);
  EXPECT_EQ(made->manifest.snapshot_seq, seq - 1);
  for (const char* file : {"identity.secret", "identity.public", "authtoken.secret",
                           "backup.manifest"}) {
    struct stat st;
    ASSERT_EQ(::stat((made->path + "/" + file).c_str(), &st), 0) << file;
    if (std::string(file).find("secret") != std::string::npos) {
      EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
    }
  }
  EXPECT_TRUE(IsDir(made->path + "/journal"));

  std::vector<std::string> skipped;
  absl::StatusOr<std::vector<BackupInfo>> list = ListBackups(backups_, &skipped);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, made->name);
  EXPECT_EQ((*list)[0].manifest.chain_hash, made->manifest.chain_hash);
  EXPECT_TRUE(skipped.empty());
}

TEST_F(BackupTest, HalfWrittenOrDamagedBackupsAreNotListed) {
  CreateNetwork(*controller_, "one");
  absl::StatusOr<BackupInfo> made =
      CreateBackup(controller_->paths(), *controller_->journal(), backups_, absl::Now());
  ASSERT_TRUE(made.ok()) << made.status();
  // A crash before the rename: a .partial- directory, even with a manifest.
  ASSERT_EQ(::mkdir((backups_ + "/.partial-backup-x").c_str(), 0700), 0);
  std::ofstream(backups_ + "/.partial-backup-x/backup.manifest")
      << FormatManifest(made->manifest);
  // A backup-* directory without a manifest, and one with a damaged manifest.
  ASSERT_EQ(::mkdir((backups_ + "/backup-no-manifest").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((backups_ + "/backup-bad-manifest").c_str(), 0700), 0);
  std::ofstream(backups_ + "/backup-bad-manifest/backup.manifest") << "almanac-backup 1\n";
  std::vector<std::string> skipped;
  absl::StatusOr<std::vector<BackupInfo>> list = ListBackups(backups_, &skipped);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, made->name);
  EXPECT_EQ(skipped.size(), 2u);
  EXPECT_TRUE(absl::IsNotFound(ListBackups(root_ + "/nowhere", nullptr).status()));
}

TEST_F(BackupTest, PruneKeepsCountAndAgeButAlwaysTheNewest) {
  const absl::Time t0 = absl::FromUnixSeconds(1764588000);
  std::vector<std::string> names;
  for (int i = 0; i < 5; ++i) {
    CreateNetwork(*controller_, absl::StrCat("n", i));
    absl::StatusOr<BackupInfo> made = CreateBackup(controller_->paths(), *controller_->journal(),
                                                   backups_, t0 + absl::Hours(i));
    ASSERT_TRUE(made.ok()) << made.status();
    names.push_back(made->name);
  }
  // Another controller's backup in the same directory is never touched.
  Manifest foreign;
  foreign.controller = 0x1122334455;
  foreign.last_seq = 1;
  foreign.created_ms = 0;
  ASSERT_EQ(::mkdir((backups_ + "/backup-foreign").c_str(), 0700), 0);
  std::ofstream(backups_ + "/backup-foreign/backup.manifest") << FormatManifest(foreign);
  // A stale partial directory goes; a fresh one (a backup in progress) stays.
  ASSERT_EQ(::mkdir((backups_ + "/.partial-old").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((backups_ + "/.partial-new").c_str(), 0700), 0);
  const absl::Time now = absl::Now();
  const timespec old_time[2] = {{absl::ToUnixSeconds(now - absl::Hours(2)), 0},
                                {absl::ToUnixSeconds(now - absl::Hours(2)), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (backups_ + "/.partial-old").c_str(), old_time, 0), 0);

  const uint64_t us = controller_->identity().address();
  absl::StatusOr<std::vector<std::string>> pruned =
      PruneBackups(backups_, us, Retention{3, absl::InfiniteDuration()}, now);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, (std::vector<std::string>{names[0], names[1]}));
  EXPECT_FALSE(IsDir(backups_ + "/.partial-old"));
  EXPECT_TRUE(IsDir(backups_ + "/.partial-new"));
  EXPECT_TRUE(IsDir(backups_ + "/backup-foreign"));

  // By age, relative to t0 + 4h: older than 90 minutes goes (names[2]), names[3] stays.
  pruned = PruneBackups(backups_, us, Retention{10, absl::Minutes(90)}, t0 + absl::Hours(4));
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, (std::vector<std::string>{names[2]}));
  // Everything too old: still the newest one stays.
  pruned = PruneBackups(backups_, us, Retention{10, absl::Minutes(1)}, t0 + absl::Hours(100));
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, (std::vector<std::string>{names[3]}));
  absl::StatusOr<std::vector<BackupInfo>> left = ListBackups(backups_, nullptr);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u);  // the foreign one and our newest
  EXPECT_EQ((*left)[1].name, names[4]);
}

TEST_F(BackupTest, RestoreToASeqServesExactlyThatState) {
  std::vector<uint64_t> seq_after;  // journal last seq after network i was created
  std::vector<journal::ChainHash> hash_after;
  for (int i = 0; i < 4; ++i) {
    seq_after.push_back(CreateNetwork(*controller_, absl::StrCat("n", i)));
    hash_after.push_back(controller_->journal()->last_hash());
    if (i == 1) {
      ASSERT_TRUE(controller_->WriteSnapshotNow().ok());
    }
  }
  absl::StatusOr<BackupInfo> made =
      CreateBackup(controller_->paths(), *controller_->journal(), backups_, absl::Now());
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(made->manifest.snapshot_seq, seq_after[1]);

  // Everything.
  absl::StatusOr<RestoreResult> all = RestoreBackup({made->path, 0, root_ + "/all"});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->last_seq, seq_after[3]);
  EXPECT_EQ(all->backup_last_seq, seq_after[3]);
  EXPECT_EQ(all->networks, 4u);
  EXPECT_EQ(all->snapshot_seq, seq_after[1]);

  // Up to the second network: the snapshot at that very record is used.
  absl::StatusOr<RestoreResult> two = RestoreBackup({made->path, seq_after[1], root_ + "/two"});
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->last_seq, seq_after[1]);
  EXPECT_EQ(two->chain_hash, hash_after[1]);
  EXPECT_EQ(two->networks, 2u);
  EXPECT_EQ(two->snapshot_seq, seq_after[1]);

  // Before the snapshot: it is not copied; records after the target are not either.
  const std::string one_home = root_ + "/one";
  ASSERT_EQ(::mkdir(one_home.c_str(), 0700), 0);  // an empty directory is fine
  absl::StatusOr<RestoreResult> one = RestoreBackup({made->path, seq_after[0], one_home});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->snapshot_seq, 0u);
  EXPECT_EQ(one->networks, 1u);
  {
    std::unique_ptr<ctl::Controller> restored = OpenHome(one_home);
    ASSERT_NE(restored, nullptr);
    EXPECT_EQ(restored->journal()->last_seq(), seq_after[0]);
    EXPECT_EQ(restored->journal()->last_hash(), hash_after[0]);
    EXPECT_EQ(restored->identity(), controller_->identity());
    EXPECT_EQ(restored->auth_token(), controller_->auth_token());
    EXPECT_EQ(Networks(*restored), 1u);
    // It serves: a change is appended after the restored records.
    EXPECT_EQ(CreateNetwork(*restored, "after restore"), seq_after[0] + 1);
    ASSERT_TRUE(state::ListSnapshotFiles(one_home + "/snapshots").ok());
    EXPECT_TRUE(state::ListSnapshotFiles(one_home + "/snapshots")->empty());
  }
  EXPECT_FALSE(IsDir(one_home + ".partial-restore"));
}

TEST_F(BackupTest, RestoreRefusesBadTargetsAndSeqs) {
  const uint64_t seq = CreateNetwork(*controller_, "one");
  absl::StatusOr<BackupInfo> made =
      CreateBackup(controller_->paths(), *controller_->journal(), backups_, absl::Now());
  ASSERT_TRUE(made.ok()) << made.status();
  // A non-empty target, even one that is not a home.
  const std::string busy = root_ + "/busy";
  ASSERT_EQ(::mkdir(busy.c_str(), 0700), 0);
  std::ofstream(busy + "/file") << "x";
  EXPECT_TRUE(absl::IsFailedPrecondition(RestoreBackup({made->path, 0, busy}).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(RestoreBackup({made->path, 0, home_}).status()));
  // Past the backup's end.
  absl::Status past = RestoreBackup({made->path, seq + 1, root_ + "/past"}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(past)) << past;
  EXPECT_FALSE(IsDir(root_ + "/past"));
  EXPECT_FALSE(IsDir(root_ + "/past.partial-restore"));
  // Not a backup.
  EXPECT_FALSE(RestoreBackup({home_, 0, root_ + "/x"}).ok());
  // A manifest that disagrees with the journal (hash) is caught, and leaves nothing.
  Manifest forged = made->manifest;
  forged.chain_hash[0] ^= 1;
  std::ofstream(made->path + "/backup.manifest", std::ios::trunc) << FormatManifest(forged);
  absl::Status lie = RestoreBackup({made->path, 0, root_ + "/lie"}).status();
  EXPECT_TRUE(absl::IsDataLoss(lie)) << lie;
  EXPECT_FALSE(IsDir(root_ + "/lie"));
  EXPECT_FALSE(IsDir(root_ + "/lie.partial-restore"));
}

TEST_F(BackupTest, SchedulerBacksUpOnScheduleAndOnDemand) {
  CreateNetwork(*controller_, "one");
  SchedulerOptions options;
  options.dir = backups_;
  options.every = absl::Milliseconds(200);
  options.retention = Retention{3, absl::InfiniteDuration()};
  options.controller = controller_->identity().address();
  EXPECT_FALSE(BackupScheduler::Start({"", absl::Seconds(1), {3}, 0, nullptr},
                                      controller_->paths(), controller_->journal())
                   .ok());
  options.every = absl::Milliseconds(1);
  EXPECT_FALSE(
      BackupScheduler::Start(options, controller_->paths(), controller_->journal()).ok());
  options.every = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<BackupScheduler>> s =
      BackupScheduler::Start(options, controller_->paths(), controller_->journal());
  ASSERT_TRUE(s.ok()) << s.status();

  // On demand: the backup holds every change acknowledged before the call.
  const uint64_t seq = CreateNetwork(*controller_, "two");
  absl::StatusOr<BackupInfo> now = (*s)->BackupNow();
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_GE(now->manifest.last_seq, seq);

  // Scheduled: changes keep coming, backups keep being made; retention keeps 3.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((*s)->backups_made() < 5 && absl::Now() < deadline) {
    CreateNetwork(*controller_, "more");
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_GE((*s)->backups_made(), 5u);
  // Idle: once a due backup finds nothing new it is skipped, not repeated. At most two
  // more are made after the last change (one in progress, one holding the last change).
  const uint64_t made_before = (*s)->backups_made();
  const uint64_t skipped_before = (*s)->backups_skipped();
  const absl::Time idle_deadline = absl::Now() + absl::Seconds(30);
  while ((*s)->backups_skipped() == skipped_before && absl::Now() < idle_deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GT((*s)->backups_skipped(), skipped_before);
  EXPECT_LE((*s)->backups_made(), made_before + 2);
  s->reset();
  absl::StatusOr<std::vector<BackupInfo>> list = ListBackups(backups_, nullptr);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u);
  EXPECT_EQ(list->back().manifest.last_seq, controller_->journal()->last_seq());
}

// One code path for retention: BackupAndPrune (what the scheduler and the offline
// `almanac backup create` both call) deletes this controller's backups beyond the count
// and the age, never the newest, and reports what it deleted.
TEST_F(BackupTest, BackupAndPruneAppliesRetentionByCountAndAge) {
  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  std::vector<std::string> names;
  for (int i = 0; i < 4; ++i) {
    CreateNetwork(*controller_, absl::StrCat("n", i));
    absl::StatusOr<BackupMade> made =
        BackupAndPrune(controller_->paths(), *controller_->journal(), backups_,
                       Retention{3, absl::InfiniteDuration()}, t0 + absl::Minutes(i));
    ASSERT_TRUE(made.ok()) << made.status();
    EXPECT_TRUE(made->prune_status.ok()) << made->prune_status;
    EXPECT_EQ(made->backup.manifest.last_seq, controller_->journal()->last_seq());
    names.push_back(made->backup.name);
    // By count: the fourth backup deletes the first.
    EXPECT_EQ(made->pruned, i < 3 ? std::vector<std::string>{}
                                  : std::vector<std::string>{names[0]});
  }
  absl::StatusOr<std::vector<BackupInfo>> list = ListBackups(backups_, nullptr);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(list->front().name, names[1]);
  // By age: a day later, with a one-hour limit, only the new one is left.
  absl::StatusOr<BackupMade> late =
      BackupAndPrune(controller_->paths(), *controller_->journal(), backups_,
                     Retention{10, absl::Hours(1)}, t0 + absl::Hours(24));
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->pruned, (std::vector<std::string>{names[1], names[2], names[3]}));
  list = ListBackups(backups_, nullptr);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().name, late->backup.name);
}

// The value of an unlabelled metric line, or of `name{labels}`, in rendered text.
std::optional<double> MetricValue(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
  }
  return std::nullopt;
}

// The backup metrics move with each backup the thread finishes: ok and failed counts,
// the newest backup's seq and time, how long the last one took.
TEST_F(BackupTest, SchedulerMetricsMoveAfterScheduledAndFailedBackups) {
  api::MetricsRegistry metrics;
  SchedulerOptions options;
  options.dir = backups_;
  options.every = absl::Milliseconds(200);
  options.retention = Retention{3, absl::InfiniteDuration()};
  options.controller = controller_->identity().address();
  options.metrics = &metrics;
  const uint64_t seq = CreateNetwork(*controller_, "scheduled");
  const absl::Time before = absl::Now();
  {
    absl::StatusOr<std::unique_ptr<BackupScheduler>> s =
        BackupScheduler::Start(options, controller_->paths(), controller_->journal());
    ASSERT_TRUE(s.ok()) << s.status();
    std::string text = metrics.Render();
    // The first scheduled backup is due 200 ms after the start.
    EXPECT_EQ(MetricValue(text, "almanac_backups_total{result=\"ok\"}"), 0.0) << text;
    EXPECT_EQ(MetricValue(text, "almanac_backup_last_seq"), 0.0) << text;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while ((*s)->backups_made() < 1 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_GE((*s)->backups_made(), 1u);
    text = metrics.Render();
    EXPECT_EQ(MetricValue(text, "almanac_backups_total{result=\"ok\"}"),
              static_cast<double>((*s)->backups_made()))
        << text;
    EXPECT_EQ(MetricValue(text, "almanac_backups_total{result=\"failed\"}"), 0.0) << text;
    EXPECT_EQ(MetricValue(text, "almanac_backup_last_seq"), static_cast<double>(seq)) << text;
    const std::optional<double> at =
        MetricValue(text, "almanac_backup_last_success_timestamp_seconds");
    ASSERT_TRUE(at.has_value()) << text;
    EXPECT_GE(*at, absl::ToDoubleSeconds(before - absl::UnixEpoch()) - 1);
    EXPECT_LE(*at, absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()) + 1);
    const std::optional<double> took = MetricValue(text, "almanac_backup_duration_seconds");
    ASSERT_TRUE(took.has_value()) << text;
    EXPECT_GT(*took, 0.0);
  }
  // A backup directory that cannot be made (a file is in the way) fails each backup.
  const std::string blocked = root_ + "/blocked";
  std::ofstream(blocked) << "not a directory";
  options.dir = blocked + "/backups";
  options.every = absl::InfiniteDuration();
  absl::StatusOr<std::unique_ptr<BackupScheduler>> s =
      BackupScheduler::Start(options, controller_->paths(), controller_->journal());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE((*s)->BackupNow().ok());
  const std::string text = metrics.Render();
  EXPECT_EQ(MetricValue(text, "almanac_backups_total{result=\"failed\"}"), 1.0) << text;
}

}  // namespace
}  // namespace almanac::backup
