// almanac promote (see admin_commands.h).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/admin_commands.h"
#include "tools/cli/admin_session.h"
#include "tools/cli/fields.h"

namespace almanac::cli {
namespace {

constexpr char kPromoteUsage[] =
    "Usage: almanac promote [--json]\n"
    "Turns the standby the connection options point at into the primary\n"
    "(POST /status/promote): it stops following, appends an epoch-started record with a\n"
    "higher epoch, then accepts changes and answers ZeroTier nodes. Make sure the old\n"
    "primary is down first: it refuses to serve once it sees the higher epoch, but until\n"
    "then both would accept changes. Fails with 409 when the target is not a standby.\n";

}  // namespace

int RunPromoteCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err) {
  absl::StatusOr<AdminSession> session = AdminSession::Parse(args, {});
  if (!session.ok()) {
    return Fail(UsageError("promote", std::string(session.status().message())), err);
  }
  if (session->help()) {
    out << kPromoteUsage << "\n" << kConnectionHelp;
    return kExitOk;
  }
  if (!session->positional().empty()) {
    return Fail(UsageError("promote", "unexpected arguments"), err);
  }
  if (absl::Status c = session->Connect(); !c.ok()) return Fail(c, err);
  absl::StatusOr<ApiReply> reply =
      session->Post("/status/promote", nlohmann::json::object(), "this almanacd cannot promote");
  if (!reply.ok()) return Fail(reply.status(), err);
  if (session->json()) {
    PrintRaw(*reply, out);
    return kExitOk;
  }
  const nlohmann::json& j = reply->body;
  out << "promoted: now the primary at epoch "
      << (j.contains("epoch") ? CellText(j["epoch"]) : "?") << ", journal at record "
      << (j.contains("lastSeq") ? CellText(j["lastSeq"]) : "?") << "\n";
  return kExitOk;
}

}  // namespace almanac::cli
