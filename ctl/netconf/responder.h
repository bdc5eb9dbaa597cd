// The VL1 peer engine of Almanac's netconf side: datagrams in, datagrams out. It keeps a
// key per peer (Agree once per identity, after the identity's address was checked once
// with Validate on a worker thread; packets of that address wait in the bounded holding
// area meanwhile, see limits.h), answers HELLO with OK(HELLO) advertising protocol 11 (so
// 1.14 nodes use suites 0/1 with us), asks its roots (WHOIS) about unknown sources while
// holding a few of their packets, answers packets relayed through a root to the physical
// source they came from (the root), HELLOs each root at start, every
// kRootHelloRetryInterval until that root answers (OK(HELLO)) and every kRootHelloInterval
// after that, reassembles fragments, and answers NETWORK_CONFIG_REQUEST
// (shared/docs/zerotier-protocol.md §2-§5):
//   unknown network -> ERROR OBJ_NOT_FOUND; decisions with commands::JoinCommand: one
//   that writes nothing (a known, authorized member) is decided and answered on the
//   receive thread; one that writes (MemberJoined / MemberAuthorized "public" /
//   IpAssigned) goes through the sequencer on a join worker, and the node is answered once
//   the events are durable; denied -> ERROR NETWORK_ACCESS_DENIED; authorized ->
//   OK(NETWORK_CONFIG_REQUEST) with the signed config chunks.
// At most one answered request per second per (member, network); extra ones are dropped.
// When the journal changes a network or member, every member of that network seen in the
// last kPushRecentWindow gets a NETWORK_CONFIG push (ERROR NETWORK_ACCESS_DENIED if it lost
// its authorization, ERROR OBJ_NOT_FOUND if the network was deleted) on the next Tick. An
// authorized member that is due a pool address (commands::PoolAddressDue: e.g. just
// authorized through the API) first gets it written (IpAssigned, on a join worker), and
// the push follows the commit, so the pushed config carries it as ZeroTier's does. The
// node's OK(ECHO) acknowledging a push is counted and otherwise ignored.
// Everything dropped is counted (counters(), for /metrics).
//
// Thread safety: Receive and Tick must be called from one thread (the UDP loop). Worker
// threads (one identity checker, kJoinWorkers join workers) hand results back through
// mutex-guarded queues that Receive and Tick drain, and call options.wake so the loop does
// not wait for its next Tick. The sequencer listener only touches a mutex-guarded set.
// counters() may be called from any thread.
#ifndef ALMANAC_CTL_NETCONF_RESPONDER_H_
#define ALMANAC_CTL_NETCONF_RESPONDER_H_

#include <array>
#include <atomic>
#include <deque>
#include <thread>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ctl/commands/join_commands.h"
#include "ctl/netconf/config_encoder.h"
#include "ctl/sequencer.h"
#include "ctl/zt/fragment.h"
#include "ctl/zt/identity.h"
#include "ctl/zt/inet_address.h"
#include "ctl/zt/packet.h"
#include "ctl/zt/planet.h"

namespace almanac::netconf {

struct Datagram {
  zt::InetAddress to;
  std::string bytes;
};

// What a request told us about a member, for ctl/telemetry.h (the integrator wires it to
// Telemetry::Record). Called on the receive thread.
using TelemetrySink = std::function<void(uint64_t nwid, uint64_t address, int64_t now_ms,
                                         const std::string& physical_address,
                                         const RequestMetadata& metadata)>;

struct ResponderOptions {
  zt::Identity identity;      // the controller's, with its secret
  zt::World planet;           // roots to HELLO and WHOIS; may have no roots
  TelemetrySink telemetry;    // may be empty
  // Called from worker threads when results wait for Receive/Tick; may be empty (then they
  // wait for the next call). Must be cheap and thread-safe (UdpServer writes an eventfd).
  std::function<void()> wake;
};

struct ResponderCounters {
  uint64_t datagrams = 0;
  uint64_t runts = 0;              // shorter than a fragment or packet (from reassembly)
  uint64_t fragments_dropped = 0;  // other reassembly drops (also unfinished packets
                                   // evicted or expired: a fragment flood)
  uint64_t malformed = 0;          // parse failures, bad LZ4, wrong identity in HELLO
  uint64_t bad_mac = 0;
  uint64_t replayed = 0;
  uint64_t not_for_us = 0;         // destination is not this controller
  uint64_t unsupported_cipher = 0;  // suite 2 or 3
  uint64_t identity_invalid = 0;   // failed the address derivation check
  uint64_t validate_queued = 0;    // new identities handed to the checker
  uint64_t validate_throttled = 0;  // refused: checker queue full or source at its bound
  uint64_t whois_queued = 0;
  uint64_t whois_dropped = 0;      // queue full, or no answer in time
  uint64_t rate_limited = 0;
  uint64_t requests = 0;
  uint64_t answered_direct = 0;    // decided without the sequencer (nothing to write)
  uint64_t joins_queued = 0;       // handed to a join worker
  uint64_t joins_dropped = 0;      // kJoinsInFlightMax reached, or peer gone before the answer
  uint64_t echo_acks = 0;          // OK(ECHO): a node acknowledging a push
  uint64_t answered_config = 0;
  uint64_t answered_denied = 0;
  uint64_t answered_not_found = 0;
  uint64_t pushes = 0;
  uint64_t internal_errors = 0;    // a config that could not be built, a refused command
};

class Responder {
 public:
  // Registers a listener on `sequencer` and starts the worker threads. The sequencer must
  // outlive the responder. The destructor stops and joins the workers (a join worker in
  // Submit finishes it first).
  Responder(ResponderOptions options, ctl::Sequencer* sequencer);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // One UDP payload from `from` at `now`; returns what to send (including answers to
  // earlier packets whose identity check or join finished meanwhile). Never waits for an
  // fsync or an identity check.
  std::vector<Datagram> Receive(std::string_view bytes, const zt::InetAddress& from,
                                absl::Time now);

  // Periodic work: collect worker results and answer them, HELLO the roots when due, expire
  // held packets, send pushes queued by the sequencer listener. Call at least every few
  // hundred ms, and soon after options.wake.
  std::vector<Datagram> Tick(absl::Time now);

  ResponderCounters counters() const;
  uint64_t address() const { return options_.identity.address(); }

  // Blocks until every queued identity check and join has finished (results not yet
  // collected: the next Tick collects them). For in-process tests.
  void WaitWorkersIdleForTest();
  // Makes `identity` a known peer as if its check had passed (tests build members with
  // cheap keys instead of memory-hard identities). Receive-thread only.
  void AddValidatedPeerForTest(const zt::Identity& identity) { AddPeer(identity); }
  // Table sizes, for tests of the named bounds.
  struct TableSizes {
    size_t peers, held_packets, validating, joins_in_flight, rate_limit, recent, reassembling,
        credentials, network_parts;
  };
  TableSizes table_sizes_for_test() const;

 private:
  struct Peer {
    zt::Identity identity;
    zt::Key48 key{};
    std::array<uint64_t, 64> recent_ids{};  // replay window
    size_t recent_next = 0;
  };
  struct Held {
    std::string packet;
    zt::InetAddress from;
    absl::Time time;
  };
  struct Recent {  // a member that asked lately: push target
    zt::InetAddress path;
    absl::Time last_seen;
    uint64_t request_id = 0;
    RequestMetadata metadata;
  };
  using MemberKey = std::pair<uint64_t, uint64_t>;  // (nwid, address)
  // Credentials signed for a member, reused only while the network and member states
  // they were built from (named by their changed_seq, see state::Member) and the node's
  // limits are the same.
  struct CachedCredentials {
    uint64_t network_changed_seq = 0;
    uint64_t member_changed_seq = 0;
    uint64_t capabilities_max = 0, capability_rules_max = 0, tags_max = 0;
    SignedCredentials credentials;
  };
  struct ValidateJob {
    zt::Identity identity;
  };
  struct ValidateDone {
    zt::Identity identity;
    bool valid = false;
    zt::Key48 key{};
  };
  struct JoinJob {
    commands::JoinRequest request;
    uint64_t packet_id = 0;
    zt::InetAddress from;
    RequestMetadata metadata;
    // Not a request: a push target due a pool address (AssignPoolAddressCommand on
    // request.nwid/address), pushed to once the command is done.
    bool push = false;
  };
  struct JoinDone {
    JoinJob job;
    absl::Status status;
    commands::JoinOutcome outcome;
  };

  void HandlePacket(std::string packet, const zt::InetAddress& from, absl::Time now,
                    std::vector<Datagram>& out);
  void HandleHello(std::string& packet, const zt::InetAddress& from, absl::Time now,
                   std::vector<Datagram>& out);
  // Hands a new identity to the checker unless a bound (limits.h) is reached.
  bool StartValidation(const zt::Identity& identity, const zt::InetAddress& from);
  // Collects worker results and answers them.
  void Drain(absl::Time now, std::vector<Datagram>& out);
  void ValidateLoop();
  void JoinLoop();
  void Answer(const Peer& peer, uint64_t packet_id, uint64_t nwid, commands::JoinVerdict verdict,
              const RequestMetadata& metadata, const zt::InetAddress& to, absl::Time now,
              std::vector<Datagram>& out);
  void HandleRequest(const Peer& peer, uint64_t packet_id, std::string_view payload,
                     const zt::InetAddress& from, absl::Time now, std::vector<Datagram>& out);
  void HandleOk(const Peer& peer, std::string_view payload, absl::Time now,
                std::vector<Datagram>& out);
  Peer* AddPeer(const zt::Identity& identity);
  Peer* AddPeerWithKey(const zt::Identity& identity, const zt::Key48& key);
  bool SeenBefore(Peer& peer, uint64_t packet_id);
  // Keeps a packet of an unknown address (bounded); asks the roots (WHOIS) when `whois`.
  void Hold(uint64_t address, std::string packet, const zt::InetAddress& from, absl::Time now,
            std::vector<Datagram>& out, bool whois = true);
  void Send(const Peer& peer, zt::Verb verb, std::string_view payload,
            const zt::InetAddress& to, std::vector<Datagram>& out);
  void SendError(const Peer& peer, uint64_t in_re, zt::ErrorCode code, uint64_t nwid,
                 const zt::InetAddress& to, std::vector<Datagram>& out);
  // The config chunks for a member, or an empty vector when it cannot be built.
  // *network_exists tells a deleted network from a missing authorization.
  std::vector<std::string> ConfigChunks(uint64_t nwid, uint64_t address,
                                        const RequestMetadata& metadata, absl::Time now,
                                        bool* authorized, bool* network_exists = nullptr);
  bool RateLimited(const MemberKey& key, absl::Time now);
  // The network's S value for this state, kept until the state changes (O(members) to
  // build). REQUIRES: the sequencer's reader lock (inside Read).
  const std::string* Specialists(const state::State& state, const state::Network& network);
  // The network's compiled config parts, rebuilt when the network changed (BuiltFrom);
  // valid until the next call. REQUIRES: the sequencer's reader lock (inside Read), and
  // `network` is in `state`.
  const NetworkConfigParts* NetworkParts(const state::State& state,
                                         const state::Network& network);
  // Keeps a member's new credentials (bounded by kCredentialCacheEntriesMax).
  void RememberCredentials(const MemberKey& key, CachedCredentials credentials,
                           absl::Time now);
  void RememberRecent(const MemberKey& key, Recent recent);
  void PushTo(const MemberKey& key, const Recent& recent, absl::Time now,
              std::vector<Datagram>& out);
  // Queues a join job that writes the member's pool address, pushed to by Drain; false
  // when kJoinsInFlightMax is reached (then push at once without the address).
  bool QueuePushAssign(const MemberKey& key, const Recent& recent);
  void OnApplied(const std::vector<ctl::AppliedRecord>& records);
  void Count(uint64_t ResponderCounters::*field) {
    absl::MutexLock lock(&counters_mu_);
    ++(counters_.*field);
  }

  const ResponderOptions options_;
  ctl::Sequencer* const sequencer_;
  zt::Reassembler reassembler_;
  absl::flat_hash_map<uint64_t, Peer> peers_;
  std::vector<uint64_t> root_addresses_;
  absl::flat_hash_map<uint64_t, std::vector<Held>> held_;
  size_t held_count_ = 0;
  absl::flat_hash_map<MemberKey, absl::Time> last_answer_;
  absl::flat_hash_map<MemberKey, Recent> recent_;
  // Credentials kept for reuse (limits.h kCredentialReuseMax): receive thread only.
  absl::flat_hash_map<MemberKey, CachedCredentials> credentials_;
  // nwid -> (state last_seq, S value): receive thread only.
  absl::flat_hash_map<uint64_t, std::pair<uint64_t, std::string>> specialists_;
  // nwid -> compiled parts (<= kNetworkPartsCacheNetworksMax): receive thread only.
  absl::flat_hash_map<uint64_t, NetworkConfigParts> network_parts_;
  absl::flat_hash_map<uint64_t, absl::Time> root_next_hello_;  // one entry per root
  // Receive-thread view of identities with the checker: address -> physical source.
  absl::flat_hash_map<uint64_t, std::string> validating_;              // <= kValidateQueueMax
  absl::flat_hash_map<std::string, size_t> validating_per_source_;     // <= kValidatePerSourceMax
  size_t joins_in_flight_ = 0;  // queued + running + done, not yet collected

  mutable absl::Mutex counters_mu_;
  ResponderCounters counters_ ABSL_GUARDED_BY(counters_mu_);

  absl::Mutex push_mu_;
  absl::flat_hash_set<uint64_t> push_networks_ ABSL_GUARDED_BY(push_mu_);

  // Work handed to the worker threads and their results.
  absl::Mutex work_mu_;
  bool stopping_ ABSL_GUARDED_BY(work_mu_) = false;
  std::deque<ValidateJob> validate_jobs_ ABSL_GUARDED_BY(work_mu_);
  std::deque<ValidateDone> validate_done_ ABSL_GUARDED_BY(work_mu_);
  bool validate_busy_ ABSL_GUARDED_BY(work_mu_) = false;
  std::deque<JoinJob> join_jobs_ ABSL_GUARDED_BY(work_mu_);
  std::deque<JoinDone> join_done_ ABSL_GUARDED_BY(work_mu_);
  size_t joins_running_ ABSL_GUARDED_BY(work_mu_) = 0;
  std::vector<std::thread> workers_;
};

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_RESPONDER_H_
