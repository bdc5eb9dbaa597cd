// almanac backup: backups of a controller home (ctl/backup/backup.h).
//
//   almanac backup create [--backup-dir DIR [--backup-keep N] [--backup-max-age D]]
//                         [connection flags]
//       Asks the running almanacd for a backup now (POST /unstable/backup); it goes into
//       the daemon's own --backup-dir. When no almanacd answers and --backup-dir is given,
//       backs up the stopped home (--home) directly into DIR (the journal lock makes sure
//       no daemon writes meanwhile), then applies almanacd's retention (same flags and
//       defaults) through the same code path (backup::BackupAndPrune).
//   almanac backup list --backup-dir DIR
//       Each complete backup: name, last seq, time, chain hash (and snapshot seq).
//   almanac backup restore <backup> --home NEW_HOME [--to-seq N]
//       A new home holding records 1..N (default: all) of the backup, verified, that
//       almanacd starts from and serves exactly the state at N. Refuses a non-empty target.
// --json on each prints JSON (tools/cli/api_client.h exit codes: 0 ok, 1 refused or
// failed, 2 usage error, 3 controller unreachable or token refused).
//
// Thread safety: each call is independent; the streams must not be shared meanwhile.
#ifndef ALMANAC_TOOLS_CLI_BACKUP_COMMAND_H_
#define ALMANAC_TOOLS_CLI_BACKUP_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace almanac::cli {

// `args` are the words after "backup".
int RunBackupCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_BACKUP_COMMAND_H_
