#include "tools/cli/zerotier_dir.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ctl/api/json_fields.h"
#include "ctl/api/member_json.h"
#include "ctl/api/network_json.h"
#include "ctl/zt/identity.h"
#include "tools/cli/cli_args.h"
#include "tools/cli/limits.h"

namespace almanac::cli {
namespace {

namespace fs = std::filesystem;

// "<16 or 10 hex>.json" -> the id; false for any other name.
bool IdFromFileName(const std::string& name, size_t digits, uint64_t* id) {
  if (name.size() != digits + 5 || name.substr(digits) != ".json") return false;
  const std::string hex = name.substr(0, digits);
  if (digits == 16 ? !IsNetworkId(hex) : !IsNodeAddress(hex)) return false;
  return absl::SimpleHexAtoi(hex, id);
}

bool IsJsonName(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0;
}

absl::Status ListError(const fs::path& dir, const std::error_code& ec) {
  return absl::InternalError(absl::StrCat("cannot list ", dir.string(), ": ", ec.message()));
}

absl::StatusOr<nlohmann::json> ReadJsonObject(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot be read");
  // Read in small pieces up to the cap: most files are a few hundred bytes, and a
  // buffer of the cap's size per file would make a large import crawl.
  std::string text;
  char piece[16384];
  while (in.read(piece, sizeof(piece)) || in.gcount() > 0) {
    text.append(piece, static_cast<size_t>(in.gcount()));
    if (text.size() > kImportFileBytesMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("larger than ", kImportFileBytesMax, " bytes"));
    }
  }
  if (in.bad()) return absl::InternalError("read error");
  return api::ParseBodyObject(text);
}

// Checks that `field`, when present and not null, is the string `expected`.
absl::Status CheckIdField(const nlohmann::json& object, const char* field,
                          const std::string& expected) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string() || absl::AsciiStrToLower(it->get<std::string>()) != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", it->dump(), " does not match the file name (", expected, ")"));
  }
  return absl::OkStatus();
}

int32_t VersionField(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_number_integer()) return -1;
  const int64_t v = it->get<int64_t>();
  return v < -1 || v > 0xffff ? -1 : static_cast<int32_t>(v);
}

absl::StatusOr<ImportedNetwork> ReadNetwork(const std::string& path, uint64_t nwid,
                                            uint64_t controller_address) {
  const std::string hex = state::NetworkIdHex(nwid);
  if ((nwid >> 24) != controller_address) {
    return absl::FailedPreconditionError(absl::StrCat(
        "network ", hex, " belongs to controller ", hex.substr(0, 10),
        ", not to this controller ", state::AddressHex(controller_address),
        " (give that controller's identity with --identity)"));
  }
  absl::StatusOr<nlohmann::json> object = ReadJsonObject(path);
  if (!object.ok()) return object.status();
  for (const char* field : {"id", "nwid"}) {
    if (absl::Status s = CheckIdField(*object, field, hex); !s.ok()) return s;
  }
  absl::StatusOr<api::NetworkPatch> patch = api::ParseNetworkPatch(*object);
  if (!patch.ok()) return patch.status();
  ImportedNetwork network;
  network.path = path;
  network.nwid = nwid;
  network.config = api::ApplyNetworkPatch(state::NetworkConfig{}, *patch);
  const state::NetworkConfig& c = network.config;
  const size_t bytes = c.rules_json.size() + c.capabilities_json.size() + c.tags_json.size() +
                       c.rules_source.size();
  if (bytes > kImportNetworkConfigBytesMax) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "rules, capabilities, tags and rulesSource take ", bytes, " bytes, max ",
        kImportNetworkConfigBytesMax, " (one journal record)"));
  }
  return network;
}

absl::StatusOr<ImportedMember> ReadMember(const std::string& path, uint64_t nwid,
                                          uint64_t address) {
  absl::StatusOr<nlohmann::json> object = ReadJsonObject(path);
  if (!object.ok()) return object.status();
  const std::string hex = state::AddressHex(address);
  for (const char* field : {"id", "address"}) {
    if (absl::Status s = CheckIdField(*object, field, hex); !s.ok()) return s;
  }
  if (absl::Status s = CheckIdField(*object, "nwid", state::NetworkIdHex(nwid)); !s.ok()) {
    return s;
  }
  absl::StatusOr<api::MemberPatch> patch = api::ParseMemberPatch(*object);
  if (!patch.ok()) return patch.status();
  ImportedMember member;
  member.path = path;
  member.address = address;
  member.config = api::ApplyMemberPatch(state::MemberConfig{}, *patch);
  member.authorized = member.config.authorized;
  member.ips = std::move(member.config.ip_assignments);
  member.config.authorized = false;
  member.config.ip_assignments.clear();
  if (member.ips.size() > kImportMemberIpsMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat("ipAssignments: ", member.ips.size(), " addresses, max ",
                     kImportMemberIpsMax));
  }
  auto identity = object->find("identity");
  if (identity != object->end() && !identity->is_null() &&
      !(identity->is_string() && identity->get<std::string>().empty())) {
    if (!identity->is_string()) return absl::InvalidArgumentError("identity: expected a string");
    absl::StatusOr<zt::Identity> parsed = zt::Identity::FromString(identity->get<std::string>());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("identity: ", parsed.status().message()));
    }
    if (parsed->address() != address) {
      return absl::InvalidArgumentError(absl::StrCat(
          "identity: names address ", state::AddressHex(parsed->address()), ", not ", hex));
    }
    member.identity = parsed->ToString(/*include_secret=*/false);  // never keep a secret
  }
  member.v_proto = VersionField(*object, "vProto");
  member.v_major = VersionField(*object, "vMajor");
  member.v_minor = VersionField(*object, "vMinor");
  member.v_rev = VersionField(*object, "vRev");
  return member;
}

// Members of one network, from <nwid>/member/. Each good one is added to `network`.
absl::Status ReadMembers(const fs::path& dir, ImportedNetwork* network, size_t* total,
                         ImportPlan* plan) {
  std::map<uint64_t, ImportedMember> members;
  std::error_code ec;
  // increment(ec), not range-for: a directory that fails mid-walk is a Status, not a throw.
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec) || !IsJsonName(name)) continue;
    uint64_t address = 0;
    if (!IdFromFileName(name, 10, &address)) {
      plan->rejected.push_back({entry.path().string(), "not named <10 hex digits>.json"});
      continue;
    }
    if (++*total > kImportMembersMax) {
      return absl::ResourceExhaustedError(
          absl::StrCat("more than ", kImportMembersMax, " members"));
    }
    absl::StatusOr<ImportedMember> member =
        ReadMember(entry.path().string(), network->nwid, address);
    if (!member.ok()) {
      plan->rejected.push_back({entry.path().string(), std::string(member.status().message())});
      continue;
    }
    members.emplace(address, std::move(*member));
  }
  if (ec) return ListError(dir, ec);
  // An IP held by two members is imported as it is: ZeroTier's controller accepts such
  // ipAssignments from its admin API and so does Almanac's (ctl/commands/member_commands),
  // so a controller.d may hold them, and the import keeps what the API would (only pool
  // assignment avoids addresses already taken).
  for (auto& [address, member] : members) network->members.push_back(std::move(member));
  return absl::OkStatus();
}

}  // namespace

size_t ImportPlan::member_count() const {
  size_t n = 0;
  for (const ImportedNetwork& network : networks) n += network.members.size();
  return n;
}

absl::StatusOr<ImportPlan> ReadControllerDir(const std::string& controller_d,
                                             uint64_t controller_address) {
  const fs::path root = fs::path(controller_d) / "network";
  std::error_code ec;
  if (!fs::is_directory(controller_d, ec)) {
    return absl::NotFoundError(absl::StrCat(controller_d, " is not a directory"));
  }
  if (!fs::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat(
        controller_d, " has no network/ folder (is it a ZeroTier controller.d?)"));
  }
  ImportPlan plan;
  std::map<uint64_t, fs::path> network_files;
  std::map<uint64_t, fs::path> member_dirs;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    uint64_t nwid = 0;
    std::error_code type_ec;
    if (entry.is_directory(type_ec) && IsNetworkId(name) && absl::SimpleHexAtoi(name, &nwid)) {
      if (fs::is_directory(entry.path() / "member", type_ec)) {
        member_dirs[nwid] = entry.path() / "member";
      }
    } else if (entry.is_regular_file(type_ec) && IsJsonName(name)) {
      if (!IdFromFileName(name, 16, &nwid)) {
        plan.rejected.push_back({entry.path().string(), "not named <16 hex digits>.json"});
      } else {
        network_files[nwid] = entry.path();
      }
    }
  }
  if (ec) return ListError(root, ec);
  if (network_files.size() > kImportNetworksMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat(network_files.size(), " networks, max ", kImportNetworksMax));
  }
  size_t total_members = 0;
  for (const auto& [nwid, path] : network_files) {
    absl::StatusOr<ImportedNetwork> network =
        ReadNetwork(path.string(), nwid, controller_address);
    if (!network.ok()) {
      plan.rejected.push_back({path.string(), std::string(network.status().message())});
      continue;
    }
    if (auto it = member_dirs.find(nwid); it != member_dirs.end()) {
      if (absl::Status s = ReadMembers(it->second, &*network, &total_members, &plan); !s.ok()) {
        return s;
      }
    }
    plan.networks.push_back(std::move(*network));
  }
  // Members whose network was not imported: say so for each, so nothing vanishes quietly.
  for (const auto& [nwid, dir] : member_dirs) {
    bool imported = false;
    for (const ImportedNetwork& n : plan.networks) imported |= n.nwid == nwid;
    if (imported) continue;
    const std::string why = network_files.count(nwid)
                                ? "its network file was rejected"
                                : absl::StrCat("there is no network/", state::NetworkIdHex(nwid),
                                               ".json");
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code type_ec;
      if (it->is_regular_file(type_ec)) plan.rejected.push_back({it->path().string(), why});
    }
    if (ec) return ListError(dir, ec);
  }
  return plan;
}

}  // namespace almanac::cli
