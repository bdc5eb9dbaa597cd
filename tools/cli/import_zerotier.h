// almanac import-zerotier: turns a ZeroTier controller's controller.d directory into
// journal events in an Almanac home, so an existing ZeroTier controller can be replaced
// without touching its members.
//
//   almanac import-zerotier <controller.d> [--home DIR] [--identity FILE] [--force]
//
// Steps, in order:
//   1. load the ZeroTier controller's identity (--identity, usually
//      /var/lib/zerotier-one/identity.secret) and check it (memory-hard check);
//   2. read and validate controller.d (tools/cli/zerotier_dir.h); bad files are reported
//      with path and reason and left out;
//   3. copy the identity into the home's identity.secret/identity.public BEFORE the
//      journal is created, so the journal's ControllerInitialized names it and the
//      members, which know the controller by its address, keep working. A home that
//      already holds a different identity is refused;
//   4. open the home (ctl/controller.h); a journal locked by a running almanacd is
//      refused ("stop almanacd first"), and so is a journal holding anything beyond
//      ControllerInitialized unless --force (then networks already there are refused);
//   5. submit, through the sequencer with an Actor of kind Import: per network
//      NetworkCreated; per member MemberCreated (its config), MemberJoined (when the file
//      has an identity: the identity and the node version), MemberAuthorized with
//      credential type "import" (when authorized), and IpAssigned per IP; members go in
//      commands of up to kImportEventsPerCommandMax events, one fsync each;
//   6. write a snapshot, so the daemon's first start does not replay the whole import.
// Progress lines go to `out` every kImportProgressMembers members.
//
// Not carried over (ZeroTier keeps them, the journal chooses them): creationTime,
// lastAuthorizedTime and revision become the import's own; the credential type becomes
// "import". Telemetry (last seen, physical address) is not in controller.d.
//
// Exit codes: 0 everything imported; 1 refused (identity, lock, non-empty journal) or
// some files rejected (the rest is imported); 2 usage error.
//
// Thread safety: one call at a time per home (the journal lock enforces it).
#ifndef ALMANAC_TOOLS_CLI_IMPORT_ZEROTIER_H_
#define ALMANAC_TOOLS_CLI_IMPORT_ZEROTIER_H_

#include <ostream>
#include <string>
#include <vector>

namespace almanac::cli {

// `args` are the words after "import-zerotier".
int RunImportCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_IMPORT_ZEROTIER_H_
