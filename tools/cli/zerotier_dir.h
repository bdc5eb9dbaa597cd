// Reading a ZeroTier controller's `controller.d` directory for `almanac import-zerotier`.
//
// Layout (ZeroTier One's file-based controller database):
//   controller.d/network/<nwid>.json                   a network, as GET /controller/network/<nwid>
//   controller.d/network/<nwid>/member/<address>.json  a member, as the member GET
// Other files and directories (trace/, *.tmp, ...) are not ZeroTier objects and are
// skipped silently.
//
// Every field is validated with the admin API's own codecs (ctl/api/network_json.h,
// member_json.h: IP syntax, rules, tags, ...), plus the checks only an import needs: the
// file name and the "id"/"nwid"/"address" fields agree, the network id belongs to the
// importing controller (its top 40 bits are the controller's address, or nodes could not
// reach it), and the identity parses and names the member's address. An IP two members
// of a network hold is kept for both, as the admin API (and ZeroTier's) accepts it. A
// file that fails is reported with its path and reason and left out (with its members,
// for a network); the rest is imported.
//
// Thread safety: pure apart from reading files; any thread.
#ifndef ALMANAC_TOOLS_CLI_ZEROTIER_DIR_H_
#define ALMANAC_TOOLS_CLI_ZEROTIER_DIR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/state/state.h"

namespace almanac::cli {

struct ImportedMember {
  std::string path;
  uint64_t address = 0;
  // Everything but authorized and ip_assignments, which are their own events.
  state::MemberConfig config;
  std::string identity;  // public text form; "" when the member never asked for a config
  bool authorized = false;
  std::vector<std::string> ips;  // canonical text, in file order
  int32_t v_proto = -1, v_major = -1, v_minor = -1, v_rev = -1;
};

struct ImportedNetwork {
  std::string path;
  uint64_t nwid = 0;
  state::NetworkConfig config;
  std::vector<ImportedMember> members;  // ascending address
};

struct RejectedFile {
  std::string path;
  std::string reason;
};

struct ImportPlan {
  std::vector<ImportedNetwork> networks;  // ascending nwid
  std::vector<RejectedFile> rejected;     // in the order found
  size_t member_count() const;
};

// Reads and validates `controller_d` for a controller whose address is
// `controller_address`. Errors (nothing is imported): NotFound when controller_d or its
// network/ folder is missing; ResourceExhausted past kImportNetworksMax or
// kImportMembersMax (tools/cli/limits.h). Bad files are in plan.rejected, not errors.
absl::StatusOr<ImportPlan> ReadControllerDir(const std::string& controller_d,
                                             uint64_t controller_address);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_ZEROTIER_DIR_H_
