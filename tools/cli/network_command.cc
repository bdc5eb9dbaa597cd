// almanac network list|create|show|set|delete (see admin_commands.h).
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/admin_commands.h"
#include "tools/cli/admin_session.h"
#include "tools/cli/fields.h"

namespace almanac::cli {
namespace {

constexpr char kNetworkUsage[] =
    "Usage: almanac network <subcommand> [options]\n"
    "\n"
    "Subcommands:\n"
    "  list                                  networks with name, privacy, member count\n"
    "  create [--name N] [field=value...]    create a network with a random id\n"
    "  show <nwid>                           a network's settings\n"
    "  set <nwid> field=value...             change settings\n"
    "  delete <nwid>                         delete a network and all its members\n"
    "\n"
    "Run 'almanac network <subcommand> --help' for details.\n";

const std::map<std::string, std::string>& SubcommandHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"list",
       "Usage: almanac network list [--json]\n"
       "Lists the controller's networks: id, name, private, member count.\n"
       "With --json, prints the API's list of network ids.\n"},
      {"create",
       "Usage: almanac network create [--name N] [field=value...] [--json]\n"
       "Creates a network with a random id and prints the id. Fields are the ZeroTier\n"
       "API's (name, private, mtu, routes, ipAssignmentPools, v4AssignMode, rules, ...);\n"
       "a value is JSON when it parses, else a string (quote a string that looks like\n"
       "JSON: name='\"2024\"'):\n"
       "  almanac network create --name office private=false \\\n"
       "      'routes=[{\"target\":\"10.0.0.0/24\"}]' v4AssignMode.zt=true\n"},
      {"show",
       "Usage: almanac network show <nwid> [--json]\n"
       "Prints a network's settings (--json: the API's JSON).\n"},
      {"set",
       "Usage: almanac network set <nwid> field=value... [--json]\n"
       "Changes a network's settings; the network must exist. Values as for create.\n"},
      {"delete",
       "Usage: almanac network delete <nwid> [--json]\n"
       "Deletes a network and all its members.\n"},
  };
  return *help;
}

std::string NotFound(const std::string& nwid) {
  return absl::StrCat("network ", nwid, " not found");
}

absl::Status List(AdminSession& s, std::ostream& out) {
  absl::StatusOr<ApiReply> list = s.Get("/controller/network", "no network API found");
  if (!list.ok()) return list.status();
  if (s.json()) {
    PrintRaw(*list, out);
    return absl::OkStatus();
  }
  if (!list->body.is_array()) {
    return absl::InternalError("the controller's network list is not a JSON array");
  }
  std::vector<std::vector<std::string>> rows;
  for (const nlohmann::json& id : list->body) {
    if (!id.is_string()) continue;
    const std::string nwid = id.get<std::string>();
    const std::string path = "/controller/network/" + nwid;
    absl::StatusOr<ApiReply> network = s.Get(path, NotFound(nwid));
    if (absl::IsNotFound(network.status())) continue;  // deleted meanwhile
    if (!network.ok()) return network.status();
    absl::StatusOr<ApiReply> members = s.Get(path + "/member", NotFound(nwid));
    if (absl::IsNotFound(members.status())) continue;
    if (!members.ok()) return members.status();
    const nlohmann::json& n = network->body;
    const bool is_private = !n.is_object() || !n.contains("private") ||
                            !n["private"].is_boolean() || n["private"].get<bool>();
    rows.push_back({nwid, n.is_object() && n.contains("name") ? CellText(n["name"]) : "-",
                    is_private ? "yes" : "no",
                    std::to_string(members->body.is_object() ? members->body.size() : 0)});
  }
  for (auto& row : rows) {
    if (row[1].empty()) row[1] = "-";
  }
  out << RenderTable({"NWID", "NAME", "PRIVATE", "MEMBERS"}, rows);
  return absl::OkStatus();
}

absl::Status Create(AdminSession& s, const std::vector<std::string>& fields,
                    std::ostream& out) {
  absl::StatusOr<nlohmann::json> body = ParseFieldAssignments(fields);
  if (!body.ok()) return UsageError("network create", std::string(body.status().message()));
  if (s.args().values.count("--name")) (*body)["name"] = s.args().Value("--name", "");
  absl::StatusOr<ApiReply> reply = s.Post("/controller/network", *body, "no network API found");
  if (!reply.ok()) return reply.status();
  if (s.json()) {
    PrintRaw(*reply, out);
    return absl::OkStatus();
  }
  const nlohmann::json& n = reply->body;
  if (!n.is_object() || !n.contains("id")) {
    return absl::InternalError("the controller's answer has no network id");
  }
  out << "created network " << CellText(n["id"]) << "\n";
  return absl::OkStatus();
}

absl::Status Show(AdminSession& s, const std::string& nwid, std::ostream& out) {
  absl::StatusOr<ApiReply> reply = s.Get("/controller/network/" + nwid, NotFound(nwid));
  if (!reply.ok()) return reply.status();
  if (s.json()) {
    PrintRaw(*reply, out);
  } else {
    out << RenderObject(reply->body, {"id", "name", "private", "creationTime", "revision"});
  }
  return absl::OkStatus();
}

absl::Status Set(AdminSession& s, const std::string& nwid,
                 const std::vector<std::string>& fields, std::ostream& out) {
  if (fields.empty()) return UsageError("network set", "no field=value given");
  absl::StatusOr<nlohmann::json> body = ParseFieldAssignments(fields);
  if (!body.ok()) return UsageError("network set", std::string(body.status().message()));
  const std::string path = "/controller/network/" + nwid;
  // POST creates a missing network in ZeroTier's API; `set` must only change one.
  if (absl::StatusOr<ApiReply> old = s.Get(path, NotFound(nwid)); !old.ok()) {
    return old.status();
  }
  absl::StatusOr<ApiReply> reply = s.Post(path, *body, NotFound(nwid));
  if (!reply.ok()) return reply.status();
  if (s.json()) {
    PrintRaw(*reply, out);
  } else {
    out << "updated network " << nwid << "\n";
  }
  return absl::OkStatus();
}

absl::Status Delete(AdminSession& s, const std::string& nwid, std::ostream& out) {
  absl::StatusOr<ApiReply> reply = s.Delete("/controller/network/" + nwid, NotFound(nwid));
  if (!reply.ok()) return reply.status();
  if (s.json()) {
    PrintRaw(*reply, out);
  } else {
    out << "deleted network " << nwid << "\n";
  }
  return absl::OkStatus();
}

// Checks the word count, connects, and runs the subcommand.
absl::Status Dispatch(AdminSession& s, std::ostream& out) {
  const std::vector<std::string>& words = s.positional();
  const std::string& sub = words[0];
  const std::string command = "network " + sub;
  std::vector<std::string> rest(words.begin() + 1, words.end());
  if (sub == "list" || sub == "create") {
    if (sub == "list" && !rest.empty()) return UsageError(command, "unexpected arguments");
    if (absl::Status c = s.Connect(); !c.ok()) return c;
    return sub == "list" ? List(s, out) : Create(s, rest, out);
  }
  if (rest.empty()) return UsageError(command, "missing <nwid>");
  if (sub != "set" && rest.size() > 1) return UsageError(command, "unexpected arguments");
  if (s.args().values.count("--name")) return UsageError(command, "--name is for create");
  absl::StatusOr<std::string> nwid = CheckNetworkId(rest[0]);
  if (!nwid.ok()) return nwid.status();
  std::vector<std::string> fields(rest.begin() + 1, rest.end());
  if (sub == "set" && fields.empty()) return UsageError(command, "no field=value given");
  if (absl::Status c = s.Connect(); !c.ok()) return c;
  if (sub == "show") return Show(s, *nwid, out);
  if (sub == "set") return Set(s, *nwid, fields, out);
  return Delete(s, *nwid, out);
}

}  // namespace

int RunNetworkCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  return RunSubcommand({"network", kNetworkUsage, &SubcommandHelp(), {"--name"}, Dispatch}, args, out, err);
}

}  // namespace almanac::cli
