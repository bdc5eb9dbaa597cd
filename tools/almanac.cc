// almanac: the Almanac admin CLI. Each subcommand lives in tools/cli/ and takes the
// words after its name; this file only dispatches.
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/admin_commands.h"
#include "tools/cli/backup_command.h"
#include "tools/cli/events_command.h"
#include "tools/cli/identity_command.h"
#include "tools/cli/import_zerotier.h"

namespace {

constexpr char kUsage[] =
    "almanac: the Almanac controller's admin tool.\n"
    "\n"
    "Usage: almanac <command> [arguments]\n"
    "\n"
    "Commands:\n"
    "  identity   generate, validate, sign and verify ZeroTier identities\n"
    "  network    list, create, show, change and delete networks (needs almanacd)\n"
    "  member     list, show, authorize, deauthorize, change and delete members\n"
    "  status     is the controller up: address, API version, networks\n"
    "  promote    turn a standby almanacd into the primary\n"
    "  events     tail the controller's event stream (resumable with a checkpoint)\n"
    "  import-zerotier  import a ZeroTier controller.d into a home (almanacd stopped)\n"
    "  backup     create (through almanacd), list and restore (to any record) backups\n"
    "\n"
    "Run 'almanac <command> --help' for a command's arguments.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "identity") {
    return almanac::cli::RunIdentityCommand(rest, std::cout, std::cerr);
  }
  if (command == "network") return almanac::cli::RunNetworkCommand(rest, std::cout, std::cerr);
  if (command == "member") return almanac::cli::RunMemberCommand(rest, std::cout, std::cerr);
  if (command == "status") return almanac::cli::RunStatusCommand(rest, std::cout, std::cerr);
  if (command == "backup") return almanac::cli::RunBackupCommand(rest, std::cout, std::cerr);
  if (command == "promote") return almanac::cli::RunPromoteCommand(rest, std::cout, std::cerr);
  if (command == "events") return almanac::cli::RunEventsCommand(rest, std::cout, std::cerr);
  if (command == "import-zerotier") {
    return almanac::cli::RunImportCommand(rest, std::cout, std::cerr);
  }
  std::cerr << "almanac: unknown command '" << command << "' (see 'almanac --help')\n";
  return 2;
}
