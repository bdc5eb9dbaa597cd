// Parsing of capability and tag credentials (credentials.h): what a node does with `CAP`
// and `TAG`, for tests and the simulated node.
#include "absl/types/span.h"
#include "ctl/netconf/credentials.h"
#include "ctl/zt/wire.h"

namespace almanac::netconf {
namespace {

std::string Framed(std::string_view body) {
  std::string framed(8, '\x7f');
  framed.append(body);
  framed.append(2, '\0');
  framed.append(8, '\x7f');
  return framed;
}

// Reads `01 | 0060 | signature(96)`.
bool ReadSignature(zt::Reader& r, std::string* signature) {
  uint8_t type = 0;
  uint16_t length = 0;
  std::string_view sig;
  if (!r.ReadU8(&type) || type != 1 || !r.ReadU16(&length) || length != zt::kSignatureBytes ||
      !r.ReadBytes(length, &sig)) {
    return false;
  }
  *signature = std::string(sig);
  return true;
}

absl::Status Invalid(const char* what) {
  return absl::InvalidArgumentError(std::string("credential: ") + what);
}

}  // namespace

absl::StatusOr<CapabilityCredential> ParseCapability(std::string_view bytes, size_t* used) {
  zt::Reader r(bytes);
  CapabilityCredential c;
  uint64_t id = 0;
  if (!r.ReadU64(&c.nwid) || !r.ReadU64(&c.timestamp_ms) || !r.ReadUint(4, &id) ||
      !r.ReadU16(&c.rule_count)) {
    return Invalid("capability truncated");
  }
  c.id = static_cast<uint32_t>(id);
  size_t rules_start = r.offset();
  for (uint16_t i = 0; i < c.rule_count; ++i) {
    uint8_t type = 0, length = 0;
    std::string_view data;
    if (!r.ReadU8(&type) || !r.ReadU8(&length) || !r.ReadBytes(length, &data)) {
      return Invalid("capability rules truncated");
    }
  }
  c.rules_wire = std::string(bytes.substr(rules_start, r.offset() - rules_start));
  if (!r.ReadU8(&c.max_custody) || c.max_custody != 1) {
    return Invalid("capability custody chain length is not 1");
  }
  c.signed_bytes = Framed(bytes.substr(0, r.offset()));
  uint64_t end = 0;
  uint16_t extension = 0;
  std::string_view skipped;
  if (!r.ReadUint(zt::kAddressBytes, &c.issued_to) || c.issued_to == 0 ||
      !r.ReadUint(zt::kAddressBytes, &c.signer) || !ReadSignature(r, &c.signature) ||
      !r.ReadUint(zt::kAddressBytes, &end) || end != 0 || !r.ReadU16(&extension) ||
      !r.ReadBytes(extension, &skipped)) {
    return Invalid("capability custody chain malformed");
  }
  *used = r.offset();
  return c;
}

absl::StatusOr<TagCredential> ParseTag(std::string_view bytes, size_t* used) {
  zt::Reader r(bytes);
  TagCredential t;
  uint64_t id = 0, value = 0;
  if (!r.ReadU64(&t.nwid) || !r.ReadU64(&t.timestamp_ms) || !r.ReadUint(4, &id) ||
      !r.ReadUint(4, &value) || !r.ReadUint(zt::kAddressBytes, &t.issued_to) ||
      !r.ReadUint(zt::kAddressBytes, &t.signer)) {
    return Invalid("tag truncated");
  }
  t.id = static_cast<uint32_t>(id);
  t.value = static_cast<uint32_t>(value);
  t.signed_bytes = Framed(bytes.substr(0, r.offset()));
  uint16_t extension = 0;
  std::string_view skipped;
  if (!ReadSignature(r, &t.signature) || !r.ReadU16(&extension) ||
      !r.ReadBytes(extension, &skipped)) {
    return Invalid("tag signature malformed");
  }
  *used = r.offset();
  return t;
}

absl::Status CheckSigned(std::string_view signed_bytes, std::string_view signature,
                         const zt::Identity& signer) {
  auto bytes = [](std::string_view s) {
    return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  absl::Status s = signer.CheckSignature(bytes(signed_bytes), bytes(signature));
  if (!s.ok()) return absl::DataLossError(std::string(s.message()));
  return s;
}

}  // namespace almanac::netconf
