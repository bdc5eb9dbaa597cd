#include "tools/bench/node/sim_member.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "ctl/netconf/chunk.h"
#include "ctl/netconf/credentials.h"
#include "ctl/netconf/sha384.h"
#include "ctl/zt/dictionary.h"
#include "ctl/zt/messages.h"
#include "ctl/zt/wire.h"
#include "tools/bench/node/limits.h"

namespace almanac::bench {
namespace {

absl::Span<const uint8_t> Bytes(std::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// 1.14.1 advertises protocol 12 in HELLO (§4); it still speaks suites 0/1 to a peer that
// advertised 11.
constexpr zt::VersionInfo kNodeVersion{12, 1, 14, 1};

// Counts `R` entries: type(1) | length(1) | data(length) each.
absl::StatusOr<size_t> CountRules(std::string_view rules) {
  size_t count = 0;
  zt::Reader r(rules);
  while (r.remaining() > 0) {
    uint8_t type = 0, length = 0;
    if (!r.ReadU8(&type) || !r.ReadU8(&length) || !r.Skip(length)) {
      return absl::InvalidArgumentError("R: truncated rule");
    }
    ++count;
  }
  return count;
}

// Counts `RT` entries: target, via (InetAddresses), flags(2), metric(2) each.
absl::StatusOr<size_t> CountRoutes(std::string_view routes) {
  size_t count = 0;
  zt::Reader r(routes);
  while (r.remaining() > 0) {
    if (!zt::ReadInetAddress(r).ok() || !zt::ReadInetAddress(r).ok() || !r.Skip(4)) {
      return absl::InvalidArgumentError("RT: truncated route");
    }
    ++count;
  }
  return count;
}

absl::StatusOr<std::vector<std::string>> ReadIps(std::string_view ips) {
  std::vector<std::string> out;
  zt::Reader r(ips);
  while (r.remaining() > 0) {
    auto ip = zt::ReadInetAddress(r);
    if (!ip.ok()) return absl::InvalidArgumentError("I: truncated address");
    out.push_back(ip->ToString());
  }
  return out;
}

}  // namespace

std::string RequestMetadata1141() {
  zt::Dictionary d;
  // Key order as 1.14.1 writes them; values from the capture.
  const std::pair<const char*, uint64_t> keys[] = {
      {"v", 7},      {"vend", 1},  {"pv", 0xc},   {"majv", 1},   {"minv", 0xe},
      {"revv", 1},   {"mr", 0x400}, {"mc", 0x80}, {"mcr", 0x40}, {"mt", 0x80},
      {"f", 0},      {"revr", 1}};
  for (const auto& [key, value] : keys) {
    absl::Status s = d.SetUint64(key, value);
    (void)s;  // fixed keys well under every limit
  }
  absl::Status s = d.Set("o", "linux/x86_64");
  (void)s;
  return d.Encode();
}

absl::StatusOr<ChunkPlace> PeekChunk(std::string_view chunk) {
  auto parsed = netconf::ParseChunk(chunk);
  if (!parsed.ok()) return parsed.status();
  return ChunkPlace{parsed->update_id, parsed->total_bytes,
                    static_cast<uint32_t>(parsed->data.size())};
}

absl::StatusOr<SimMember> SimMember::Make(const zt::Identity& self,
                                          const zt::Identity& controller) {
  if (!self.has_secret()) return absl::InvalidArgumentError("member identity has no secret");
  auto key = self.Agree(controller);
  if (!key.ok()) return key.status();
  return SimMember(self, controller, *key);
}

std::string SimMember::Hello(uint64_t packet_id, const zt::InetAddress& controller_physical,
                             uint64_t now_ms) const {
  std::string payload;
  payload.push_back(static_cast<char>(kNodeVersion.protocol));
  payload.push_back(static_cast<char>(kNodeVersion.major));
  payload.push_back(static_cast<char>(kNodeVersion.minor));
  zt::AppendUint(payload, 2, kNodeVersion.revision);
  zt::AppendUint(payload, 8, now_ms);
  payload += self_.ToBinary(/*include_secret=*/false);
  zt::AppendInetAddress(payload, controller_physical);
  zt::AppendUint(payload, 8, 0);  // planet id: the simulator has no planet
  zt::AppendUint(payload, 8, 0);  // planet timestamp
  const size_t tail_offset = zt::kPayloadOffset + payload.size();
  zt::AppendUint(payload, 2, 0);  // moon count, in the encrypted tail
  // The tail's nonce is the packet id, so encrypt it inside a packet-shaped scratch
  // buffer; suite 0 then leaves the payload as it is and MACs it.
  std::string scratch(zt::kPayloadOffset, '\0');
  zt::StoreUint(scratch.data(), 8, packet_id);
  scratch += payload;
  zt::CryptHelloTail(scratch, tail_offset, key_);
  auto packet = zt::BuildPacket(packet_id, controller_.address(), self_.address(),
                                zt::Verb::kHello,
                                std::string_view(scratch).substr(zt::kPayloadOffset),
                                zt::Cipher::kPoly1305None, key_, /*compress=*/false);
  return packet.ok() ? *std::move(packet) : std::string();  // a HELLO is far below limits
}

std::string SimMember::ConfigRequest(uint64_t packet_id, uint64_t nwid) const {
  static const std::string* const metadata = new std::string(RequestMetadata1141());
  std::string payload;
  zt::AppendUint(payload, 8, nwid);
  zt::AppendUint(payload, 2, metadata->size());
  payload += *metadata;
  zt::AppendUint(payload, 8, 0);  // have revision
  zt::AppendUint(payload, 8, 0);  // have timestamp
  auto packet = zt::BuildPacket(packet_id, controller_.address(), self_.address(),
                                zt::Verb::kNetworkConfigRequest, payload,
                                zt::Cipher::kPoly1305Salsa2012, key_, /*compress=*/true);
  return packet.ok() ? *std::move(packet) : std::string();  // ~200 bytes, far below limits
}

absl::StatusOr<SimReply> SimMember::Open(std::string packet) const {
  auto header = zt::ParseHeader(packet);
  if (!header.ok()) return header.status();
  if (header->destination != self_.address() || header->source != controller_.address()) {
    return absl::InvalidArgumentError("packet not from the controller to this member");
  }
  if (absl::Status s = zt::Dearmor(packet, key_); !s.ok()) return s;
  if (absl::Status s = zt::Uncompress(packet); !s.ok()) return s;
  SimReply reply;
  reply.verb = zt::PacketVerb(packet);
  std::string_view payload = zt::PacketPayload(packet);
  if (reply.verb == zt::Verb::kOk) {
    auto ok = zt::ParseOk(payload);
    if (!ok.ok()) return ok.status();
    reply.in_re_verb = ok->in_re_verb;
    reply.in_re_packet_id = ok->in_re_packet_id;
    if (ok->in_re_verb == zt::Verb::kNetworkConfigRequest) reply.chunk = std::string(ok->body);
  } else if (reply.verb == zt::Verb::kError) {
    auto error = zt::ParseError(payload);
    if (!error.ok()) return error.status();
    reply.in_re_verb = error->in_re_verb;
    reply.in_re_packet_id = error->in_re_packet_id;
    reply.error_code = error->code;
    if (error->body.size() >= 8) reply.error_nwid = zt::LoadUint(error->body.data(), 8);
  } else if (reply.verb == zt::Verb::kNetworkConfig) {
    reply.chunk = std::string(payload);
  }
  return reply;
}

absl::StatusOr<ConfigSummary> SimMember::CheckConfig(
    uint64_t nwid, const std::vector<std::string>& chunks) const {
  if (chunks.empty() || chunks.size() > kSimChunksPerConfigMax) {
    return absl::InvalidArgumentError(absl::StrCat(chunks.size(), " chunks"));
  }
  std::vector<netconf::ParsedChunk> parsed;
  uint64_t covered = 0;
  for (const std::string& c : chunks) {
    auto p = netconf::ParseChunk(c);
    if (!p.ok()) return p.status();
    if (p->nwid != nwid) return absl::InvalidArgumentError("chunk for another network");
    covered += p->data.size();
    parsed.push_back(*p);
  }
  if (covered < parsed[0].total_bytes) return absl::FailedPreconditionError("more chunks due");
  auto bytes = netconf::AssembleChunks(parsed, controller_);
  if (!bytes.ok()) return bytes.status();
  auto dict = zt::Dictionary::Parse(*bytes);
  if (!dict.ok()) return dict.status();
  auto version = dict->GetUint64("v");
  auto config_nwid = dict->GetUint64("nwid");
  auto id = dict->GetUint64("id");
  if (!version.ok() || *version < 7 || !config_nwid.ok() || *config_nwid != nwid || !id.ok() ||
      *id != self_.address()) {
    return absl::InvalidArgumentError("config v/nwid/id missing or not for this member");
  }
  auto com_bytes = dict->Get("C");
  if (!com_bytes) return absl::InvalidArgumentError("config without certificate of membership");
  auto com = netconf::ParseMembershipCertificate(*com_bytes);
  if (!com.ok()) return com.status();
  if (com->signer != controller_.address() ||
      !controller_.Verify(Bytes(com->signed_bytes), Bytes(com->signature))) {
    return absl::DataLossError("certificate of membership not signed by the controller");
  }
  // Qualifiers 1 (network), 2 (member) and 3-6 (identity hash) must name us (§5).
  std::string hashed;
  zt::AppendUint(hashed, zt::kAddressBytes, self_.address());
  hashed.append(reinterpret_cast<const char*>(self_.public_key().data()),
                self_.public_key().size());
  auto digest = netconf::Sha384(reinterpret_cast<const uint8_t*>(hashed.data()), hashed.size());
  std::array<uint64_t, 7> want{};
  want[1] = nwid;
  want[2] = self_.address();
  const char* words = reinterpret_cast<const char*>(digest.data());
  for (size_t i = 0; i < 4; ++i) want[3 + i] = zt::LoadUint(words + 8 * i, 8);
  std::array<bool, 7> seen{};
  for (const auto& q : com->qualifiers) {
    if (q.id >= 1 && q.id <= 6) {
      if (q.value != want[q.id]) return absl::DataLossError("certificate names someone else");
      seen[q.id] = true;
    }
  }
  for (size_t i = 1; i <= 6; ++i) {
    if (!seen[i]) return absl::DataLossError("certificate lacks a qualifier");
  }
  ConfigSummary summary;
  summary.revision = dict->GetUint64("r").value_or(0);
  summary.name = std::string(dict->Get("n").value_or(""));
  auto ips = ReadIps(dict->Get("I").value_or(""));
  auto routes = CountRoutes(dict->Get("RT").value_or(""));
  auto rules = CountRules(dict->Get("R").value_or(""));
  if (!ips.ok()) return ips.status();
  if (!routes.ok()) return routes.status();
  if (!rules.ok()) return rules.status();
  summary.ips = *std::move(ips);
  summary.routes = *routes;
  summary.rules = *rules;
  return summary;
}

}  // namespace almanac::bench
