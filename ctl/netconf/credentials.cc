#include "ctl/netconf/credentials.h"

#include <algorithm>

#include "absl/types/span.h"
#include "base/check.h"
#include "ctl/netconf/limits.h"
#include "ctl/netconf/sha384.h"
#include "ctl/zt/address.h"
#include "ctl/zt/wire.h"

namespace almanac::netconf {
namespace {

absl::Span<const uint8_t> Bytes(std::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void AppendSignature(std::string& out, const std::array<uint8_t, zt::kSignatureBytes>& sig) {
  out.append(reinterpret_cast<const char*>(sig.data()), sig.size());
}

// The bytes ownership certificates, tags and capabilities are signed over.
std::string FramedForSigning(std::string_view body) {
  std::string framed(8, '\x7f');
  framed.append(body);
  framed.append(2, '\0');
  framed.append(8, '\x7f');
  return framed;
}

// body | 01 | 0060 | signature | extension length 0.
std::string SignFramed(std::string body, const zt::Identity& controller) {
  auto sig = controller.Sign(Bytes(FramedForSigning(body)));
  body.push_back('\x01');
  zt::AppendUint(body, 2, zt::kSignatureBytes);
  AppendSignature(body, sig);
  body.append(2, '\0');
  return body;
}

}  // namespace

std::string BuildMembershipCertificate(uint64_t nwid, uint64_t member_address,
                                       const std::array<uint8_t, 64>& member_public,
                                       int64_t timestamp_ms, uint64_t max_delta_ms,
                                       const zt::Identity& controller) {
  ALMANAC_CHECK(controller.has_secret());
  std::string triples;
  auto add = [&triples](uint64_t id, uint64_t value, uint64_t max_delta) {
    zt::AppendUint(triples, 8, id);
    zt::AppendUint(triples, 8, value);
    zt::AppendUint(triples, 8, max_delta);
  };
  add(0, static_cast<uint64_t>(timestamp_ms), max_delta_ms);
  add(1, nwid, 0);
  add(2, member_address, ~uint64_t{0});
  // The identity hash binds the certificate to the member's key, not just its address.
  uint8_t hashed_input[zt::kAddressBytes + 64];
  zt::AddressToBytes(member_address, hashed_input);
  std::copy(member_public.begin(), member_public.end(), hashed_input + zt::kAddressBytes);
  auto digest = Sha384(hashed_input, sizeof(hashed_input));
  for (int i = 0; i < 4; ++i) {
    add(3 + i, zt::LoadUint(reinterpret_cast<const char*>(digest.data()) + 8 * i, 8),
        ~uint64_t{0});
  }
  ALMANAC_CHECK(triples.size() == kComQualifierCount * kComQualifierBytes);

  std::string out;
  out.push_back('\x01');
  zt::AppendUint(out, 2, kComQualifierCount);
  out += triples;
  zt::AppendUint(out, zt::kAddressBytes, controller.address());
  AppendSignature(out, controller.Sign(Bytes(triples)));
  return out;
}

absl::StatusOr<MembershipCertificate> ParseMembershipCertificate(std::string_view bytes) {
  zt::Reader r(bytes);
  uint8_t version = 0;
  uint16_t count = 0;
  if (!r.ReadU8(&version) || version != 1) {
    return absl::InvalidArgumentError("certificate of membership: bad version");
  }
  if (!r.ReadU16(&count) || count > 16) {
    return absl::InvalidArgumentError("certificate of membership: bad qualifier count");
  }
  MembershipCertificate com;
  std::string_view triples;
  if (!r.ReadBytes(size_t{count} * kComQualifierBytes, &triples)) {
    return absl::InvalidArgumentError("certificate of membership: truncated");
  }
  com.signed_bytes = std::string(triples);
  zt::Reader q(triples);
  for (uint16_t i = 0; i < count; ++i) {
    MembershipCertificate::Qualifier x{};
    q.ReadU64(&x.id);
    q.ReadU64(&x.value);
    q.ReadU64(&x.max_delta);
    com.qualifiers.push_back(x);
  }
  std::string_view sig;
  if (!r.ReadUint(zt::kAddressBytes, &com.signer) || !r.ReadBytes(zt::kSignatureBytes, &sig)) {
    return absl::InvalidArgumentError("certificate of membership: truncated signature");
  }
  com.signature = std::string(sig);
  return com;
}

std::string BuildOwnershipCertificate(uint64_t nwid, int64_t timestamp_ms,
                                      uint64_t member_address,
                                      const std::vector<net::IpAddress>& ips,
                                      const zt::Identity& controller) {
  constexpr uint8_t kThingIpv4 = 2, kThingIpv6 = 3;
  size_t count = std::min(ips.size(), kOwnershipThingsMax);
  std::string body;
  zt::AppendUint(body, 8, nwid);
  zt::AppendUint(body, 8, static_cast<uint64_t>(timestamp_ms));
  zt::AppendUint(body, 8, 0);  // flags
  zt::AppendUint(body, 4, 1);  // id: one certificate per member
  zt::AppendUint(body, 2, count);
  for (size_t i = 0; i < count; ++i) {
    body.push_back(static_cast<char>(ips[i].is_v4() ? kThingIpv4 : kThingIpv6));
    // Things are 16 bytes; an IPv4 address takes the first 4, the rest stays zero.
    body.append(reinterpret_cast<const char*>(ips[i].bytes().data()), 16);
  }
  zt::AppendUint(body, zt::kAddressBytes, member_address);
  zt::AppendUint(body, zt::kAddressBytes, controller.address());
  return SignFramed(std::move(body), controller);
}

std::string BuildTag(uint64_t nwid, int64_t timestamp_ms, uint32_t id, uint32_t value,
                     uint64_t member_address, const zt::Identity& controller) {
  std::string body;
  zt::AppendUint(body, 8, nwid);
  zt::AppendUint(body, 8, static_cast<uint64_t>(timestamp_ms));
  zt::AppendUint(body, 4, id);
  zt::AppendUint(body, 4, value);
  zt::AppendUint(body, zt::kAddressBytes, member_address);
  zt::AppendUint(body, zt::kAddressBytes, controller.address());
  return SignFramed(std::move(body), controller);
}

std::string BuildCapability(uint64_t nwid, int64_t timestamp_ms, uint32_t id,
                            std::string_view rules_wire, size_t rule_count,
                            uint64_t member_address, const zt::Identity& controller) {
  ALMANAC_CHECK(controller.has_secret());
  ALMANAC_CHECK(rule_count <= 0xffff);
  std::string body;
  zt::AppendUint(body, 8, nwid);
  zt::AppendUint(body, 8, static_cast<uint64_t>(timestamp_ms));
  zt::AppendUint(body, 4, id);
  zt::AppendUint(body, 2, rule_count);
  body.append(rules_wire);
  body.push_back('\x01');  // max custody chain length: the member cannot pass it on
  auto sig = controller.Sign(Bytes(FramedForSigning(body)));
  zt::AppendUint(body, zt::kAddressBytes, member_address);
  zt::AppendUint(body, zt::kAddressBytes, controller.address());
  body.push_back('\x01');
  zt::AppendUint(body, 2, zt::kSignatureBytes);
  AppendSignature(body, sig);
  body.append(zt::kAddressBytes, '\0');  // a zero `to` ends the chain
  body.append(2, '\0');
  return body;
}

absl::Status CheckCredentialSignature(std::string_view credential, size_t body_bytes,
                                      const zt::Identity& signer) {
  if (credential.size() != body_bytes + 1 + 2 + zt::kSignatureBytes + 2 ||
      credential[body_bytes] != '\x01' ||
      zt::LoadUint(credential.data() + body_bytes + 1, 2) != zt::kSignatureBytes) {
    return absl::InvalidArgumentError("credential: unexpected signature layout");
  }
  std::string framed = FramedForSigning(credential.substr(0, body_bytes));
  std::string_view sig = credential.substr(body_bytes + 3, zt::kSignatureBytes);
  return signer.CheckSignature(Bytes(framed), Bytes(sig));
}

}  // namespace almanac::netconf
