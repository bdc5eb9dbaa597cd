#include "ctl/home.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "sodium.h"

namespace almanac::ctl {
namespace {

absl::Status ErrnoStatus(int err, const std::string& what) {
  return absl::ErrnoToStatus(err, what);
}

}  // namespace

absl::Status EnsureDirectory(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("empty directory name");
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("cannot create directory ", partial));
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t bytes_max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open ", path));
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, absl::StrCat("cannot read ", path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > bytes_max) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than ", bytes_max, " bytes"));
    }
  }
  ::close(fd);
  return out;
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents,
                                 int mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot create ", tmp));
  // open() applies the umask; secrets must be exactly `mode`.
  if (::fchmod(fd, mode) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, absl::StrCat("cannot chmod ", tmp));
  }
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, absl::StrCat("cannot write ", tmp));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, absl::StrCat("cannot fsync ", tmp));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<zt::Identity> LoadOrCreateIdentity(const HomePaths& home) {
  absl::StatusOr<zt::Identity> loaded = zt::Identity::FromSecretFile(home.identity_secret());
  if (loaded.ok()) {
    if (absl::Status valid = loaded->Validate(); !valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          home.identity_secret(), " holds an invalid identity: ", valid.message()));
    }
    return loaded;
  }
  if (!absl::IsNotFound(loaded.status())) return loaded.status();
  zt::Identity identity = zt::Identity::Generate();
  if (absl::Status s = WriteFileAtomically(home.identity_secret(),
                                           identity.ToString(/*include_secret=*/true), 0600);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteFileAtomically(home.identity_public(),
                                           identity.ToString(/*include_secret=*/false), 0644);
      !s.ok()) {
    return s;
  }
  return identity;
}

absl::StatusOr<std::string> LoadOrCreateAuthToken(const HomePaths& home) {
  absl::StatusOr<std::string> loaded = ReadSmallFile(home.auth_token(), 4096);
  if (loaded.ok()) {
    std::string token(absl::StripAsciiWhitespace(*loaded));
    if (token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(home.auth_token(), " is empty"));
    }
    return token;
  }
  if (!absl::IsNotFound(loaded.status())) return loaded.status();
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialize");
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string token;
  for (size_t i = 0; i < kAuthTokenChars; ++i) {
    token.push_back(kAlphabet[randombytes_uniform(sizeof(kAlphabet) - 1)]);
  }
  if (absl::Status s = WriteFileAtomically(home.auth_token(), token, 0600); !s.ok()) return s;
  return token;
}

}  // namespace almanac::ctl
