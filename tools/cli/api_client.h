// The almanac CLI's HTTP client for almanacd's admin API (ZeroTier's controller JSON API,
// shared/docs/zerotier-protocol.md §6), and the CLI's error-to-exit-code rule.
//
// Exit codes scripts can trust (every admin subcommand):
//   0  done
//   1  the controller refused the request, or the network/member does not exist
//   2  usage error (bad arguments; nothing was sent)
//   3  the controller cannot be reached, or it refused the admin token
// The Status codes below carry that decision: Unavailable and Unauthenticated give 3,
// InvalidArgument gives 2, anything else 1 (see ExitCodeFor).
//
// Thread safety: an ApiClient is used by one thread at a time.
#ifndef ALMANAC_TOOLS_CLI_API_CLIENT_H_
#define ALMANAC_TOOLS_CLI_API_CLIENT_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tools/cli/cli_args.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace almanac::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

// The flags every admin subcommand takes to find the controller.
inline const std::vector<std::string> kConnectionValueFlags = {"--home", "--api", "--token",
                                                               "--token-file"};
// --json and --help, which every admin subcommand also takes.
inline const std::vector<std::string> kCommonSwitches = {"--json", "--help", "-h"};

// Lines for a subcommand's --help describing the flags above.
extern const char kConnectionHelp[];

struct ApiEndpoint {
  std::string host;     // without brackets for IPv6
  int port = 0;
  std::string token;
  std::string display;  // "127.0.0.1:9993" as the user would write it
};

// Finds the API address and admin token from the parsed flags:
//   address: --api HOST:PORT, else the first line of <home>/api.address;
//   token:   --token T, else the file --token-file F, else <home>/authtoken.secret;
//   home:    --home DIR, else ./var/almanac.
// Errors: InvalidArgument for a malformed --api; Unavailable when api.address is
// missing or malformed (no daemon started there); Unauthenticated when no token can be
// read. Messages are one line, ready to print after "almanac: ".
absl::StatusOr<ApiEndpoint> ResolveEndpoint(const ParsedArgs& args);

// Splits "host:port" or "[v6]:port". False when malformed.
bool SplitHostPort(const std::string& text, std::string* host, int* port);

struct ApiReply {
  int http_status = 0;
  nlohmann::json body;  // null when the body is empty or not JSON
  std::string raw;
};

class ApiClient {
 public:
  explicit ApiClient(ApiEndpoint endpoint);
  ~ApiClient();

  // Sends the request with the token in X-ZT1-Auth. Any HTTP answer is returned as is
  // (check it with CheckReply); Unavailable ("cannot reach the controller at H:P:
  // connection refused (is almanacd running?)") when there is none.
  absl::StatusOr<ApiReply> Get(const std::string& path);
  absl::StatusOr<ApiReply> Post(const std::string& path, const nlohmann::json& body);
  absl::StatusOr<ApiReply> Delete(const std::string& path);

  const ApiEndpoint& endpoint() const { return endpoint_; }

 private:
  absl::Status TransportError(int error) const;

  ApiEndpoint endpoint_;
  std::unique_ptr<httplib::Client> client_;
};

// OK for a 2xx answer. Otherwise: Unauthenticated for 401/403 (the token was refused);
// NotFound with `not_found_message` for 404; FailedPrecondition naming the HTTP status
// and the controller's message (a JSON "message" or "error" field, else the body's start)
// for anything else.
absl::Status CheckReply(const ApiReply& reply, const ApiEndpoint& endpoint,
                        const std::string& not_found_message);

// The exit code for a failed Status (see the top of this file).
int ExitCodeFor(const absl::Status& status);

// Prints "almanac: <message>" on err and returns ExitCodeFor(status).
// REQUIRES: !status.ok().
int Fail(const absl::Status& status, std::ostream& err);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_API_CLIENT_H_
