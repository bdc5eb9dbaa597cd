#include "tools/cli/identity_command.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "ctl/zt/identity.h"

namespace almanac::cli {
namespace {

using ::almanac::zt::Identity;

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] =
    R"(usage: almanac identity <subcommand> [arguments]

Make and check ZeroTier identities, in the same text forms as zerotier-idtool:
"address:0:public" (public) and "address:0:public:secret" (secret).

  generate [<secret-file> [<public-file>]]
      Make a new identity (about 0.3 s). Without files, print the secret identity.
      With files, write the secret identity (mode 0600) and the public one; an
      existing file is never overwritten.
  validate <identity or file>
      Check an identity given as text or as a file holding one: its syntax, that a
      secret matches its public key, and the memory-hard address check. Prints
      "<address>: valid" or the reason it is not.
  sign <secret-identity-file> <message-file>
      Print the message's 96-byte signature as 192 hex digits.
  verify <identity or file> <message-file> <signature-hex>
      Check a signature made by `sign` or by zerotier-idtool. The identity's address
      is validated too, and malleated signatures are refused.
  help
      Print this text.

Exit status: 0 valid identity or signature (or success), 1 invalid identity or
signature or a file error, 2 usage error.
)";

int Usage(std::ostream& err, absl::string_view line) {
  err << "almanac identity: " << line << " (see: almanac identity help)\n";
  return kExitUsage;
}

int Fail(std::ostream& err, absl::string_view subcommand, absl::string_view message) {
  err << "almanac identity " << subcommand << ": " << message << "\n";
  return kExitInvalid;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", strerror(errno)));
  std::string data;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat("cannot read ", path, ": ", strerror(error)));
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > limit) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than the limit of ", limit, " bytes"));
    }
  }
  ::close(fd);
  return data;
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// An identity argument is a file if one exists by that name, else identity text.
// *label gets what to call it in messages: the file name, or "identity".
absl::StatusOr<Identity> LoadIdentityArg(const std::string& arg, std::string* label) {
  if (!IsRegularFile(arg)) {
    *label = "identity";
    return Identity::FromString(arg);
  }
  *label = arg;
  absl::StatusOr<std::string> text = ReadFile(arg, zt::kIdentityFileBytesMax);
  if (!text.ok()) return text.status();
  return Identity::FromString(*text);
}

absl::Span<const uint8_t> Bytes(const std::string& s) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Writes a new file (never replacing one) with the given mode, synced to disk.
absl::Status WriteNewFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create ", path, ": ", strerror(errno),
                                                      errno == EEXIST ? " (not overwriting)" : ""));
  }
  // The umask may only have removed bits; set the mode exactly (0600 for a secret).
  bool ok = ::fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int error = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(error)));
  return absl::OkStatus();
}

int Generate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() > 2) return Usage(err, "usage: generate [<secret-file> [<public-file>]]");
  // Check before the 0.3 s of work, so a typo fails at once.
  for (const std::string& path : args) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      return Fail(err, "generate", absl::StrCat(path, " already exists; not overwriting"));
    }
  }
  Identity id = Identity::Generate();
  if (args.empty()) {
    out << id.ToString(/*include_secret=*/true) << "\n";
    return kExitOk;
  }
  if (absl::Status s = WriteNewFile(args[0], id.ToString(true) + "\n", 0600); !s.ok()) {
    return Fail(err, "generate", s.message());
  }
  out << args[0] << " written (" << zt::AddressToString(id.address()) << ", secret)\n";
  if (args.size() == 2) {
    if (absl::Status s = WriteNewFile(args[1], id.ToString(false) + "\n", 0644); !s.ok()) {
      return Fail(err, "generate", s.message());
    }
    out << args[1] << " written (" << zt::AddressToString(id.address()) << ", public)\n";
  }
  return kExitOk;
}

int Validate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() != 1) return Usage(err, "usage: validate <identity or file>");
  std::string label;
  absl::StatusOr<Identity> id = LoadIdentityArg(args[0], &label);
  if (!id.ok()) {
    out << label << ": invalid: " << id.status().message() << "\n";
    return kExitInvalid;
  }
  const std::string address = zt::AddressToString(id->address());
  if (absl::Status valid = id->Validate(); !valid.ok()) {
    out << address << ": invalid: " << valid.message() << "\n";
    return kExitInvalid;
  }
  out << address << ": valid\n";
  return kExitOk;
}

int Sign(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() != 2) return Usage(err, "usage: sign <secret-identity-file> <message-file>");
  absl::StatusOr<Identity> id = Identity::FromSecretFile(args[0]);
  if (!id.ok()) return Fail(err, "sign", id.status().message());
  absl::StatusOr<std::string> message = ReadFile(args[1], kIdentityMessageFileBytesMax);
  if (!message.ok()) return Fail(err, "sign", message.status().message());
  static constexpr char kHex[] = "0123456789abcdef";
  for (uint8_t byte : id->Sign(Bytes(*message))) out << kHex[byte >> 4] << kHex[byte & 0x0f];
  out << "\n";
  return kExitOk;
}

// Decodes hex of any even length; false on an odd length or a non-hex digit.
bool DecodeHex(std::string_view hex, std::string* bytes) {
  auto value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  bytes->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = value(hex[i]);
    int lo = value(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes->push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

int Verify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() != 3) {
    return Usage(err, "usage: verify <identity or file> <message-file> <signature-hex>");
  }
  std::string label;
  absl::StatusOr<Identity> id = LoadIdentityArg(args[0], &label);
  if (!id.ok()) {
    out << label << ": invalid: " << id.status().message() << "\n";
    return kExitInvalid;
  }
  const std::string address = zt::AddressToString(id->address());
  // A signature "by <address>" means nothing unless the key really owns that address.
  if (absl::Status valid = id->Validate(); !valid.ok()) {
    out << address << ": invalid: " << valid.message() << "\n";
    return kExitInvalid;
  }
  absl::StatusOr<std::string> message = ReadFile(args[1], kIdentityMessageFileBytesMax);
  if (!message.ok()) return Fail(err, "verify", message.status().message());
  std::string signature;
  absl::Status checked =
      absl::InvalidArgumentError("signature is not an even number of hex digits");
  if (DecodeHex(args[2], &signature))
    checked = id->CheckSignature(Bytes(*message), Bytes(signature));
  if (!checked.ok()) {
    out << address << ": signature invalid: " << checked.message() << "\n";
    return kExitInvalid;
  }
  out << address << ": signature valid\n";
  return kExitOk;
}

}  // namespace

int RunIdentityCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return kExitUsage;
  }
  const std::string& sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      out << kUsage;
      return kExitOk;
    }
  }
  if (sub == "help") {
    out << kUsage;
    return kExitOk;
  }
  if (sub == "generate") return Generate(rest, out, err);
  if (sub == "validate") return Validate(rest, out, err);
  if (sub == "sign") return Sign(rest, out, err);
  if (sub == "verify") return Verify(rest, out, err);
  return Usage(err, absl::StrCat("unknown subcommand \"", sub, "\""));
}

}  // namespace almanac::cli
