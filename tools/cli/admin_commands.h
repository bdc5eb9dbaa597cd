// The almanac CLI's admin commands: networks, members and the controller's status, sent
// to a running almanacd over its admin API (ZeroTier's controller JSON API,
// shared/docs/zerotier-protocol.md §6).
//
//   almanac network list | create [--name N] [field=value...] | show <nwid>
//                  | set <nwid> field=value... | delete <nwid>
//   almanac member list <nwid> | show <nwid> <address> | authorize <nwid> <address>
//                 | deauthorize <nwid> <address> | set <nwid> <address> field=value...
//                 | delete <nwid> <address>
//   almanac status
//
// Each takes the words after its command name ("network", "member", "status"), writes
// its normal output to `out` (a table, or the API's JSON as is with --json) and one-line
// errors ("almanac: network 8056c2e21c000001 not found") to `err`, and returns the exit
// code of tools/cli/api_client.h: 0 ok, 1 refused or not found, 2 usage error, 3 the
// controller cannot be reached or refused the token. --help on any command or
// subcommand prints its usage to `out` and returns 0.
//
// Thread safety: each call is independent; the streams must not be shared with another
// thread during the call.
#ifndef ALMANAC_TOOLS_CLI_ADMIN_COMMANDS_H_
#define ALMANAC_TOOLS_CLI_ADMIN_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

namespace almanac::cli {

int RunNetworkCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err);
int RunMemberCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);
int RunStatusCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);
// almanac promote: POST /status/promote (a standby becomes the primary).
int RunPromoteCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_ADMIN_COMMANDS_H_
