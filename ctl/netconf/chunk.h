// Netconf chunks (shared/docs/zerotier-protocol.md §4 "Reply"): a config dictionary is
// cut into pieces of at most kChunkBytesMax bytes, each signed by the controller:
//   nwid(8) | chunk length(2) | chunk | flags(1) = 0 | update id(8) | total length(4) |
//   chunk offset(4) | signature type(1) = 1 | signature length(2) = 96 | signature(96)
// The signature covers nwid through the offset. All chunks of one config share the update
// id. As OK(NETWORK_CONFIG_REQUEST) each chunk follows `0x0b | request packet id(8)`; as an
// unsolicited NETWORK_CONFIG (verb 0x0c) it is the whole payload.
// Pure; thread-safe.
#ifndef ALMANAC_CTL_NETCONF_CHUNK_H_
#define ALMANAC_CTL_NETCONF_CHUNK_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/zt/identity.h"

namespace almanac::netconf {

// The signed chunk bodies for `dictionary`, in order. InvalidArgument when the dictionary
// is empty or over kConfigBytesMax. REQUIRES: update_id != 0, controller.has_secret().
absl::StatusOr<std::vector<std::string>> SignChunks(uint64_t nwid, std::string_view dictionary,
                                                    uint64_t update_id,
                                                    const zt::Identity& controller);

// OK payloads (after the verb byte): 0x0b | request id | chunk, one per chunk.
std::vector<std::string> OkConfigPayloads(uint64_t request_packet_id,
                                          const std::vector<std::string>& chunks);

struct ParsedChunk {
  uint64_t nwid = 0;
  std::string_view data;  // the dictionary bytes it carries
  uint8_t flags = 0;
  uint64_t update_id = 0;
  uint32_t total_bytes = 0;
  uint32_t offset = 0;
  std::string_view signed_bytes;  // nwid through offset
  std::string_view signature;     // 96 bytes
};

// Parses one chunk body (borrowing from `body`). InvalidArgument when truncated, the
// signature type is not 1 or its length not 96, or the chunk lies outside the total.
absl::StatusOr<ParsedChunk> ParseChunk(std::string_view body);

// Puts chunks back together: the whole dictionary once every byte of `total_bytes` is
// covered by chunks with the same update id and valid signatures from `controller`.
// DataLoss: a signature fails. InvalidArgument: mixed update ids or totals, overlaps or
// gaps.
absl::StatusOr<std::string> AssembleChunks(const std::vector<ParsedChunk>& chunks,
                                           const zt::Identity& controller);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_CHUNK_H_
