// A file of ZeroTier identities with their secrets, one text form per line, so benchmarks
// and the node simulator do the memory-hard generation (0.15-0.3 s each) once per machine
// and not once per run. Default place: /var/tmp/almanac-bench-identities.txt (survives
// reboots on most systems, unlike /tmp).
//
// Thread safety: LoadOrExtendIdentities may be called from one thread at a time per file
// (it rewrites the file); it generates on several threads internally.
#ifndef ALMANAC_TOOLS_BENCH_NODE_IDENTITY_CACHE_H_
#define ALMANAC_TOOLS_BENCH_NODE_IDENTITY_CACHE_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/zt/identity.h"

namespace almanac::bench {

inline constexpr char kDefaultIdentityCache[] = "/var/tmp/almanac-bench-identities.txt";

// Returns `count` identities with secrets: the first `count` lines of `path`, after
// generating the missing ones (on every core) and appending them to the file. A missing
// file counts as empty. Lines are parsed with zt::Identity::FromString (which checks the
// secret against the public key, not the memory-hard address: the file is ours).
// `progress` (may be empty) hears a line now and then while generating.
// InvalidArgument: count over kIdentityCacheLinesMax, or a line that is not a secret
// identity (naming the line); I/O errors as their codes (Internal for a failed write).
absl::StatusOr<std::vector<zt::Identity>> LoadOrExtendIdentities(
    const std::string& path, size_t count,
    const std::function<void(const std::string&)>& progress);

}  // namespace almanac::bench

#endif  // ALMANAC_TOOLS_BENCH_NODE_IDENTITY_CACHE_H_
