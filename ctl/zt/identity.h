// ZeroTier identities (type 0, "c25519"): a 40-bit address bound to a 64-byte public key
// (X25519 public || Ed25519 public) by a memory-hard hash, optionally with the secret half
// (X25519 scalar || Ed25519 seed). Text and binary forms, address derivation, 96-byte
// signatures and key agreement, all as in shared/docs/zerotier-protocol.md §1 and checked
// against zerotier-idtool 1.14.1 (shared/vectors/zerotier-1.14.1/identities.json,
// signatures.json).
//
// Thread safety: an Identity is an immutable value; const methods may be called from any
// number of threads at once. Validate and Generate allocate their own 2 MiB scratch buffer
// per call (no shared state). All crypto is libsodium; sodium_init() is called as needed.
//
// Where Almanac differs from zerotier-idtool 1.14.1 (deliberately stricter):
//  - A secret must match its public half (X25519 scalar -> public, Ed25519 seed -> public);
//    idtool accepts any secret. FromString/FromBinary reject a mismatch.
//  - Verify uses libsodium's strict Ed25519 check, so a malleated signature (S replaced by
//    S+L), which idtool accepts, is rejected.
//  - A non-hex digit anywhere, or an address that is not exactly 10 digits, is a parse
//    error; idtool parses such text leniently and then fails its validation, so the final
//    verdict (invalid) is the same.
// Tolerated like idtool: upper-case hex; surrounding whitespace such as a trailing newline
// (files end in one); extra hex digits after the 128 of the public key (ignored: the key is
// fully given by the first 128, and ToString writes the canonical form back).
#ifndef ALMANAC_CTL_ZT_IDENTITY_H_
#define ALMANAC_CTL_ZT_IDENTITY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ctl/zt/address.h"

namespace almanac::zt {

using Key48 = std::array<uint8_t, 48>;
inline constexpr size_t kPublicKeyBytes = 64;  // X25519 public (32) || Ed25519 public (32)
inline constexpr size_t kSecretKeyBytes = 64;  // X25519 scalar (32) || Ed25519 seed (32)
inline constexpr size_t kSignatureBytes = 96;  // Ed25519 (64) || SHA-512(message)[0:32]
// Binary form sizes: address(5) | type(1) | public(64) | secret length(1) | [secret(64)].
inline constexpr size_t kIdentityBinaryPublicBytes = kAddressBytes + 1 + kPublicKeyBytes + 1;
inline constexpr size_t kIdentityBinarySecretBytes = kIdentityBinaryPublicBytes + kSecretKeyBytes;
// Limit on an identity file read by FromSecretFile (a secret identity is 270 bytes).
inline constexpr size_t kIdentityFileBytesMax = 4096;

class Identity {
 public:
  // An empty placeholder (address 0, zero key, no secret) so Identity can live in containers
  // and structs; it fails Validate. Real identities come only from the factories below.
  Identity();
  Identity(const Identity&) = default;
  Identity& operator=(const Identity&) = default;
  ~Identity();  // wipes the secret

  // Parses the text form "address:0:public128hex[:secret128hex]". Checks syntax and, if a
  // secret is present, that it matches the public half; does NOT run the memory-hard
  // address check (see Validate). InvalidArgument with a reason on any failure. Tolerances
  // are listed at the top of this file.
  static absl::StatusOr<Identity> FromString(std::string_view text);

  // Parses the binary form address(5) | type 0 | public(64) | secret length(1: 0 or 64) |
  // [secret(64)] from the start of `bytes`; on success *consumed (if not null) gets the
  // number of bytes read (71 or 135). InvalidArgument on truncation, a type other than 0,
  // a secret length other than 0 or 64, a reserved address, or a secret not matching the
  // public half. Does not run Validate.
  static absl::StatusOr<Identity> FromBinary(absl::Span<const uint8_t> bytes, size_t* consumed);

  // Reads a file holding a secret identity in text form (at most kIdentityFileBytesMax bytes)
  // and parses it with FromString. NotFound if the file does not exist, PermissionDenied if
  // it cannot be read for lack of rights, Internal on other I/O errors, InvalidArgument if
  // the contents do not parse, are too long, or hold no secret. Does not run Validate.
  static absl::StatusOr<Identity> FromSecretFile(const std::string& path);

  // A fresh random identity with its secret. Memory-hard: repeats the address derivation
  // until it is acceptable, about 0.2-0.3 s. The result passes Validate.
  static Identity Generate();

  // Recomputes the memory-hard address derivation from the public key (about 10-20 ms) and
  // checks the key is acceptable (digest[0] < 17) and that the derived address equals
  // address(). OK if so, else InvalidArgument with the reason.
  absl::Status Validate() const;

  uint64_t address() const { return address_; }  // 40 bits
  bool has_secret() const { return has_secret_; }
  // X25519 public (32) || Ed25519 public (32).
  const std::array<uint8_t, kPublicKeyBytes>& public_key() const { return public_; }

  // "address:0:public[:secret]" in lower-case hex; the secret only if include_secret and
  // has_secret().
  std::string ToString(bool include_secret) const;
  // The binary form; the secret (and secret length 64) only if include_secret and
  // has_secret(), else secret length 0.
  std::string ToBinary(bool include_secret) const;

  // 96 bytes: Ed25519-detached(SHA-512(message)[0:32]) || SHA-512(message)[0:32].
  // Deterministic. REQUIRES: has_secret() (checked).
  std::array<uint8_t, kSignatureBytes> Sign(absl::Span<const uint8_t> message) const;

  // True only if `signature` is exactly 96 bytes, its last 32 bytes equal
  // SHA-512(message)[0:32], and the first 64 are a valid Ed25519 signature of those 32 bytes
  // under this identity's Ed25519 key (libsodium's strict check: canonical S, no small-order
  // R or key).
  bool Verify(absl::Span<const uint8_t> message, absl::Span<const uint8_t> signature) const;
  // The same check as Verify, with the reason: OK if Verify would return true, else
  // InvalidArgument saying which part failed (length, digest half, non-canonical S as in a
  // malleated S+L signature, or the Ed25519 equation).
  absl::Status CheckSignature(absl::Span<const uint8_t> message,
                              absl::Span<const uint8_t> signature) const;

  // The 48-byte key shared with `peer`: SHA-512(X25519(my scalar, peer's X25519 public))[0:48].
  // Symmetric: a.Agree(b) == b.Agree(a). InvalidArgument if the peer's X25519 key is of low
  // order (the shared point would be all zeros). REQUIRES: has_secret() (checked).
  absl::StatusOr<Key48> Agree(const Identity& peer) const;

  // Same address and public key (the secret is not compared).
  bool operator==(const Identity& other) const;
  bool operator!=(const Identity& other) const { return !(*this == other); }

 private:
  // Builds an identity, checking the secret (if any) against the public key.
  static absl::StatusOr<Identity> Make(uint64_t address,
                                       const std::array<uint8_t, kPublicKeyBytes>& public_key,
                                       const uint8_t* secret_or_null);

  uint64_t address_ = 0;
  std::array<uint8_t, kPublicKeyBytes> public_{};
  bool has_secret_ = false;
  std::array<uint8_t, kSecretKeyBytes> secret_{};
};

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_IDENTITY_H_
