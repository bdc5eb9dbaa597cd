// The controller's home directory: what lives where, and the secrets created on first
// start.
//
// Layout (all under one directory, `./var/almanac` by default):
//   identity.secret   the controller's ZeroTier identity with its secret (mode 0600)
//   identity.public   the same identity without the secret
//   authtoken.secret  the admin API token (mode 0600): 24 random lowercase alphanumerics
//   api.address       "host:port" the admin API listens on (written at each start, so
//                     the CLI finds a daemon started with port 0)
//   journal/          the RocksDB journal (journal/record_format.h)
//   snapshots/        snapshot files (ctl/state/snapshot.h)
//
// Thread safety: functions are reentrant; nothing here is shared.
#ifndef ALMANAC_CTL_HOME_H_
#define ALMANAC_CTL_HOME_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ctl/zt/identity.h"

namespace almanac::ctl {

inline constexpr char kDefaultHome[] = "./var/almanac";
inline constexpr size_t kAuthTokenChars = 24;

struct HomePaths {
  explicit HomePaths(std::string home) : dir(std::move(home)) {}
  std::string dir;
  std::string identity_secret() const { return dir + "/identity.secret"; }
  std::string identity_public() const { return dir + "/identity.public"; }
  std::string auth_token() const { return dir + "/authtoken.secret"; }
  std::string api_address() const { return dir + "/api.address"; }
  std::string journal() const { return dir + "/journal"; }
  std::string snapshots() const { return dir + "/snapshots"; }
};

// Creates the directory (and parents) if missing, with mode 0700.
absl::Status EnsureDirectory(const std::string& dir);

// Loads identity.secret, or on first start generates an identity (memory-hard, about
// 0.3 s) and writes identity.secret (0600) and identity.public. The loaded identity is
// validated (memory-hard check) so a damaged file stops the start. InvalidArgument when
// the file holds no valid secret identity; I/O errors as their codes.
absl::StatusOr<zt::Identity> LoadOrCreateIdentity(const HomePaths& home);

// Loads authtoken.secret, or creates it (0600) with a fresh random token.
absl::StatusOr<std::string> LoadOrCreateAuthToken(const HomePaths& home);

// Writes `contents` to `path` atomically (temp file, fsync, rename) with `mode`.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents,
                                 int mode);

// Reads a whole small file (at most bytes_max). NotFound when missing.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t bytes_max);

}  // namespace almanac::ctl

#endif  // ALMANAC_CTL_HOME_H_
