// Fragmentation of VL1 packets (shared/docs/zerotier-protocol.md §2 "Fragmentation").
//
// A packet over kDatagramBytesMax (1432) bytes travels as a head (its first 1432 bytes,
// a normal header with the fragmented flag 0x40) and fragments:
//   packet id(8) | destination(5) | 0xff | (total count << 4 | fragment number)(1) |
//   hops(1) | data (at most 1416 bytes)
// The total counts the head, which is number 0; at most kFragmentsMax (7) pieces. The
// MAC covers the reassembled packet, so pieces are not checked one by one.
#ifndef ALMANAC_CTL_ZT_FRAGMENT_H_
#define ALMANAC_CTL_ZT_FRAGMENT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include <string_view>
#include "absl/time/time.h"
#include "ctl/zt/limits.h"

namespace almanac::zt {

inline constexpr size_t kFragmentHeaderBytes = 16;
inline constexpr uint8_t kFragmentIndicator = 0xff;  // At offset 13, where a source begins.
inline constexpr size_t kFragmentIndicatorOffset = 13;
static_assert(kFragmentDataBytesMax == kDatagramBytesMax - kFragmentHeaderBytes);

// Splits an armored packet into the datagrams to send: the packet itself when it fits
// one datagram, else head + fragments. Pure; thread-safe.
// InvalidArgument: shorter than a packet, longer than kPacketBytesMax, or longer than
// one datagram without the fragmented flag (the flag is under the MAC: BuildPacket sets
// it before armoring).
absl::StatusOr<std::vector<std::string>> SplitPacket(std::string_view packet);

// Reassembles packets from datagrams received from any number of sources, with bounded
// memory and no clock of its own: the caller passes the time of each datagram.
// Not thread-safe (one per receive loop).
class Reassembler {
 public:
  // Every datagram that is not returned (now or later, as part of a whole packet) is
  // counted under exactly one reason.
  struct Stats {
    uint64_t packets_whole = 0;      // Unfragmented packets passed straight through.
    uint64_t packets_completed = 0;  // Packets put together from pieces.
    uint64_t runts = 0;              // Too short for a fragment or a packet.
    uint64_t oversized = 0;          // A piece too large, or pieces beyond kPacketBytesMax.
    uint64_t inconsistent = 0;       // Bad numbering, or a total that contradicts another.
    uint64_t duplicates = 0;         // A piece already held.
    uint64_t expired_packets = 0;    // Unfinished packets dropped after kReassemblyTimeout.
    uint64_t evicted_packets = 0;    // Unfinished packets dropped to make room.
  };

  Reassembler() = default;
  Reassembler(const Reassembler&) = delete;
  Reassembler& operator=(const Reassembler&) = delete;

  // Offers one UDP payload received from `source` (any stable name for the sender's
  // physical address, e.g. "10.0.0.1/9993") at time `now`.
  // Returns the whole packet when `datagram` is an unfragmented packet (as is) or the
  // piece that completes one (the head's bytes followed by each fragment's data, in
  // order). Returns nullopt when more pieces are needed or the datagram was dropped
  // (see stats()). Pieces of the same packet id from different sources (a relayed copy
  // and the original, say) are kept apart.
  std::optional<std::string> Add(std::string_view source, std::string_view datagram,
                                 absl::Time now);

  const Stats& stats() const { return stats_; }
  size_t packets_pending() const { return pending_.size(); }

 private:
  struct Pending {
    absl::Time first_seen;
    uint8_t total = 0;  // 0 until a fragment says how many pieces there are.
    uint8_t have_mask = 0;
    size_t bytes = 0;
    std::array<std::string, kFragmentsMax> pieces;  // [0] the head; others data only.
  };
  using Key = std::pair<std::string, uint64_t>;

  std::optional<std::string> AddPiece(std::string_view source, uint64_t packet_id,
                                      size_t number, uint8_t total,
                                      std::string_view bytes, absl::Time now);
  Pending* FindOrMake(std::string_view source, uint64_t packet_id, absl::Time now);
  void Expire(absl::Time now);
  void EvictOldest(std::string_view source_only);
  void Erase(const Key& key);

  absl::flat_hash_map<Key, Pending> pending_;
  absl::flat_hash_map<std::string, size_t> pending_per_source_;
  Stats stats_;
};

}  // namespace almanac::zt

#endif  // ALMANAC_CTL_ZT_FRAGMENT_H_
