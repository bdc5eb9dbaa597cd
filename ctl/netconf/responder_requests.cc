// Responder: NETWORK_CONFIG_REQUEST, pushes and periodic work (the VL1 side is in
// responder.cc).

#include <memory>

#include "ctl/commands/join_commands.h"
#include "ctl/netconf/chunk.h"
#include "ctl/netconf/hello.h"
#include "ctl/netconf/limits.h"
#include "ctl/netconf/responder.h"
#include "ctl/zt/dictionary.h"
#include "ctl/zt/messages.h"
#include "ctl/zt/wire.h"
#include "schemas/events_generated.h"

namespace almanac::netconf {
namespace {

#define COUNT(field) Count(&ResponderCounters::field)

// A config's update id: any random non-zero value (the node keys chunks by it).
uint64_t NonZeroRandom() {
  uint64_t v = 0;
  while (v == 0) v = zt::RandomPacketId();
  return v;
}

}  // namespace

void Responder::HandleRequest(const Peer& peer, uint64_t packet_id, std::string_view payload,
                              const zt::InetAddress& from, absl::Time now,
                              std::vector<Datagram>& out) {
  auto request = zt::ParseConfigRequest(payload);
  if (!request.ok()) return COUNT(malformed);
  auto dict = zt::Dictionary::Parse(request->metadata);
  if (!dict.ok()) return COUNT(malformed);
  COUNT(requests);
  const uint64_t nwid = request->network_id;
  const uint64_t member = peer.identity.address();
  MemberKey key{nwid, member};
  if (RateLimited(key, now)) return COUNT(rate_limited);
  RequestMetadata metadata = ParseRequestMetadata(*dict);
  if (options_.telemetry) {
    options_.telemetry(nwid, member, absl::ToUnixMillis(now), from.ToString(), metadata);
  }
  // Networks of other controllers do not exist here, whatever the state holds.
  if ((nwid >> 24) != address()) {
    COUNT(answered_not_found);
    return SendError(peer, packet_id, zt::ErrorCode::kObjNotFound, nwid, from, out);
  }
  commands::JoinRequest join;
  join.nwid = nwid;
  join.address = member;
  join.identity_public = peer.identity.public_key();
  join.protocol_version = metadata.protocol_version;
  join.version_major = metadata.version_major;
  join.version_minor = metadata.version_minor;
  join.version_revision = metadata.version_revision;
  join.os_arch = metadata.os_arch;
  join.physical_address = from.ToString();
  RememberRecent(key, Recent{from, now, packet_id, metadata});
  commands::JoinOutcome outcome;
  if (sequencer_->Read([&](const state::State& s) {
        return commands::DecideWithoutWrites(s, join, absl::ToUnixMillis(now), &outcome);
      })) {
    COUNT(answered_direct);
    return Answer(peer, packet_id, nwid, outcome.verdict, metadata, from, now, out);
  }
  // Events are due: a join worker makes them durable, Drain answers.
  if (joins_in_flight_ >= kJoinsInFlightMax) return COUNT(joins_dropped);
  ++joins_in_flight_;
  {
    absl::MutexLock lock(&work_mu_);
    join_jobs_.push_back(JoinJob{std::move(join), packet_id, from, metadata});
  }
  COUNT(joins_queued);
}

void Responder::Answer(const Peer& peer, uint64_t packet_id, uint64_t nwid,
                       commands::JoinVerdict verdict, const RequestMetadata& metadata,
                       const zt::InetAddress& to, absl::Time now, std::vector<Datagram>& out) {
  switch (verdict) {
    case commands::JoinVerdict::kNotFound:
      COUNT(answered_not_found);
      return SendError(peer, packet_id, zt::ErrorCode::kObjNotFound, nwid, to, out);
    case commands::JoinVerdict::kDenied:
      COUNT(answered_denied);
      return SendError(peer, packet_id, zt::ErrorCode::kNetworkAccessDenied, nwid, to, out);
    case commands::JoinVerdict::kAuthorized:
      break;
  }
  bool authorized = false, exists = false;
  std::vector<std::string> chunks =
      ConfigChunks(nwid, peer.identity.address(), metadata, now, &authorized, &exists);
  if (!exists) {  // deleted between the decision and now
    COUNT(answered_not_found);
    return SendError(peer, packet_id, zt::ErrorCode::kObjNotFound, nwid, to, out);
  }
  if (!authorized) {  // deauthorized between the decision and now
    COUNT(answered_denied);
    return SendError(peer, packet_id, zt::ErrorCode::kNetworkAccessDenied, nwid, to, out);
  }
  if (chunks.empty()) return COUNT(internal_errors);
  for (const std::string& p : OkConfigPayloads(packet_id, chunks)) {
    Send(peer, zt::Verb::kOk, p, to, out);
  }
  COUNT(answered_config);
}

std::vector<std::string> Responder::ConfigChunks(uint64_t nwid, uint64_t address,
                                                 const RequestMetadata& metadata,
                                                 absl::Time now, bool* authorized,
                                                 bool* network_exists) {
  *authorized = false;
  if (network_exists != nullptr) *network_exists = false;
  auto dict = sequencer_->Read([&](const state::State& s) -> absl::StatusOr<std::string> {
    const state::Network* network = s.FindNetwork(nwid);
    if (network_exists != nullptr) *network_exists = network != nullptr;
    const state::Member* member = s.FindMember(nwid, address);
    if (network == nullptr || member == nullptr || !member->config.authorized) {
      return absl::PermissionDeniedError("not authorized");
    }
    *authorized = true;
    ConfigInput input{network, member, &options_.identity, absl::ToUnixMillis(now), metadata};
    input.specialists = Specialists(s, *network);
    input.parts = NetworkParts(s, *network);
    const MemberKey key{nwid, address};
    auto cached = credentials_.find(key);
    if (cached != credentials_.end()) {
      const CachedCredentials& c = cached->second;
      const int64_t age_ms = input.now_ms - c.credentials.signed_at_ms;
      if (c.network_changed_seq == network->changed_seq &&
          c.member_changed_seq == member->changed_seq &&
          c.capabilities_max == metadata.capabilities_max &&
          c.capability_rules_max == metadata.capability_rules_max &&
          c.tags_max == metadata.tags_max && age_ms >= 0 &&
          age_ms < absl::ToInt64Milliseconds(kCredentialReuseMax)) {
        input.reuse = &c.credentials;
      }
    }
    CachedCredentials made{network->changed_seq,      member->changed_seq,
                           metadata.capabilities_max, metadata.capability_rules_max,
                           metadata.tags_max,         {}};
    if (input.reuse == nullptr) input.credentials_out = &made.credentials;
    auto dict = EncodeConfigDictionary(input);
    if (dict.ok() && input.reuse == nullptr) RememberCredentials(key, std::move(made), now);
    return dict;
  });
  if (!dict.ok()) return {};
  auto chunks = SignChunks(nwid, *dict, NonZeroRandom(), options_.identity);
  if (!chunks.ok()) return {};
  return *std::move(chunks);
}

const std::string* Responder::Specialists(const state::State& state,
                                          const state::Network& network) {
  auto it = specialists_.find(network.nwid);
  if (it != specialists_.end() && it->second.first == state.last_seq()) {
    return &it->second.second;
  }
  if (it == specialists_.end()) {
    // A new network: make room by forgetting the others (each is rebuilt on its next use).
    if (specialists_.size() >= kSpecialistsCacheNetworksMax) specialists_.clear();
    it = specialists_.emplace(network.nwid, std::pair<uint64_t, std::string>()).first;
  }
  it->second = {state.last_seq(), ActiveBridgesOf(network)};
  return &it->second.second;
}

const NetworkConfigParts* Responder::NetworkParts(const state::State& state,
                                                  const state::Network& network) {
  auto it = network_parts_.find(network.nwid);
  if (it != network_parts_.end()) {
    // Any change to the network (a rule, a route, its name...) makes it stale.
    if (!it->second.BuiltFrom(network)) it->second = CompileNetworkParts(network);
    return &it->second;
  }
  if (network_parts_.size() >= kNetworkPartsCacheNetworksMax) {
    // Make room: drop deleted or changed networks' parts; if all are current, forget them
    // all (as Specialists does: each is compiled again on its next answer).
    absl::erase_if(network_parts_, [&state](const auto& e) {
      const state::Network* n = state.FindNetwork(e.first);
      return n == nullptr || !e.second.BuiltFrom(*n);
    });
    if (network_parts_.size() >= kNetworkPartsCacheNetworksMax) network_parts_.clear();
  }
  return &network_parts_.emplace(network.nwid, CompileNetworkParts(network)).first->second;
}

void Responder::RememberCredentials(const MemberKey& key, CachedCredentials credentials,
                                    absl::Time now) {
  if (!credentials_.contains(key) && credentials_.size() >= kCredentialCacheEntriesMax) {
    const int64_t now_ms = absl::ToUnixMillis(now);
    const int64_t max_ms = absl::ToInt64Milliseconds(kCredentialReuseMax);
    absl::erase_if(credentials_, [now_ms, max_ms](const auto& e) {
      return now_ms - e.second.credentials.signed_at_ms >= max_ms;
    });
    if (credentials_.size() >= kCredentialCacheEntriesMax) return;  // signed again next time
  }
  credentials_[key] = std::move(credentials);
}

bool Responder::RateLimited(const MemberKey& key, absl::Time now) {
  auto it = last_answer_.find(key);
  if (it != last_answer_.end() && now - it->second < kRateLimitInterval) return true;
  if (it == last_answer_.end() && last_answer_.size() >= kRateLimitEntriesMax) {
    // Entries older than the interval no longer limit anything: drop them to make room.
    absl::erase_if(last_answer_,
                   [now](const auto& e) { return now - e.second >= kRateLimitInterval; });
    if (last_answer_.size() >= kRateLimitEntriesMax) return true;  // a flood: fail closed
  }
  last_answer_[key] = now;
  return false;
}

void Responder::RememberRecent(const MemberKey& key, Recent recent) {
  if (!recent_.contains(key) && recent_.size() >= kRecentMembersMax) {
    absl::Time now = recent.last_seen;
    absl::erase_if(recent_,
                   [now](const auto& e) { return now - e.second.last_seen > kPushRecentWindow; });
    if (recent_.size() >= kRecentMembersMax) return;  // not pushed; it re-asks in 60 s
  }
  recent_[key] = std::move(recent);
}

void Responder::PushTo(const MemberKey& key, const Recent& recent, absl::Time now,
                       std::vector<Datagram>& out) {
  auto peer = peers_.find(key.second);
  if (peer == peers_.end()) return;
  bool authorized = false, exists = false;
  std::vector<std::string> chunks = ConfigChunks(key.first, key.second, recent.metadata, now,
                                                 &authorized, &exists);
  if (!exists) {
    // A deleted network is unknown to the controller, as ZeroTier says it: OBJ_NOT_FOUND.
    SendError(peer->second, recent.request_id, zt::ErrorCode::kObjNotFound, key.first,
              recent.path, out);
  } else if (!authorized) {
    // ZeroTier tells a member it lost access with ERROR NETWORK_ACCESS_DENIED.
    SendError(peer->second, recent.request_id, zt::ErrorCode::kNetworkAccessDenied, key.first,
              recent.path, out);
  } else {
    for (const std::string& chunk : chunks) {
      Send(peer->second, zt::Verb::kNetworkConfig, chunk, recent.path, out);
    }
  }
  COUNT(pushes);
}

void Responder::OnApplied(const std::vector<ctl::AppliedRecord>& records) {
  // Runs on the sequencer thread: only note which networks changed.
  absl::MutexLock lock(&push_mu_);
  for (const ctl::AppliedRecord& applied : records) {
    const auto* record = flatbuffers::GetRoot<schema::Record>(applied.bytes.data());
    // A member's own join is answered directly; everything else that touches a network
    // may change what its members must hear.
    if (record->actor() != nullptr && record->actor()->kind() == schema::ActorKind::Node) {
      continue;
    }
    uint64_t nwid = 0;
    switch (record->body_type()) {
      case schema::Body::NetworkChanged: nwid = record->body_as_NetworkChanged()->nwid(); break;
      case schema::Body::NetworkDeleted: nwid = record->body_as_NetworkDeleted()->nwid(); break;
      case schema::Body::MemberAuthorized: nwid = record->body_as_MemberAuthorized()->nwid(); break;
      case schema::Body::MemberDeauthorized:
        nwid = record->body_as_MemberDeauthorized()->nwid();
        break;
      case schema::Body::MemberChanged: nwid = record->body_as_MemberChanged()->nwid(); break;
      case schema::Body::MemberDeleted: nwid = record->body_as_MemberDeleted()->nwid(); break;
      case schema::Body::IpAssigned: nwid = record->body_as_IpAssigned()->nwid(); break;
      case schema::Body::IpReleased: nwid = record->body_as_IpReleased()->nwid(); break;
      default: continue;
    }
    push_networks_.insert(nwid);
  }
}

std::vector<Datagram> Responder::Tick(absl::Time now) {
  std::vector<Datagram> out;
  Drain(now, out);
  for (uint64_t root : root_addresses_) {
    // Due at once when never HELLOed. Until the root's OK(HELLO) moves it on to
    // kRootHelloInterval (HandleOk), the next one is due after the short retry period.
    absl::Time& next = root_next_hello_.try_emplace(root, absl::InfinitePast()).first->second;
    if (now < next) continue;
    next = now + kRootHelloRetryInterval;
    const Peer& r = peers_.at(root);
    for (const zt::WorldRoot& w : options_.planet.roots) {
      if (w.identity.address != root) continue;
      for (const zt::InetAddress& endpoint : w.endpoints) {
        auto hello = BuildHelloPacket(zt::RandomPacketId(), options_.identity, root, endpoint,
                                      kAlmanacVersion, absl::ToUnixMillis(now),
                                      options_.planet.id, options_.planet.timestamp, r.key);
        if (hello.ok()) out.push_back(Datagram{endpoint, std::move(*hello)});
      }
    }
  }
  // Held packets whose WHOIS got no answer in time are dropped.
  for (auto it = held_.begin(); it != held_.end();) {
    auto& list = it->second;
    size_t before = list.size();
    list.erase(std::remove_if(list.begin(), list.end(),
                              [now](const Held& h) { return now - h.time > kWhoisTimeout; }),
               list.end());
    held_count_ -= before - list.size();
    {
      absl::MutexLock lock(&counters_mu_);
      counters_.whois_dropped += before - list.size();
    }
    if (list.empty()) {
      held_.erase(it++);
    } else {
      ++it;
    }
  }
  absl::flat_hash_set<uint64_t> networks;
  {
    absl::MutexLock lock(&push_mu_);
    networks.swap(push_networks_);
  }
  if (networks.empty()) return out;
  for (const auto& [key, recent] : recent_) {
    if (!networks.contains(key.first) || now - recent.last_seen > kPushRecentWindow) continue;
    // A member due a pool address (just authorized, say) gets it written first, on a join
    // worker: the push then carries it, as ZeroTier's controller assigns at authorization.
    bool due = sequencer_->Read([&key = key](const state::State& s) {
      return commands::PoolAddressDue(s, key.first, key.second);
    });
    if (due && QueuePushAssign(key, recent)) continue;
    PushTo(key, recent, now, out);
  }
  return out;
}

bool Responder::QueuePushAssign(const MemberKey& key, const Recent& recent) {
  if (joins_in_flight_ >= kJoinsInFlightMax) return false;
  ++joins_in_flight_;
  JoinJob job;
  job.request.nwid = key.first;
  job.request.address = key.second;
  job.from = recent.path;
  job.push = true;
  {
    absl::MutexLock lock(&work_mu_);
    join_jobs_.push_back(std::move(job));
  }
  return true;
}

}  // namespace almanac::netconf
