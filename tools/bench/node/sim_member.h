// One simulated ZeroTier member's side of the wire (shared/docs/zerotier-protocol.md §2-§5),
// as a 1.14.1 node speaks to a controller that advertises protocol 11: HELLO in suite 0,
// NETWORK_CONFIG_REQUEST in suite 1 with the metadata 1.14.1 sends, and the checks a real
// node makes on the answer: every chunk signed by the controller, the certificate of
// membership signed by it and naming this member and network.
//
// Written from the protocol facts on top of ctl/zt/ (packets, dictionary, identities) and
// the public chunk/certificate parsers of ctl/netconf/ (chunk.h, credentials.h); it does
// not use the responder, so it checks the responder from the outside.
//
// SimMember is an immutable value after Make: const methods are thread-safe.
#ifndef ALMANAC_TOOLS_BENCH_NODE_SIM_MEMBER_H_
#define ALMANAC_TOOLS_BENCH_NODE_SIM_MEMBER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/zt/identity.h"
#include "ctl/zt/inet_address.h"
#include "ctl/zt/packet.h"

namespace almanac::bench {

// A packet from the controller, opened (MAC checked, decrypted, decompressed).
struct SimReply {
  zt::Verb verb = zt::Verb::kNop;
  zt::Verb in_re_verb = zt::Verb::kNop;  // OK and ERROR
  uint64_t in_re_packet_id = 0;          // OK and ERROR
  uint8_t error_code = 0;                // ERROR
  uint64_t error_nwid = 0;               // ERROR about a network (0 if absent)
  std::string chunk;  // OK(NETWORK_CONFIG_REQUEST) and NETWORK_CONFIG: the signed chunk
};

// Where a chunk belongs, read without checking its signature (CheckConfig does that).
struct ChunkPlace {
  uint64_t update_id = 0;
  uint32_t total_bytes = 0;
  uint32_t data_bytes = 0;
};
// InvalidArgument as ctl/netconf/chunk.h ParseChunk.
absl::StatusOr<ChunkPlace> PeekChunk(std::string_view chunk);

// What a config told the member, after every check passed.
struct ConfigSummary {
  uint64_t revision = 0;
  std::string name;
  std::vector<std::string> ips;  // "10.147.20.46/24" (address/prefix), as in `I`
  size_t routes = 0;
  size_t rules = 0;
};

class SimMember {
 public:
  // Agrees the key with the controller. InvalidArgument: `self` has no secret or the
  // key agreement fails. REQUIRES: controller is a real (validated) identity.
  static absl::StatusOr<SimMember> Make(const zt::Identity& self,
                                        const zt::Identity& controller);

  uint64_t address() const { return self_.address(); }
  const zt::Identity& identity() const { return self_; }

  // A whole HELLO (suite 0, protocol 12, version 1.14.1) sent to `controller_physical`.
  std::string Hello(uint64_t packet_id, const zt::InetAddress& controller_physical,
                    uint64_t now_ms) const;
  // A whole NETWORK_CONFIG_REQUEST for `nwid` (suite 1, compressed), with 1.14.1's
  // metadata and have_revision = have_timestamp = 0 (a fresh join).
  std::string ConfigRequest(uint64_t packet_id, uint64_t nwid) const;

  // Opens a whole (reassembled) packet from the controller to this member.
  // DataLoss: bad MAC. InvalidArgument: not addressed to this member from the controller,
  // truncated, bad LZ4, or an OK/ERROR that does not parse. Unimplemented: suite 2/3.
  absl::StatusOr<SimReply> Open(std::string packet) const;

  // Reassembles `chunks` (bodies as in SimReply::chunk, any order) and checks them as a
  // node does: every chunk signature, then the config for this member and `nwid`:
  // v >= 7, nwid and id match, the certificate of membership parses, is signed by the
  // controller (signer address and signature) and names this network, this member and
  // this member's identity hash. DataLoss: a signature or certificate check fails.
  // InvalidArgument: chunks malformed or inconsistent, dictionary or a field malformed.
  // FailedPrecondition: the chunks do not yet cover the whole config.
  absl::StatusOr<ConfigSummary> CheckConfig(uint64_t nwid,
                                            const std::vector<std::string>& chunks) const;

 private:
  SimMember(const zt::Identity& self, const zt::Identity& controller, const zt::Key48& key)
      : self_(self), controller_(controller), key_(key) {}

  zt::Identity self_;
  zt::Identity controller_;
  zt::Key48 key_;
};

// The request metadata dictionary a 1.14.1 node on linux/x86_64 sends (shared/vectors
// README, "Request metadata from 1.14.1").
std::string RequestMetadata1141();

}  // namespace almanac::bench

#endif  // ALMANAC_TOOLS_BENCH_NODE_SIM_MEMBER_H_
