#include "ctl/netconf/chunk.h"

#include <algorithm>

#include "absl/types/span.h"
#include "base/check.h"
#include "ctl/netconf/limits.h"
#include "ctl/zt/messages.h"
#include "ctl/zt/wire.h"

namespace almanac::netconf {
namespace {

absl::Span<const uint8_t> Bytes(std::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SignChunks(uint64_t nwid, std::string_view dictionary,
                                                    uint64_t update_id,
                                                    const zt::Identity& controller) {
  ALMANAC_CHECK(update_id != 0);
  ALMANAC_CHECK(controller.has_secret());
  if (dictionary.empty() || dictionary.size() > kConfigBytesMax) {
    return absl::InvalidArgumentError("config dictionary empty or too large");
  }
  std::vector<std::string> chunks;
  for (size_t offset = 0; offset < dictionary.size(); offset += kChunkBytesMax) {
    std::string_view piece = dictionary.substr(offset, kChunkBytesMax);
    std::string body;
    zt::AppendUint(body, 8, nwid);
    zt::AppendUint(body, 2, piece.size());
    body.append(piece);
    body.push_back('\0');  // flags
    zt::AppendUint(body, 8, update_id);
    zt::AppendUint(body, 4, dictionary.size());
    zt::AppendUint(body, 4, offset);
    auto sig = controller.Sign(Bytes(body));
    body.push_back('\x01');
    zt::AppendUint(body, 2, sig.size());
    body.append(reinterpret_cast<const char*>(sig.data()), sig.size());
    chunks.push_back(std::move(body));
  }
  return chunks;
}

std::vector<std::string> OkConfigPayloads(uint64_t request_packet_id,
                                          const std::vector<std::string>& chunks) {
  std::vector<std::string> payloads;
  payloads.reserve(chunks.size());
  for (const std::string& chunk : chunks) {
    payloads.push_back(
        zt::BuildOkPayload(zt::Verb::kNetworkConfigRequest, request_packet_id, chunk));
  }
  return payloads;
}

absl::StatusOr<ParsedChunk> ParseChunk(std::string_view body) {
  zt::Reader r(body);
  ParsedChunk c;
  uint16_t len = 0;
  uint64_t total = 0, offset = 0;
  uint8_t alg = 0;
  uint16_t sig_len = 0;
  r.ReadU64(&c.nwid);
  r.ReadU16(&len);
  r.ReadBytes(len, &c.data);
  r.ReadU8(&c.flags);
  r.ReadU64(&c.update_id);
  r.ReadUint(4, &total);
  r.ReadUint(4, &offset);
  size_t signed_end = r.offset();
  r.ReadU8(&alg);
  r.ReadU16(&sig_len);
  r.ReadBytes(zt::kSignatureBytes, &c.signature);
  if (!r.ok()) return absl::InvalidArgumentError("netconf chunk truncated");
  if (alg != 1 || sig_len != zt::kSignatureBytes) {
    return absl::InvalidArgumentError("netconf chunk: unexpected signature type or length");
  }
  if (offset + len > total || total > kConfigBytesMax) {
    return absl::InvalidArgumentError("netconf chunk outside its config");
  }
  c.total_bytes = static_cast<uint32_t>(total);
  c.offset = static_cast<uint32_t>(offset);
  c.signed_bytes = body.substr(0, signed_end);
  return c;
}

absl::StatusOr<std::string> AssembleChunks(const std::vector<ParsedChunk>& chunks,
                                           const zt::Identity& controller) {
  if (chunks.empty()) return absl::InvalidArgumentError("no chunks");
  std::vector<const ParsedChunk*> sorted;
  for (const ParsedChunk& c : chunks) {
    if (!controller.Verify(Bytes(c.signed_bytes), Bytes(c.signature))) {
      return absl::DataLossError("netconf chunk signature does not verify");
    }
    if (c.update_id != chunks[0].update_id || c.total_bytes != chunks[0].total_bytes) {
      return absl::InvalidArgumentError("chunks of different configs");
    }
    sorted.push_back(&c);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const ParsedChunk* a, const ParsedChunk* b) { return a->offset < b->offset; });
  std::string out;
  for (const ParsedChunk* c : sorted) {
    if (c->offset != out.size()) return absl::InvalidArgumentError("chunk gap or overlap");
    out.append(c->data);
  }
  if (out.size() != chunks[0].total_bytes) return absl::InvalidArgumentError("config incomplete");
  return out;
}

}  // namespace almanac::netconf
