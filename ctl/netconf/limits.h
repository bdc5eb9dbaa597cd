// Named limits of the netconf responder (ctl/netconf/). Every table keyed by outside input
// (node addresses, physical sources, packet ids) has a bound here with its reason.
// Header-only constants; thread-safe.
#ifndef ALMANAC_CTL_NETCONF_LIMITS_H_
#define ALMANAC_CTL_NETCONF_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "ctl/zt/limits.h"

namespace almanac::netconf {

// §4: a chunk carries at most 9740 bytes of dictionary (real nodes refuse more).
inline constexpr size_t kChunkBytesMax = 9740;
// OK header (1 verb + 1 in-re verb + 8 id) + nwid, len, flags, update id, total, offset
// (8+2+1+8+4+4) + signature (1+2+96) + packet header (28): the largest chunk packet.
inline constexpr size_t kChunkPacketBytesMax = 28 + 9 + 27 + 99 + kChunkBytesMax;
static_assert(kChunkPacketBytesMax <= zt::kPacketBytesMax,
              "a full chunk must fit one (fragmented) packet");

// §5: certificate-of-membership window default and bounds.
inline constexpr uint64_t kCredentialTimeMaxDeltaMs = 30 * 60 * 1000;
// A config dictionary larger than this is refused (16 chunks; ZeroTier's own bound on a
// config is about 400 KB, ours is far below that and above any real network).
inline constexpr size_t kConfigBytesMax = 16 * kChunkBytesMax;
// ZeroTier caps the things in one certificate of ownership at 16.
inline constexpr size_t kOwnershipThingsMax = 16;

// Peer engine tables.
inline constexpr size_t kPeersMax = 65536;            // key cache entries (48 B key + id)
inline constexpr size_t kWhoisWaitingPacketsMax = 256;  // packets held for an identity
inline constexpr size_t kWhoisWaitingPerSourceMax = 4;
inline constexpr absl::Duration kWhoisTimeout = absl::Seconds(5);
// Checking a new identity costs ~12-20 ms of memory-hard work. It runs on one worker thread
// (at most one core), never on the receive thread. At most kValidateQueueMax identities are
// waiting, being checked or checked but not yet collected; at most kValidatePerSourceMax of
// them come from one physical source, so one flooding host cannot take the whole queue.
// Beyond either bound the HELLO is dropped (counted): a real node HELLOs again within
// seconds. Packets from an address whose identity is being checked wait in the WHOIS
// holding area above (same bounds and timeout). Known identities are answered at once.
inline constexpr size_t kValidateQueueMax = 64;
inline constexpr size_t kValidatePerSourceMax = 4;
// Joins that write events (first request, public authorization, a pool address) wait for an
// fsync; they run on kJoinWorkers threads, never the receive thread. At most
// kJoinsInFlightMax are queued, running or done but not yet answered; beyond that a request
// is dropped (counted) and the node asks again within seconds. Requests that write nothing
// (a known, authorized member) are answered on the receive thread without the sequencer.
inline constexpr size_t kJoinWorkers = 4;
inline constexpr size_t kJoinsInFlightMax = 1024;
inline constexpr size_t kRateLimitEntriesMax = 65536;  // (member, network) -> last answer
inline constexpr absl::Duration kRateLimitInterval = absl::Seconds(1);
inline constexpr size_t kRecentMembersMax = 65536;      // push targets
// Credentials (COM, COO, CAP, TAG: a signature each) signed for a member are put in its
// later configs for up to kCredentialReuseMax while its network and member state are
// unchanged: with the config chunk's own signature that makes one signature per answer
// instead of two or more. Nodes judge credentials by their timestamps only against
// kCredentialTimeMaxDeltaMs (30 min): a few minutes older changes nothing for them, and any
// change (deauthorization, new IPs, tags) builds new ones at once. One entry per member.
inline constexpr absl::Duration kCredentialReuseMax = absl::Minutes(2);
inline constexpr size_t kCredentialCacheEntriesMax = kRecentMembersMax;
static_assert(kCredentialReuseMax <=
                  absl::Milliseconds(static_cast<int64_t>(kCredentialTimeMaxDeltaMs) / 4),
              "reused credentials must stay far inside the window nodes accept");
// The specialists list (S) is O(members) to build: kept per network until the state
// changes. Networks beyond this bound are built per answer.
inline constexpr size_t kSpecialistsCacheNetworksMax = 1024;
// Each network's compiled config parts (config_encoder.h NetworkConfigParts: routes, rules,
// DNS and the other keys that are the same for every member; a copy of the network config
// to check them against) are kept until the network changes, so an answer does not parse
// and compile the rules again. Past this bound, parts of deleted or changed networks are
// dropped, and if that is not enough all are (each network is compiled again on its next
// answer). An entry is about twice the network's stored config (rules, capabilities).
inline constexpr size_t kNetworkPartsCacheNetworksMax = 1024;
inline constexpr absl::Duration kPushRecentWindow = absl::Minutes(5);
// The UDP loop (udp_server.h) reads at most kReceiveBatchMax waiting datagrams between two
// polls, and calls Responder::Tick after a batch when a worker woke it, when nothing came
// within its poll timeout, or at least every kTickInterval under steady traffic (pushes
// and root HELLOs wait at most that long).
inline constexpr size_t kReceiveBatchMax = 64;
// Datagrams the UDP loop sends with one sendmmsg (the rest of a batch in the next call).
inline constexpr size_t kSendBatchMax = 16;
inline constexpr absl::Duration kTickInterval = absl::Milliseconds(50);
// A root that answered our last HELLO (OK(HELLO)) is HELLOed every kRootHelloInterval, as
// ZeroTier nodes keep their roots. Until it answers (it may start after us, or a HELLO may
// be lost), every kRootHelloRetryInterval: nodes find the controller through the root
// (WHOIS, relaying), so a root that does not know us yet makes the controller unreachable.
inline constexpr absl::Duration kRootHelloInterval = absl::Seconds(60);
inline constexpr absl::Duration kRootHelloRetryInterval = absl::Seconds(3);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_LIMITS_H_
