#include "ctl/zt/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/zt/identity_hash.h"

namespace almanac::zt {
namespace {

constexpr size_t kHalfBytes = 32;  // each key half (X25519 / Ed25519)
constexpr size_t kKeyHexDigits = 2 * kPublicKeyBytes;
constexpr uint8_t kTypeC25519 = 0;
constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool AllHex(std::string_view text) {
  for (char c : text) {
    if (HexValue(c) < 0) return false;
  }
  return true;
}

// Decodes exactly 2*out_len hex digits. False on a non-hex digit.
bool DecodeHex(std::string_view hex, uint8_t* out, size_t out_len) {
  if (hex.size() != 2 * out_len) return false;
  for (size_t i = 0; i < out_len; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

// The Ed25519 group order L, little-endian.
constexpr uint8_t kGroupOrder[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

// True if the 32-byte little-endian scalar is below L.
bool IsCanonicalScalar(const uint8_t* scalar) {
  for (int i = 31; i >= 0; --i) {
    if (scalar[i] != kGroupOrder[i]) return scalar[i] < kGroupOrder[i];
  }
  return false;  // equal to L
}

// Debian's Abseil has its own string_view type, so these small helpers work on std's.
std::string_view StripWhitespace(std::string_view text) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> SplitColons(std::string_view text) {
  std::vector<std::string_view> fields;
  for (;;) {
    size_t colon = text.find(':');
    fields.push_back(text.substr(0, colon));
    if (colon == std::string_view::npos) return fields;
    text.remove_prefix(colon + 1);
  }
}

absl::string_view AbslView(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

void AppendHex(const uint8_t* bytes, size_t len, std::string* out) {
  for (size_t i = 0; i < len; ++i) {
    out->push_back(kHexDigits[bytes[i] >> 4]);
    out->push_back(kHexDigits[bytes[i] & 0x0f]);
  }
}

// Reads at most limit + 1 bytes so an oversized file is detected without reading it all.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string what = absl::StrCat("cannot open ", path, ": ", strerror(err));
    if (err == ENOENT) return absl::NotFoundError(what);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(what);
    return absl::InternalError(what);
  }
  std::string data(limit + 1, '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, &data[got], data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat("cannot read ", path, ": ", strerror(err)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > limit) {
    sodium_memzero(&data[0], data.size());
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is larger than ", limit, " bytes: not an identity file"));
  }
  data.resize(got);
  return data;
}

}  // namespace

Identity::Identity() = default;

Identity::~Identity() { sodium_memzero(secret_.data(), secret_.size()); }

absl::StatusOr<Identity> Identity::Make(uint64_t address,
                                        const std::array<uint8_t, kPublicKeyBytes>& public_key,
                                        const uint8_t* secret_or_null) {
  EnsureSodiumInitialized();
  if (IsReservedAddress(address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("address ", AddressToString(address), " is reserved (0 or starting with ff)"));
  }
  Identity id;
  id.address_ = address;
  id.public_ = public_key;
  if (secret_or_null == nullptr) return id;

  // zerotier-idtool never checks this; a controller must, or it would sign with a key that
  // no peer can verify and agree keys no peer can reproduce.
  uint8_t x_public[crypto_scalarmult_BYTES];
  if (crypto_scalarmult_base(x_public, secret_or_null) != 0 ||
      sodium_memcmp(x_public, public_key.data(), kHalfBytes) != 0) {
    return absl::InvalidArgumentError(
        "secret X25519 scalar does not match the identity's X25519 public key");
  }
  uint8_t ed_public[crypto_sign_ed25519_PUBLICKEYBYTES];
  uint8_t ed_secret[crypto_sign_ed25519_SECRETKEYBYTES];
  crypto_sign_ed25519_seed_keypair(ed_public, ed_secret, secret_or_null + kHalfBytes);
  sodium_memzero(ed_secret, sizeof(ed_secret));
  if (sodium_memcmp(ed_public, public_key.data() + kHalfBytes, kHalfBytes) != 0) {
    return absl::InvalidArgumentError(
        "secret Ed25519 seed does not match the identity's Ed25519 public key");
  }
  memcpy(id.secret_.data(), secret_or_null, kSecretKeyBytes);
  id.has_secret_ = true;
  return id;
}

absl::StatusOr<Identity> Identity::FromString(std::string_view text) {
  // Files end in a newline and people paste with spaces: whitespace at the ends is harmless.
  text = StripWhitespace(text);
  std::vector<std::string_view> fields = SplitColons(text);
  if (fields.size() != 3 && fields.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("identity must be address:0:public[:secret], got ", fields.size(),
                     " colon-separated field(s)"));
  }
  absl::StatusOr<uint64_t> address = ParseAddress(fields[0]);
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad identity address: ", address.status().message()));
  }
  if (fields[1] != "0") {
    return absl::InvalidArgumentError(absl::StrCat(
        "identity type must be exactly \"0\" (c25519), got \"", AbslView(fields[1]), "\""));
  }
  // Like idtool, hex digits past the 128th are ignored: the key is fully given by the first
  // 128, and ToString writes the canonical form. They must still be hex digits.
  std::string_view public_hex = fields[2];
  std::array<uint8_t, kPublicKeyBytes> public_key;
  if (public_hex.size() < kKeyHexDigits) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key must be 128 hex digits, got ", public_hex.size()));
  }
  if (!DecodeHex(public_hex.substr(0, kKeyHexDigits), public_key.data(), public_key.size()) ||
      !AllHex(public_hex.substr(kKeyHexDigits))) {
    return absl::InvalidArgumentError("public key has a character that is not a hex digit");
  }
  if (fields.size() == 3) return Make(*address, public_key, nullptr);

  // The secret is held to exactly 128 digits: idtool's output never has more.
  std::string_view secret_hex = fields[3];
  if (secret_hex.size() != kKeyHexDigits) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret key must be 128 hex digits, got ", secret_hex.size()));
  }
  uint8_t secret[kSecretKeyBytes];
  if (!DecodeHex(secret_hex, secret, sizeof(secret))) {
    sodium_memzero(secret, sizeof(secret));
    return absl::InvalidArgumentError("secret key has a character that is not a hex digit");
  }
  absl::StatusOr<Identity> id = Make(*address, public_key, secret);
  sodium_memzero(secret, sizeof(secret));
  return id;
}

absl::StatusOr<Identity> Identity::FromBinary(absl::Span<const uint8_t> bytes, size_t* consumed) {
  if (bytes.size() < kIdentityBinaryPublicBytes) {
    return absl::InvalidArgumentError(absl::StrCat("binary identity truncated: ", bytes.size(),
                                                   " bytes, need at least ",
                                                   kIdentityBinaryPublicBytes));
  }
  const uint64_t address = AddressFromBytes(bytes.data());
  const uint8_t type = bytes[kAddressBytes];
  if (type != kTypeC25519) {
    return absl::InvalidArgumentError(
        absl::StrCat("binary identity type must be 0 (c25519), got ", type));
  }
  std::array<uint8_t, kPublicKeyBytes> public_key;
  memcpy(public_key.data(), bytes.data() + kAddressBytes + 1, kPublicKeyBytes);
  const uint8_t secret_len = bytes[kIdentityBinaryPublicBytes - 1];
  if (secret_len != 0 && secret_len != kSecretKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("binary identity secret length must be 0 or 64, got ", secret_len));
  }
  const size_t total = secret_len == 0 ? kIdentityBinaryPublicBytes : kIdentityBinarySecretBytes;
  if (bytes.size() < total) {
    return absl::InvalidArgumentError(absl::StrCat(
        "binary identity truncated in its secret: ", bytes.size(), " bytes, need ", total));
  }
  absl::StatusOr<Identity> id = Make(
      address, public_key, secret_len == 0 ? nullptr : bytes.data() + kIdentityBinaryPublicBytes);
  if (id.ok() && consumed != nullptr) *consumed = total;
  return id;
}

absl::StatusOr<Identity> Identity::FromSecretFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kIdentityFileBytesMax);
  if (!text.ok()) return text.status();
  absl::StatusOr<Identity> id = FromString(*text);
  sodium_memzero(&(*text)[0], text->size());
  if (!id.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", id.status().message()));
  }
  if (!id->has_secret()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " holds a public identity only; a secret identity is required"));
  }
  return id;
}

Identity Identity::Generate() {
  EnsureSodiumInitialized();
  Identity id;
  for (;;) {
    // X25519 scalars are clamped inside scalarmult, so any 32 random bytes are a secret.
    randombytes_buf(id.secret_.data(), id.secret_.size());
    crypto_scalarmult_base(id.public_.data(), id.secret_.data());
    uint8_t ed_secret[crypto_sign_ed25519_SECRETKEYBYTES];
    crypto_sign_ed25519_seed_keypair(id.public_.data() + kHalfBytes, ed_secret,
                                     id.secret_.data() + kHalfBytes);
    sodium_memzero(ed_secret, sizeof(ed_secret));
    IdentityHashResult hash = ComputeIdentityHash(id.public_);
    if (hash.acceptable && !IsReservedAddress(hash.address)) {
      id.address_ = hash.address;
      id.has_secret_ = true;
      return id;
    }
  }
}

absl::Status Identity::Validate() const {
  if (IsReservedAddress(address_)) {
    return absl::InvalidArgumentError(absl::StrCat("address ", AddressToString(address_),
                                                   " is reserved (0 or starting with ff)"));
  }
  IdentityHashResult hash = ComputeIdentityHash(public_);
  if (!hash.acceptable) {
    return absl::InvalidArgumentError(absl::StrCat(
        "public key fails the address work check (digest byte 0 is ", hash.digest_first_byte,
        ", must be below ", kIdentityHashDigestFirstByteLimit, ")"));
  }
  if (hash.address != address_) {
    return absl::InvalidArgumentError(
        absl::StrCat("address ", AddressToString(address_), " does not match the public key (",
                     "which derives ", AddressToString(hash.address), ")"));
  }
  return absl::OkStatus();
}

std::string Identity::ToString(bool include_secret) const {
  std::string out = AddressToString(address_);
  out += ":0:";
  AppendHex(public_.data(), public_.size(), &out);
  if (include_secret && has_secret_) {
    out.push_back(':');
    AppendHex(secret_.data(), secret_.size(), &out);
  }
  return out;
}

std::string Identity::ToBinary(bool include_secret) const {
  const bool secret = include_secret && has_secret_;
  std::string out(secret ? kIdentityBinarySecretBytes : kIdentityBinaryPublicBytes, '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(&out[0]);
  AddressToBytes(address_, p);
  p[kAddressBytes] = kTypeC25519;
  memcpy(p + kAddressBytes + 1, public_.data(), kPublicKeyBytes);
  p[kIdentityBinaryPublicBytes - 1] = secret ? kSecretKeyBytes : 0;
  if (secret) memcpy(p + kIdentityBinaryPublicBytes, secret_.data(), kSecretKeyBytes);
  return out;
}

std::array<uint8_t, kSignatureBytes> Identity::Sign(absl::Span<const uint8_t> message) const {
  ALMANAC_CHECK_MSG(has_secret_, "Identity::Sign needs the secret half");
  EnsureSodiumInitialized();
  uint8_t digest[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(digest, message.data(), message.size());
  // libsodium's Ed25519 secret key is seed || public.
  uint8_t ed_secret[crypto_sign_ed25519_SECRETKEYBYTES];
  memcpy(ed_secret, secret_.data() + kHalfBytes, kHalfBytes);
  memcpy(ed_secret + kHalfBytes, public_.data() + kHalfBytes, kHalfBytes);
  std::array<uint8_t, kSignatureBytes> signature;
  crypto_sign_ed25519_detached(signature.data(), nullptr, digest, kHalfBytes, ed_secret);
  sodium_memzero(ed_secret, sizeof(ed_secret));
  memcpy(signature.data() + crypto_sign_ed25519_BYTES, digest, kHalfBytes);
  return signature;
}

bool Identity::Verify(absl::Span<const uint8_t> message,
                      absl::Span<const uint8_t> signature) const {
  return CheckSignature(message, signature).ok();
}

absl::Status Identity::CheckSignature(absl::Span<const uint8_t> message,
                                      absl::Span<const uint8_t> signature) const {
  if (signature.size() != kSignatureBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("signature is ", signature.size(), " bytes, must be exactly 96"));
  }
  EnsureSodiumInitialized();
  uint8_t digest[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(digest, message.data(), message.size());
  if (memcmp(signature.data() + crypto_sign_ed25519_BYTES, digest, kHalfBytes) != 0) {
    return absl::InvalidArgumentError(
        "signature's digest half is not SHA-512(message)[0:32]: signed a different message");
  }
  // libsodium rejects this too; testing it here only names the reason. zerotier-idtool
  // 1.14.1 accepts S + L, so a signature can be re-encoded without the secret.
  if (!IsCanonicalScalar(signature.data() + kHalfBytes)) {
    return absl::InvalidArgumentError(
        "signature's S is not below the group order (malleated, e.g. S+L): rejected");
  }
  if (crypto_sign_ed25519_verify_detached(signature.data(), digest, kHalfBytes,
                                          public_.data() + kHalfBytes) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("Ed25519 signature does not verify under ",
                                                   AddressToString(address_), "'s key"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Key48> Identity::Agree(const Identity& peer) const {
  ALMANAC_CHECK_MSG(has_secret_, "Identity::Agree needs the secret half");
  EnsureSodiumInitialized();
  uint8_t shared[crypto_scalarmult_BYTES];
  if (crypto_scalarmult(shared, secret_.data(), peer.public_.data()) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("peer ", AddressToString(peer.address_),
                                                   " has a low-order X25519 public key"));
  }
  uint8_t digest[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(digest, shared, sizeof(shared));
  Key48 key;
  memcpy(key.data(), digest, key.size());
  sodium_memzero(shared, sizeof(shared));
  sodium_memzero(digest, sizeof(digest));
  return key;
}

bool Identity::operator==(const Identity& other) const {
  return address_ == other.address_ && public_ == other.public_;
}

}  // namespace almanac::zt
