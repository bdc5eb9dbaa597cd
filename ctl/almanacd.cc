// almanacd: the Almanac controller daemon.
//
// Opens (or creates) a controller home, serves the ZeroTier controller JSON API, and
// runs until SIGINT or SIGTERM. See `almanacd --help`.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>
#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ctl/api/api_server.h"
#include "ctl/backup/limits.h"
#include "ctl/backup/scheduler.h"
#include "ctl/controller.h"
#include "ctl/home.h"
#include "ctl/replication/node.h"
#include "ctl/netconf/netconf_metrics.h"
#include "ctl/netconf/udp_server.h"
#include "ctl/telemetry.h"

ABSL_FLAG(std::string, home, almanac::ctl::kDefaultHome,
          "Controller home: identity, admin token, journal and snapshots live here. "
          "Created on first start.");
ABSL_FLAG(std::string, api_listen, "127.0.0.1:9993",
          "host:port for the admin JSON API (ZeroTier's controller API). Port 0 picks a "
          "free port; the address is written to <home>/api.address.");
ABSL_FLAG(std::string, zt_listen, "0.0.0.0:9993",
          "IPv4 host:port for the ZeroTier wire protocol (UDP), where nodes ask for their "
          "network configs. Port 0 picks a free port.");
ABSL_FLAG(std::string, planet, "",
          "ZeroTier planet file naming the roots Almanac HELLOs (at start and every 60 s) "
          "so nodes can reach it. Default: <home>/planet if it exists; none otherwise.");
ABSL_FLAG(uint64_t, snapshot_every, 100000,
          "Write a state snapshot in the background every N journal records (0: never). "
          "Snapshots only speed up start; deleting them loses nothing.");

ABSL_FLAG(uint64_t, zeroed_log_mib, almanac::ctl::ControllerOptions{}.zeroed_log_bytes >> 20,
          "Keep a spare of this many MiB of written zeros in the journal's directory, "
          "prepared in the background, to become its next write-ahead log: durable writes "
          "then overwrite written blocks instead of filling preallocated space, which "
          "makes each fsync cheaper on ext4 (journal/zeroed_log.h). Costs that much disk; "
          "the default fits a whole log. 0: off; at most 1024.");

ABSL_FLAG(uint64_t, seal_every_records, 1000,
          "Append a seal (the controller's signature over the chain hash, see "
          "replay/seal.h) after every N records (0: no count trigger).");
ABSL_FLAG(uint64_t, seal_every_seconds, 60,
          "Append a seal at least every N seconds while there are unsealed records "
          "(0: no timer).");

ABSL_FLAG(std::string, replication_listen, "",
          "IPv4 host:port where standbys connect (ctl/replication/protocol.h). Port 0 picks "
          "a free port; the address is written to <home>/replication.address. Empty: none.");
ABSL_FLAG(std::string, standby_of, "",
          "Start as a standby of the primary whose --replication-listen is HOST:PORT: "
          "read-only, a warm copy of its journal. The home must hold the primary's "
          "identity.secret. Promote with `almanac promote` (POST /status/promote).");
ABSL_FLAG(bool, sync_standby, false,
          "Acknowledge a change only once a standby has it durably (needs "
          "--replication-listen). See --sync-timeout-ms and --sync-fallback.");
ABSL_FLAG(int, sync_timeout_ms, 2000,
          "With --sync-standby: how long a change waits for a standby's confirmation.");
ABSL_FLAG(std::string, sync_fallback, "async",
          "With --sync-standby, when no standby confirmed in time: 'async' logs SYNC STANDBY "
          "LOST and acknowledges without a standby until one catches up; 'refuse' answers "
          "503 (the change is stored on the primary but not acknowledged).");

ABSL_FLAG(std::string, backup_dir, "",
          "Directory for backups (ctl/backup/backup.h): each a verified RocksDB checkpoint "
          "of the journal plus the identity, admin token and newest snapshot, so KEEP IT AS "
          "SECRET AS THE HOME. Empty: no backups (POST /unstable/backup answers 409).");
ABSL_FLAG(absl::Duration, backup_every, almanac::backup::kDefaultBackupEvery,
          "With --backup-dir: take a backup this often (e.g. 30m, 6h; skipped while nothing "
          "changed). 0: only on demand (`almanac backup create`).");
ABSL_FLAG(uint64_t, backup_keep, almanac::backup::kDefaultBackupsKept,
          "With --backup-dir: keep at most this many of this controller's backups (the "
          "newest is always kept).");
ABSL_FLAG(absl::Duration, backup_max_age, almanac::backup::kDefaultBackupMaxAge,
          "With --backup-dir: delete this controller's backups older than this (the newest "
          "is always kept). 0: no age limit.");

namespace {

bool SplitHostPort(const std::string& text, std::string* host, int* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = text.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  int p = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &p) || p < 0 || p > 65535) return false;
  *port = p;
  return true;
}

// Flags are documented with dashes (--api-listen), as ZeroTier users expect; Abseil
// names them with underscores. Rewrites the name part of each "--flag-name[=value]".
std::vector<char*> DashesToUnderscores(int argc, char** argv, std::vector<std::string>& store) {
  store.assign(argv, argv + argc);
  std::vector<char*> out;
  for (std::string& arg : store) {
    if (arg.rfind("--", 0) == 0) {
      const size_t name_end = std::min(arg.find('='), arg.size());
      for (size_t i = 2; i < name_end; ++i) {
        if (arg[i] == '-') arg[i] = '_';
      }
    }
    out.push_back(arg.data());
  }
  return out;
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "almanacd: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

// Raises the soft limit on open descriptors to the hard limit. The admin API's lobby
// holds idle connections up to half of this limit (ctl/api/limits.h), and Debian's
// default soft limit of 1024 would cap it at 512 while the hard limit is far higher.
// Returns the soft limit in effect.
rlim_t RaiseDescriptorLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    struct rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  }
  return limit.rlim_cur;
}

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the Almanac ZeroTier network controller daemon.\n\n"
      "Usage: almanacd [--home DIR] [--api-listen HOST:PORT] [--zt-listen HOST:PORT]\n"
      "                [--planet FILE] [--snapshot-every N] [--seal-every-records N]\n"
      "                [--seal-every-seconds N] [--backup-dir DIR [--backup-every D]\n"
      "                [--backup-keep N] [--backup-max-age D]]\n\n"
      "On first start it creates DIR with a new controller identity (identity.secret,\n"
      "identity.public) and an admin token (authtoken.secret). Every change is written\n"
      "to the journal in DIR/journal before it is acknowledged. Stop with SIGINT or\n"
      "SIGTERM.");
  std::vector<std::string> arg_store;
  std::vector<char*> args = DashesToUnderscores(argc, argv, arg_store);
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());

  std::string api_host;
  int api_port = 0;
  if (!SplitHostPort(absl::GetFlag(FLAGS_api_listen), &api_host, &api_port)) {
    std::fprintf(stderr, "almanacd: --api-listen: expected HOST:PORT, got '%s'\n",
                 absl::GetFlag(FLAGS_api_listen).c_str());
    return 2;
  }

  // Block the stop signals in every thread; main waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const rlim_t descriptors = RaiseDescriptorLimit();

  almanac::ctl::ControllerOptions options;
  options.home = absl::GetFlag(FLAGS_home);
  options.snapshot_interval_records = absl::GetFlag(FLAGS_snapshot_every);
  options.seal_interval_records = absl::GetFlag(FLAGS_seal_every_records);
  options.seal_interval_seconds = absl::GetFlag(FLAGS_seal_every_seconds);
  const uint64_t zeroed_log_mib = absl::GetFlag(FLAGS_zeroed_log_mib);
  if (zeroed_log_mib > (almanac::journal::ZeroedLogs::kSpareBytesMax >> 20)) {
    std::fprintf(stderr, "almanacd: --zeroed-log-mib: at most %zu (0: off)\n",
                 almanac::journal::ZeroedLogs::kSpareBytesMax >> 20);
    return 2;
  }
  options.zeroed_log_bytes = static_cast<size_t>(zeroed_log_mib) << 20;
  options.log = [](const std::string& line) {
    std::fprintf(stderr, "almanacd: %s\n", line.c_str());
  };
  almanac::replication::NodeOptions replication;
  replication.replication_listen = absl::GetFlag(FLAGS_replication_listen);
  replication.standby_of = absl::GetFlag(FLAGS_standby_of);
  replication.sync = absl::GetFlag(FLAGS_sync_standby);
  replication.sync_timeout_ms = absl::GetFlag(FLAGS_sync_timeout_ms);
  replication.log = options.log;
  if (absl::GetFlag(FLAGS_sync_fallback) == "refuse") {
    replication.sync_fallback = almanac::replication::SyncFallback::kRefuse;
  } else if (absl::GetFlag(FLAGS_sync_fallback) != "async") {
    std::fprintf(stderr, "almanacd: --sync-fallback: expected async or refuse\n");
    return 2;
  }
  if (replication.sync && replication.replication_listen.empty()) {
    std::fprintf(stderr, "almanacd: --sync-standby needs --replication-listen\n");
    return 2;
  }
  const bool standby = !replication.standby_of.empty();
  if (standby) {
    options.standby_reason = almanac::replication::StandbyReason(replication.standby_of);
    if (absl::Status s = almanac::replication::PrepareStandbyHome(
            replication, almanac::ctl::HomePaths(options.home));
        !s.ok()) {
      return Fail("cannot start as a standby of " + replication.standby_of, s);
    }
  }
  absl::StatusOr<std::unique_ptr<almanac::ctl::Controller>> controller =
      almanac::ctl::Controller::Open(options);
  if (!controller.ok()) return Fail("cannot open " + options.home, controller.status());
  almanac::ctl::Controller& c = **controller;

  // The registry behind GET /metrics, made here so that modules started before the API
  // (backups) register into it; it outlives them all. Rendered only by the API, which
  // stops first.
  almanac::api::MetricsRegistry metrics;
  // Backups run on their own thread; the API only asks it (POST /unstable/backup).
  std::unique_ptr<almanac::backup::BackupScheduler> backups;
  if (!absl::GetFlag(FLAGS_backup_dir).empty()) {
    almanac::backup::SchedulerOptions backup_options;
    backup_options.dir = absl::GetFlag(FLAGS_backup_dir);
    backup_options.every = absl::GetFlag(FLAGS_backup_every) == absl::ZeroDuration()
                               ? absl::InfiniteDuration()
                               : absl::GetFlag(FLAGS_backup_every);
    backup_options.retention.keep = absl::GetFlag(FLAGS_backup_keep);
    const absl::Duration max_age = absl::GetFlag(FLAGS_backup_max_age);
    backup_options.retention.max_age =
        max_age == absl::ZeroDuration() ? absl::InfiniteDuration() : max_age;
    backup_options.controller = c.identity().address();
    backup_options.log = options.log;
    backup_options.metrics = &metrics;
    absl::StatusOr<std::unique_ptr<almanac::backup::BackupScheduler>> started =
        almanac::backup::BackupScheduler::Start(backup_options, c.paths(), c.journal());
    if (!started.ok()) return Fail("cannot start backups", started.status());
    backups = std::move(*started);
  }

  almanac::ctl::Telemetry telemetry;
  almanac::netconf::NetconfOptions zt_options;
  zt_options.listen = absl::GetFlag(FLAGS_zt_listen);
  zt_options.planet_path = absl::GetFlag(FLAGS_planet);
  if (zt_options.planet_path.empty() && ::access((c.paths().dir + "/planet").c_str(), R_OK) == 0) {
    zt_options.planet_path = c.paths().dir + "/planet";
  }
  zt_options.telemetry = [&telemetry](uint64_t nwid, uint64_t address, int64_t now_ms,
                                      const std::string& physical_address,
                                      const almanac::netconf::RequestMetadata& metadata) {
    almanac::ctl::MemberTelemetry sighting;
    sighting.last_seen_ms = now_ms;
    sighting.physical_address = physical_address;
    sighting.version_major = metadata.version_major;
    sighting.version_minor = metadata.version_minor;
    sighting.version_revision = metadata.version_revision;
    sighting.protocol_version = metadata.protocol_version;
    telemetry.Record(nwid, address, std::move(sighting));
  };
  // A standby answers no ZeroTier node (its primary does) until it is promoted.
  absl::Mutex zt_mu;
  std::unique_ptr<almanac::netconf::UdpServer> zt;
  auto start_zt = [&]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<almanac::netconf::UdpServer>> started =
        almanac::netconf::StartNetconf(zt_options, c.sequencer(), c.identity());
    if (!started.ok()) return started.status();
    absl::MutexLock lock(&zt_mu);
    zt = std::move(*started);
    std::printf("almanacd: ZeroTier listening on udp %s (port %u)%s\n",
                zt_options.listen.c_str(), static_cast<unsigned>(zt->port()),
                zt_options.planet_path.empty() ? ", no roots (no --planet)" : "");
    std::fflush(stdout);
    return absl::OkStatus();
  };
  replication.on_promoted = start_zt;
  absl::StatusOr<std::unique_ptr<almanac::replication::ReplicationNode>> node =
      almanac::replication::ReplicationNode::Start(replication, &c);
  if (!node.ok()) return Fail("cannot start replication", node.status());
  if (!standby) {
    if (absl::Status s = start_zt(); !s.ok()) {
      return Fail("cannot start the ZeroTier listener", s);
    }
  }
  almanac::api::ApiServerOptions api_options;
  api_options.listen_host = api_host;
  api_options.listen_port = api_port;
  api_options.auth_token = c.auth_token();
  api_options.metrics = &metrics;
  api_options.backup_now = [&backups]() -> absl::StatusOr<nlohmann::json> {
    if (backups == nullptr) {
      return absl::FailedPreconditionError("almanacd runs without --backup-dir");
    }
    absl::StatusOr<almanac::backup::BackupInfo> made = backups->BackupNow();
    if (!made.ok()) return made.status();
    return almanac::backup::BackupJson(*made);
  };
  api_options.controller_identity_public = c.identity().ToString(/*include_secret=*/false);
  api_options.controller_address = c.identity().address();
  api_options.status_extra = [n = node->get()] { return n->StatusJson(); };
  api_options.promote = [n = node->get()] { return n->Promote(); };
  absl::StatusOr<std::unique_ptr<almanac::api::ApiServer>> api =
      almanac::api::ApiServer::Start(api_options, c.sequencer(), &telemetry);
  if (!api.ok()) return Fail("cannot start the admin API", api.status());
  // The API stops before the UDP server below, so no render reads a destroyed server.
  almanac::netconf::RegisterNetconfMetrics((*api)->metrics(),
                                           [&zt_mu, &zt] {
                                             absl::MutexLock lock(&zt_mu);
                                             return zt == nullptr
                                                        ? almanac::netconf::ResponderCounters{}
                                                        : zt->counters();
                                           });
  (*node)->RegisterMetrics((*api)->metrics());
  if ((*node)->listen_port() != 0) {
    const std::string listen = absl::GetFlag(FLAGS_replication_listen);
    const std::string address = absl::StrCat(listen.substr(0, listen.rfind(':')), ":",
                                             (*node)->listen_port());
    if (absl::Status s = almanac::ctl::WriteFileAtomically(
            c.paths().dir + "/replication.address", address + "\n", 0644);
        !s.ok()) {
      return Fail("cannot write the replication address", s);
    }
    std::printf("almanacd: replication listening on %s%s\n", address.c_str(),
                replication.sync ? " (sync standby)" : "");
  }
  if (standby) {
    std::printf("almanacd: STANDBY of %s: read-only until promoted\n",
                replication.standby_of.c_str());
  }

  const std::string api_address = absl::StrCat(
      api_host.find(':') != std::string::npos ? "[" + api_host + "]" : api_host, ":",
      (*api)->port());
  if (absl::Status s = almanac::ctl::WriteFileAtomically(c.paths().api_address(),
                                                         api_address + "\n", 0644);
      !s.ok()) {
    return Fail("cannot write " + c.paths().api_address(), s);
  }
  std::printf("almanacd: controller %s, home %s, journal at record %llu\n",
              c.identity().ToString(false).substr(0, 10).c_str(), c.paths().dir.c_str(),
              static_cast<unsigned long long>(c.journal()->last_seq()));
  std::printf("almanacd: admin API listening on http://%s (token in %s)\n",
              api_address.c_str(), c.paths().auth_token().c_str());
  std::printf("almanacd: open descriptor limit %llu\n",
              static_cast<unsigned long long>(descriptors));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::printf("almanacd: stopping on signal %d\n", sig);
  std::fflush(stdout);
  (*api)->Stop();
  api->reset();
  node->reset();
  backups.reset();
  {
    absl::MutexLock lock(&zt_mu);
    zt.reset();
  }
  controller->reset();
  return 0;
}
