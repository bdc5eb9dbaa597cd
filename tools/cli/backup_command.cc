// almanac backup (see backup_command.h).
#include "tools/cli/backup_command.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "ctl/backup/backup.h"
#include "ctl/backup/limits.h"
#include "ctl/home.h"
#include "journal/journal.h"
#include "tools/cli/admin_session.h"

namespace almanac::cli {
namespace {

constexpr char kUsage[] =
    "Usage: almanac backup <subcommand> [arguments]\n"
    "Backups of a controller home: each is a verified copy of the journal (a RocksDB\n"
    "checkpoint) with the identity, admin token and newest snapshot, so keep backups as\n"
    "secret as the home. almanacd takes them on a schedule with --backup-dir.\n"
    "\n"
    "Subcommands:\n"
    "  create [--backup-dir DIR]                 a backup now (through almanacd, or of a\n"
    "                                            stopped home into DIR, with retention)\n"
    "  list --backup-dir DIR                     the complete backups in DIR\n"
    "  restore <backup> --home NEW [--to-seq N]  a new home at record N\n"
    "Run 'almanac backup <subcommand> --help' for details.\n";

const std::map<std::string, std::string> kHelp = {
    {"create",
     "Usage: almanac backup create [--backup-dir DIR [--backup-keep N] [--backup-max-age D]]\n"
     "                             [--home HOME] [--json]\n"
     "Asks the running almanacd (found as below) for a backup now; it is written into the\n"
     "daemon's own --backup-dir, the daemon's retention is applied, and the backup is\n"
     "described (name, last seq, chain hash). Changes acknowledged before the call are in it.\n"
     "When no almanacd answers and --backup-dir DIR is given, the stopped home (--home)\n"
     "is backed up directly into DIR; its journal is locked meanwhile, so this refuses\n"
     "to run beside a daemon. Then the same retention as almanacd's is applied to this\n"
     "controller's backups in DIR (the newest is always kept; other controllers' backups\n"
     "are not touched), with almanacd's flags and defaults:\n"
     "  --backup-keep N      keep at most N backups (default 24)\n"
     "  --backup-max-age D   delete backups older than D, e.g. 168h, 30m (default 168h;\n"
     "                       0: no age limit)\n"},
    {"list",
     "Usage: almanac backup list --backup-dir DIR [--json]\n"
     "The complete backups in DIR, oldest first: name, last seq, time (UTC), snapshot seq\n"
     "and the chain hash of the last record (compare it with `almanac-replay verify` or a\n"
     "seal). Directories without a valid manifest (half-written) are named on stderr.\n"
     "No controller is contacted.\n"},
    {"restore",
     "Usage: almanac backup restore <backup> --home NEW_HOME [--to-seq N] [--json]\n"
     "Makes NEW_HOME (missing or an empty directory) from the backup directory <backup>:\n"
     "journal records 1..N (default: all of them; records after N are not copied), each\n"
     "verified against the chain, the identity, the admin token and the newest snapshot\n"
     "at or before N. The home is then opened as almanacd would open it (chain, snapshot,\n"
     "replay) before it appears, so `almanacd --home NEW_HOME` starts and serves exactly\n"
     "the state at record N (its next change is record N+1). The backup is not changed.\n"
     "No controller is contacted; --home names the NEW home here.\n"},
};

absl::StatusOr<std::string> BackupDir(AdminSession& s, bool required) {
  const std::string dir = s.args().Value("--backup-dir", "");
  if (dir.empty() && required) return UsageError("backup", "--backup-dir DIR is required");
  return dir;
}

void PrintMade(const backup::BackupInfo& b, const std::string& how, AdminSession& s,
               std::ostream& out) {
  if (s.json()) {
    out << backup::BackupJson(b).dump() << "\n";
    return;
  }
  out << "backup " << b.name << " " << how << "\n"
      << "  path        " << b.path << "\n"
      << "  last seq    " << b.manifest.last_seq << "\n"
      << "  chain hash  " << journal::HashHex(b.manifest.chain_hash) << "\n"
      << "  created     " << backup::FormatTime(b.manifest.created_ms) << "\n";
}

// --backup-keep and --backup-max-age, read as almanacd reads its flags of those names.
absl::StatusOr<backup::Retention> RetentionFlags(AdminSession& s) {
  backup::Retention retention;
  retention.keep = backup::kDefaultBackupsKept;
  retention.max_age = backup::kDefaultBackupMaxAge;
  if (s.args().values.count("--backup-keep") > 0) {
    uint64_t keep = 0;
    if (!absl::SimpleAtoi(s.args().Value("--backup-keep", ""), &keep) || keep == 0 ||
        keep > backup::kBackupsKeptMax) {
      return UsageError("backup create", absl::StrCat("--backup-keep takes a number of "
                                                      "backups, 1..", backup::kBackupsKeptMax));
    }
    retention.keep = keep;
  }
  if (s.args().values.count("--backup-max-age") > 0) {
    absl::Duration age;
    if (!absl::ParseDuration(s.args().Value("--backup-max-age", ""), &age) ||
        age < absl::ZeroDuration()) {
      return UsageError("backup create",
                        "--backup-max-age takes a duration such as 168h or 30m (0: no limit)");
    }
    retention.max_age = age == absl::ZeroDuration() ? absl::InfiniteDuration() : age;
  }
  return retention;
}

// No daemon: back up the stopped home directly, with the retention almanacd applies.
absl::Status CreateOffline(AdminSession& s, const std::string& dir,
                           const backup::Retention& retention, std::ostream& out) {
  const ctl::HomePaths home(s.args().Value("--home", ctl::kDefaultHome));
  if (absl::StatusOr<std::string> id = ctl::ReadSmallFile(home.identity_public(), 4096);
      !id.ok()) {
    return absl::NotFoundError(absl::StrCat(home.dir, " is not a controller home (no ",
                                            "identity.public)"));
  }
  journal::JournalOptions options;
  absl::StatusOr<std::unique_ptr<journal::Journal>> journal =
      journal::Journal::Open(home.journal(), options);
  if (!journal.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no almanacd answered, and the journal of ", home.dir, " cannot be opened (is a "
        "daemon running there?): ", journal.status().message()));
  }
  absl::StatusOr<backup::BackupMade> made =
      backup::BackupAndPrune(home, **journal, dir, retention, absl::Now());
  if (!made.ok()) return made.status();
  if (s.json()) {
    nlohmann::json j = backup::BackupJson(made->backup);
    j["pruned"] = made->pruned;
    if (!made->prune_status.ok()) j["pruneError"] = made->prune_status.ToString();
    out << j.dump() << "\n";
  } else {
    PrintMade(made->backup, "(almanacd not running: the home was backed up directly)", s, out);
    out << "  pruned      "
        << (made->pruned.empty() ? std::string("none") : absl::StrJoin(made->pruned, ", "))
        << " (keep " << retention.keep << ", max age "
        << (retention.max_age == absl::InfiniteDuration()
                ? std::string("none")
                : absl::FormatDuration(retention.max_age))
        << ")\n";
  }
  if (!made->prune_status.ok()) {
    return absl::Status(made->prune_status.code(),
                        absl::StrCat("the backup was made, but pruning old backups failed: ",
                                     made->prune_status.message()));
  }
  return absl::OkStatus();
}

absl::Status Create(AdminSession& s, std::ostream& out) {
  if (s.positional().size() != 1) return UsageError("backup create", "unexpected arguments");
  absl::StatusOr<std::string> dir = BackupDir(s, /*required=*/false);
  if (!dir.ok()) return dir.status();
  // Checked before anything is asked, so a typo is not noticed only when the daemon is down.
  absl::StatusOr<backup::Retention> retention = RetentionFlags(s);
  if (!retention.ok()) return retention.status();
  const absl::Status connected = s.Connect();
  absl::StatusOr<ApiReply> reply =
      connected.ok() ? s.Post("/unstable/backup", nlohmann::json::object(),
                              "this controller cannot take backups (not an almanacd?)")
                     : absl::StatusOr<ApiReply>(connected);
  if (!reply.ok()) {
    if (absl::IsUnavailable(reply.status())) {
      if (!dir->empty()) return CreateOffline(s, *dir, *retention, out);
      return absl::Status(reply.status().code(),
                          absl::StrCat(reply.status().message(), "; to back up a stopped home "
                                       "directly, give --backup-dir DIR"));
    }
    return reply.status();
  }
  if (s.json()) {
    PrintRaw(*reply, out);
    return absl::OkStatus();
  }
  const nlohmann::json& b = reply->body;
  if (!b.is_object() || !b.contains("name") || !b.contains("lastSeq")) {
    return absl::InternalError("the controller's answer does not describe a backup");
  }
  out << "backup " << b.value("name", "") << " taken by almanacd\n"
      << "  path        " << b.value("path", "") << "\n"
      << "  last seq    " << b["lastSeq"].dump() << "\n"
      << "  chain hash  " << b.value("chainHash", "") << "\n"
      << "  created     " << b.value("created", "") << "\n";
  return absl::OkStatus();
}

absl::Status List(AdminSession& s, std::ostream& out, std::ostream& err) {
  if (s.positional().size() != 1) return UsageError("backup list", "unexpected arguments");
  absl::StatusOr<std::string> dir = BackupDir(s, /*required=*/true);
  if (!dir.ok()) return dir.status();
  std::vector<std::string> skipped;
  absl::StatusOr<std::vector<backup::BackupInfo>> list = backup::ListBackups(*dir, &skipped);
  if (!list.ok()) return list.status();
  for (const std::string& line : skipped) err << "almanac: not a complete backup: " << line << "\n";
  if (s.json()) {
    nlohmann::json all = nlohmann::json::array();
    for (const backup::BackupInfo& b : *list) all.push_back(backup::BackupJson(b));
    out << all.dump() << "\n";
    return absl::OkStatus();
  }
  if (list->empty()) {
    out << "no backups in " << *dir << "\n";
    return absl::OkStatus();
  }
  size_t width = 4;
  for (const backup::BackupInfo& b : *list) width = std::max(width, b.name.size());
  auto pad = [](const std::string& text, size_t n) {
    return text + std::string(n > text.size() ? n - text.size() : 0, ' ');
  };
  out << pad("NAME", width) << "  " << pad("LAST SEQ", 10) << "  " << pad("CREATED (UTC)", 23)
      << "  " << pad("SNAPSHOT", 10) << "  CHAIN HASH\n";
  for (const backup::BackupInfo& b : *list) {
    const std::string created = backup::FormatTime(b.manifest.created_ms);
    out << pad(b.name, width) << "  " << pad(std::to_string(b.manifest.last_seq), 10) << "  "
        << pad(created.substr(0, created.size() - 4), 23) << "  "
        << pad(std::to_string(b.manifest.snapshot_seq), 10) << "  "
        << journal::HashHex(b.manifest.chain_hash) << "\n";
  }
  return absl::OkStatus();
}

absl::Status Restore(AdminSession& s, std::ostream& out) {
  if (s.positional().size() != 2) {
    return UsageError("backup restore", "give exactly one backup directory");
  }
  backup::RestoreOptions options;
  options.backup = s.positional()[1];
  options.home = s.args().Value("--home", "");
  if (options.home.empty()) {
    return UsageError("backup restore", "--home NEW_HOME (the home to create) is required");
  }
  if (s.args().values.count("--to-seq") > 0) {
    if (!absl::SimpleAtoi(s.args().Value("--to-seq", ""), &options.to_seq) ||
        options.to_seq == 0) {
      return UsageError("backup restore", "--to-seq takes a record number (1 or more)");
    }
  }
  absl::StatusOr<backup::RestoreResult> r = backup::RestoreBackup(options);
  if (!r.ok()) return r.status();
  if (s.json()) {
    out << nlohmann::json{{"home", options.home},
                          {"backup", options.backup},
                          {"lastSeq", r->last_seq},
                          {"chainHash", journal::HashHex(r->chain_hash)},
                          {"backupLastSeq", r->backup_last_seq},
                          {"snapshotSeq", r->snapshot_seq},
                          {"networks", r->networks},
                          {"members", r->members}}
               .dump()
        << "\n";
    return absl::OkStatus();
  }
  out << "restored " << options.home << " from " << options.backup << "\n"
      << "  records     1.." << r->last_seq << " copied and verified (chain hash "
      << journal::HashHex(r->chain_hash) << ")\n";
  if (r->last_seq < r->backup_last_seq) {
    out << "  not copied  records " << r->last_seq + 1 << ".." << r->backup_last_seq
        << " of the backup\n";
  }
  out << "  snapshot    "
      << (r->snapshot_seq == 0 ? std::string("none (almanacd replays from record 1)")
                               : absl::StrCat("at record ", r->snapshot_seq))
      << "\n"
      << "  state       " << r->networks << " networks, " << r->members << " members\n"
      << "  identity and admin token copied; start it with: almanacd --home "
      << options.home << "\n";
  return absl::OkStatus();
}

}  // namespace

int RunBackupCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  SubcommandTable table;
  table.command = "backup";
  table.usage = kUsage;
  table.help = &kHelp;
  table.extra_value_flags = {"--backup-dir", "--backup-keep", "--backup-max-age", "--to-seq"};
  table.dispatch = [&err](AdminSession& s, std::ostream& o) -> absl::Status {
    const std::string& sub = s.positional()[0];
    if (sub == "create") return Create(s, o);
    if (sub == "list") return List(s, o, err);
    return Restore(s, o);
  };
  return RunSubcommand(table, args, out, err);
}

}  // namespace almanac::cli
