// almanac-replay's command line, as a function so tests run it in-process.
//
//   almanac-replay [--home DIR | --backup DIR] [--json] <command> [options]
//     verify                          audit everything (replay/verify.h)
//     log [--network NWID] [--member [NWID/]ADDR] [--actor TEXT] [--since P] [--until P]
//         [--all] [--follow]          events in order, one line each
//     state [--at P]                  networks and members as the admin API rendered them
//     history NWID[/ADDR]             one object's life, field by field
//     diff P1 P2                      what changed from point P1 to point P2
// A point P is a seq ("812") or a UTC time ("2026-11-27 21:14:03"); see ParsePoint.
// --home defaults to ./var/almanac. Every source is opened read-only (replay/source.h).
//
// Exit codes: 0 success (verify: no problem); 1 verify found problems, or the source
// could not be read; 2 usage error.
//
// Thread safety: RunReplay may run on several threads at once (no global state); --follow
// blocks until the process is stopped.
#ifndef ALMANAC_REPLAY_CLI_H_
#define ALMANAC_REPLAY_CLI_H_

#include <ostream>
#include <string>
#include <vector>

namespace almanac::replay {

// args excludes the program name.
int RunReplay(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace almanac::replay

#endif  // ALMANAC_REPLAY_CLI_H_
