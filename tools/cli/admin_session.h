// Shared plumbing of the admin commands (tools/cli/admin_commands.h): parsing a
// command's words, connecting, and sending one request whose failure becomes a Status
// with the CLI's exit-code meaning (tools/cli/api_client.h).
//
// Thread safety: an AdminSession is used by one thread.
#ifndef ALMANAC_TOOLS_CLI_ADMIN_SESSION_H_
#define ALMANAC_TOOLS_CLI_ADMIN_SESSION_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tools/cli/api_client.h"
#include "tools/cli/cli_args.h"

namespace almanac::cli {

class AdminSession {
 public:
  // Parses `args` with the connection flags, --json, --help and `extra_value_flags`.
  // InvalidArgument on a bad word.
  static absl::StatusOr<AdminSession> Parse(const std::vector<std::string>& args,
                                            const std::vector<std::string>& extra_value_flags);

  const ParsedArgs& args() const { return args_; }
  const std::vector<std::string>& positional() const { return args_.positional; }
  bool json() const { return args_.Has("--json"); }
  bool help() const { return args_.Has("--help") || args_.Has("-h"); }

  // Resolves the endpoint (first call only). Errors as ResolveEndpoint.
  absl::Status Connect();

  // The endpoint found by Connect. REQUIRES: Connect() succeeded.
  const ApiEndpoint& endpoint() const { return client_->endpoint(); }

  // One request; OK only for a 2xx answer (CheckReply), giving the reply.
  // REQUIRES: Connect() succeeded.
  absl::StatusOr<ApiReply> Get(const std::string& path, const std::string& not_found);
  absl::StatusOr<ApiReply> Post(const std::string& path, const nlohmann::json& body,
                                const std::string& not_found);
  absl::StatusOr<ApiReply> Delete(const std::string& path, const std::string& not_found);

 private:
  explicit AdminSession(ParsedArgs args) : args_(std::move(args)) {}

  ParsedArgs args_;
  std::shared_ptr<ApiClient> client_;  // shared: StatusOr needs a copyable type
};

// Writes the raw reply body, ending it with one newline.
void PrintRaw(const ApiReply& reply, std::ostream& out);

// Lower-cases a 16- or 10-hex-digit id after checking it. InvalidArgument ("'xyz' is not
// a network id (16 hex digits)") otherwise.
absl::StatusOr<std::string> CheckNetworkId(const std::string& text);
absl::StatusOr<std::string> CheckNodeAddress(const std::string& text);

// A usage error for a subcommand: "<problem> (see 'almanac <command> --help')".
absl::Status UsageError(const std::string& command, const std::string& problem);

// What an admin command with subcommands ("almanac network list ...") is made of.
struct SubcommandTable {
  std::string command;                               // "network"
  std::string usage;                                 // the command's own usage text
  const std::map<std::string, std::string>* help;   // subcommand -> its usage text
  std::vector<std::string> extra_value_flags;        // flags that take a value ("--name")
  // Runs the subcommand named by positional()[0] (known to be in `help`).
  std::function<absl::Status(AdminSession&, std::ostream&)> dispatch;
};

// Parses `args`, answers --help for the command or a subcommand, refuses unknown
// subcommands, then runs dispatch. Returns the CLI exit code (tools/cli/api_client.h).
int RunSubcommand(const SubcommandTable& table, const std::vector<std::string>& args,
                  std::ostream& out, std::ostream& err);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_ADMIN_SESSION_H_
