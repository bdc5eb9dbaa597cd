// almanac: the Almanac admin CLI. Each subcommand lives in tools/cli/ and takes the
// words after its name; this file only dispatches.
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/identity_command.h"

namespace {

constexpr char kUsage[] =
    "almanac: the Almanac controller's admin tool.\n"
    "\n"
    "Usage: almanac <command> [arguments]\n"
    "\n"
    "Commands:\n"
    "  identity   generate, validate, sign and verify ZeroTier identities\n"
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
  std::cerr << "almanac: unknown command '" << command << "' (see 'almanac --help')\n";
  return 2;
}
