// almanac member list|show|authorize|deauthorize|set|delete (see admin_commands.h).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/admin_commands.h"
#include "tools/cli/admin_session.h"
#include "tools/cli/fields.h"

namespace almanac::cli {
namespace {

constexpr char kMemberUsage[] =
    "Usage: almanac member <subcommand> [options]\n"
    "\n"
    "Subcommands:\n"
    "  list <nwid>                          members: address, authorized, name, IPs,\n"
    "                                       version, last seen\n"
    "  show <nwid> <address>                one member\n"
    "  authorize <nwid> <address>           let a member in (it may not have joined yet)\n"
    "  deauthorize <nwid> <address>         shut a member out\n"
    "  set <nwid> <address> field=value...  change a member (name, ipAssignments, ...)\n"
    "  delete <nwid> <address>              forget a member\n"
    "\n"
    "Run 'almanac member <subcommand> --help' for details.\n";

const std::map<std::string, std::string>& SubcommandHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"list",
       "Usage: almanac member list <nwid> [--json]\n"
       "Lists a network's members: address, authorized, name, IPs, version, last seen.\n"
       "With --json, prints the API's {address: revision} object.\n"},
      {"show",
       "Usage: almanac member show <nwid> <address> [--json]\n"
       "Prints one member (--json: the API's JSON).\n"},
      {"authorize",
       "Usage: almanac member authorize <nwid> <address> [--json]\n"
       "Authorizes a member. The member need not have joined yet: it is created.\n"},
      {"deauthorize",
       "Usage: almanac member deauthorize <nwid> <address> [--json]\n"
       "Deauthorizes an existing member.\n"},
      {"set",
       "Usage: almanac member set <nwid> <address> field=value... [--json]\n"
       "Changes an existing member. A value is JSON when it parses, else a string (quote\n"
       "a string that looks like JSON: name='\"2024\"'):\n"
       "  almanac member set 949cb95e9d7ceef9 73d8c8d12f name=laptop \\\n"
       "      'ipAssignments=[\"10.147.20.5\"]' noAutoAssignIps=true\n"},
      {"delete",
       "Usage: almanac member delete <nwid> <address> [--json]\n"
       "Deletes a member from a network.\n"},
  };
  return *help;
}

std::string NetworkPath(const std::string& nwid) { return "/controller/network/" + nwid; }
std::string MemberPath(const std::string& nwid, const std::string& address) {
  return NetworkPath(nwid) + "/member/" + address;
}
std::string NetworkNotFound(const std::string& nwid) {
  return absl::StrCat("network ", nwid, " not found");
}

// A 404 on a member path means the member or its whole network is missing; ask which,
// so the message names the right one.
absl::Status MemberNotFound(AdminSession& s, const std::string& nwid,
                            const std::string& address) {
  absl::StatusOr<ApiReply> network = s.Get(NetworkPath(nwid), NetworkNotFound(nwid));
  if (!network.ok()) return network.status();
  return absl::NotFoundError(
      absl::StrCat("member ", address, " not found in network ", nwid));
}

absl::StatusOr<ApiReply> GetMember(AdminSession& s, const std::string& nwid,
                                   const std::string& address) {
  absl::StatusOr<ApiReply> reply = s.Get(MemberPath(nwid, address), "");
  if (absl::IsNotFound(reply.status())) return MemberNotFound(s, nwid, address);
  return reply;
}

// --json prints ZeroTier's own member list (address -> revision) for scripts. The table
// needs every member's fields: one request for the /unstable list form (whole members,
// sorted by address), not one GET per member, so 100,000 members list in one round trip.
absl::Status List(AdminSession& s, const std::string& nwid, std::ostream& out) {
  if (s.json()) {
    absl::StatusOr<ApiReply> list =
        s.Get(NetworkPath(nwid) + "/member", NetworkNotFound(nwid));
    if (!list.ok()) return list.status();
    PrintRaw(*list, out);
    return absl::OkStatus();
  }
  absl::StatusOr<ApiReply> list =
      s.Get("/unstable" + NetworkPath(nwid) + "/member", NetworkNotFound(nwid));
  if (!list.ok()) return list.status();
  const nlohmann::json* data = nullptr;
  if (list->body.is_object()) {
    auto it = list->body.find("data");
    if (it != list->body.end() && it->is_array()) data = &*it;
  }
  if (data == nullptr) {
    return absl::InternalError("the controller's member list has no \"data\" array");
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(data->size());
  for (const nlohmann::json& member : *data) {
    if (!member.is_object()) {
      return absl::InternalError("the controller's member list holds a non-object");
    }
    rows.push_back(MemberRow(member));
  }
  // The server sorts by address; sorting here too keeps the table stable whatever it does.
  std::sort(rows.begin(), rows.end());
  out << RenderTable(kMemberHeader, rows);
  return absl::OkStatus();
}

absl::Status Show(AdminSession& s, const std::string& nwid, const std::string& address,
                  std::ostream& out) {
  absl::StatusOr<ApiReply> reply = GetMember(s, nwid, address);
  if (!reply.ok()) return reply.status();
  if (s.json()) {
    PrintRaw(*reply, out);
  } else {
    out << RenderObject(reply->body, {"address", "nwid", "authorized", "name",
                                      "ipAssignments", "identity"});
  }
  return absl::OkStatus();
}

// POSTs `body` to the member. When must_exist, a missing member is an error instead of
// being created (ZeroTier's POST creates members).
absl::Status Change(AdminSession& s, const std::string& nwid, const std::string& address,
                    const nlohmann::json& body, bool must_exist, const std::string& done,
                    std::ostream& out) {
  if (must_exist) {
    if (absl::StatusOr<ApiReply> old = GetMember(s, nwid, address); !old.ok()) {
      return old.status();
    }
  }
  absl::StatusOr<ApiReply> reply = s.Post(MemberPath(nwid, address), body, "");
  if (absl::IsNotFound(reply.status())) return MemberNotFound(s, nwid, address);
  if (!reply.ok()) return reply.status();
  if (s.json()) {
    PrintRaw(*reply, out);
  } else {
    out << done << " member " << address << " in network " << nwid << "\n";
  }
  return absl::OkStatus();
}

absl::Status Delete(AdminSession& s, const std::string& nwid, const std::string& address,
                    std::ostream& out) {
  absl::StatusOr<ApiReply> reply = s.Delete(MemberPath(nwid, address), "");
  if (absl::IsNotFound(reply.status())) return MemberNotFound(s, nwid, address);
  if (!reply.ok()) return reply.status();
  if (s.json()) {
    PrintRaw(*reply, out);
  } else {
    out << "deleted member " << address << " from network " << nwid << "\n";
  }
  return absl::OkStatus();
}

absl::Status Dispatch(AdminSession& s, std::ostream& out) {
  const std::vector<std::string>& words = s.positional();
  const std::string& sub = words[0];
  const std::string command = "member " + sub;
  const size_t ids = sub == "list" ? 1 : 2;
  if (words.size() < ids + 1) {
    return UsageError(command, ids == 1 ? "missing <nwid>" : "missing <nwid> <address>");
  }
  if (sub != "set" && words.size() > ids + 1) return UsageError(command, "unexpected arguments");
  if (sub == "set" && words.size() == ids + 1) return UsageError(command, "no field=value given");
  absl::StatusOr<std::string> nwid = CheckNetworkId(words[1]);
  if (!nwid.ok()) return nwid.status();
  std::string address;
  if (ids == 2) {
    absl::StatusOr<std::string> a = CheckNodeAddress(words[2]);
    if (!a.ok()) return a.status();
    address = *a;
  }
  nlohmann::json body;
  if (sub == "set") {
    absl::StatusOr<nlohmann::json> fields =
        ParseFieldAssignments(std::vector<std::string>(words.begin() + 3, words.end()));
    if (!fields.ok()) return UsageError(command, std::string(fields.status().message()));
    body = std::move(*fields);
  }
  if (absl::Status c = s.Connect(); !c.ok()) return c;
  if (sub == "list") return List(s, *nwid, out);
  if (sub == "show") return Show(s, *nwid, address, out);
  if (sub == "authorize") {
    return Change(s, *nwid, address, {{"authorized", true}}, false, "authorized", out);
  }
  if (sub == "deauthorize") {
    return Change(s, *nwid, address, {{"authorized", false}}, true, "deauthorized", out);
  }
  if (sub == "set") return Change(s, *nwid, address, body, true, "updated", out);
  return Delete(s, *nwid, address, out);
}

}  // namespace

int RunMemberCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  return RunSubcommand({"member", kMemberUsage, &SubcommandHelp(), {}, Dispatch}, args, out, err);
}

}  // namespace almanac::cli
