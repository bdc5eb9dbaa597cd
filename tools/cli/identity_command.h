// `almanac identity`: make, check, sign with and verify ZeroTier identities, with the same
// text forms as zerotier-idtool (shared/docs/zerotier-protocol.md §1; ctl/zt/identity.h).
//
//   almanac identity generate [<secret-file> [<public-file>]]
//   almanac identity validate <identity text or file>
//   almanac identity sign <secret identity file> <message file>
//   almanac identity verify <identity text or file> <message file> <signature hex>
//   almanac identity help
//
// Output: `generate` prints the secret identity (or writes the files: the secret one with
// mode 0600, and never over an existing file); `validate` prints "<address>: valid" or
// "<label>: invalid: <reason>"; `sign` prints the 96-byte signature as 192 lower-case hex
// digits; `verify` prints "<address>: signature valid" or "<address>: signature invalid:
// <reason>". Verdicts go to `out`; usage and I/O errors go to `err` as one line starting
// "almanac identity".
//
// Stricter than zerotier-idtool: validate also checks that a secret matches its public key;
// verify also validates the identity's address and rejects malleated (S+L) signatures;
// generate refuses to overwrite files. Message files are read whole, up to
// kIdentityMessageFileBytesMax.
//
// Exit codes: 0 a valid identity or signature (or generate/sign/help succeeded), 1 invalid
// identity or signature or an unreadable/unwritable file, 2 usage error.
//
// Thread safety: each call is independent; the streams must not be shared with another
// thread during the call.
#ifndef ALMANAC_TOOLS_CLI_IDENTITY_COMMAND_H_
#define ALMANAC_TOOLS_CLI_IDENTITY_COMMAND_H_

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace almanac::cli {

// The largest message file `sign` and `verify` read (they hash it whole).
inline constexpr size_t kIdentityMessageFileBytesMax = size_t{64} << 20;

// Runs one `almanac identity` subcommand; `args` are the words after "identity".
// Returns the exit code described above.
int RunIdentityCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_IDENTITY_COMMAND_H_
