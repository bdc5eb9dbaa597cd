// almanac status (see admin_commands.h).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/admin_commands.h"
#include "tools/cli/admin_session.h"
#include "tools/cli/fields.h"

namespace almanac::cli {
namespace {

constexpr char kStatusUsage[] =
    "Usage: almanac status [--json]\n"
    "Asks the controller whether it is up: its address, API version, clock, whether its\n"
    "database is ready, and how many networks it has. With --json, prints the API's\n"
    "GET /controller answer.\n";

absl::Status Status(AdminSession& s, std::ostream& out) {
  absl::StatusOr<ApiReply> controller = s.Get("/controller", "no controller API found");
  if (!controller.ok()) return controller.status();
  if (s.json()) {
    PrintRaw(*controller, out);
    return absl::OkStatus();
  }
  const nlohmann::json& c = controller->body;
  if (!c.is_object()) return absl::InternalError("the controller's status is not a JSON object");
  absl::StatusOr<ApiReply> networks = s.Get("/controller/network", "no network API found");
  if (!networks.ok()) return networks.status();

  std::vector<std::vector<std::string>> rows;
  // ZeroTier's node status (GET /status) names the controller's address; an API that
  // serves only the controller part answers 404, which is fine here.
  if (absl::StatusOr<ApiReply> node = s.Get("/status", ""); node.ok() && node->body.is_object() &&
                                                            node->body.contains("address")) {
    rows.push_back({"address", CellText(node->body["address"])});
  }
  rows.push_back({"api", "http://" + s.endpoint().display});
  auto field = [&c](const char* key) {
    auto it = c.find(key);
    return it == c.end() ? nlohmann::json() : *it;
  };
  rows.push_back({"apiVersion", CellText(field("apiVersion"))});
  const nlohmann::json ready = field("databaseReady");
  rows.push_back({"database", ready.is_boolean() ? (ready.get<bool>() ? "ready" : "not ready")
                                                  : CellText(ready)});
  rows.push_back({"clock", TimeCell(field("clock"))});
  rows.push_back({"networks", std::to_string(networks->body.is_array() ? networks->body.size()
                                                                        : 0)});
  out << "controller is up\n";
  for (const auto& row : rows) {
    out << "  " << row[0] << std::string(12 - row[0].size(), ' ') << row[1] << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

int RunStatusCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  absl::StatusOr<AdminSession> session = AdminSession::Parse(args, {});
  if (!session.ok()) {
    return Fail(UsageError("status", std::string(session.status().message())), err);
  }
  if (session->help()) {
    out << kStatusUsage << "\n" << kConnectionHelp;
    return kExitOk;
  }
  if (!session->positional().empty()) {
    return Fail(UsageError("status", "unexpected arguments"), err);
  }
  if (absl::Status c = session->Connect(); !c.ok()) return Fail(c, err);
  if (absl::Status s = Status(*session, out); !s.ok()) return Fail(s, err);
  return kExitOk;
}

}  // namespace almanac::cli
