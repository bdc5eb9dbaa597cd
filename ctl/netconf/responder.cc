#include "ctl/netconf/responder.h"

#include <algorithm>
#include <memory>

#include "base/thread_name.h"
#include "ctl/commands/join_commands.h"
#include "ctl/netconf/chunk.h"
#include "ctl/netconf/hello.h"
#include "ctl/netconf/limits.h"
#include "ctl/zt/dictionary.h"
#include "ctl/zt/messages.h"
#include "ctl/zt/wire.h"
#include "schemas/events_generated.h"

namespace almanac::netconf {
namespace {

#define COUNT(field) Count(&ResponderCounters::field)

}  // namespace

Responder::Responder(ResponderOptions options, ctl::Sequencer* sequencer)
    : options_(std::move(options)), sequencer_(sequencer) {
  for (const zt::WorldRoot& root : options_.planet.roots) {
    std::string binary = root.identity.Serialize();
    auto id = zt::Identity::FromBinary(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(binary.data()), binary.size()),
        nullptr);
    if (!id.ok() || id->address() == address()) continue;
    if (AddPeer(*id) != nullptr) root_addresses_.push_back(id->address());
  }
  sequencer_->AddListener(
      [this](const std::vector<ctl::AppliedRecord>& records) { OnApplied(records); });
  workers_.emplace_back([this] {
    NameThisThread("id-validate");
    ValidateLoop();
  });
  for (size_t i = 0; i < kJoinWorkers; ++i) {
    workers_.emplace_back([this] {
      NameThisThread("netconf-join");
      JoinLoop();
    });
  }
}

Responder::~Responder() {
  {
    absl::MutexLock lock(&work_mu_);
    stopping_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

ResponderCounters Responder::counters() const {
  absl::MutexLock lock(&counters_mu_);
  ResponderCounters c = counters_;
  return c;
}

std::vector<Datagram> Responder::Receive(std::string_view bytes, const zt::InetAddress& from,
                                         absl::Time now) {
  std::vector<Datagram> out;
  Drain(now, out);
  COUNT(datagrams);
  zt::Reassembler::Stats before = reassembler_.stats();
  std::optional<std::string> packet = reassembler_.Add(from.ToString(), bytes, now);
  const zt::Reassembler::Stats& after = reassembler_.stats();
  {
    absl::MutexLock lock(&counters_mu_);
    counters_.runts += after.runts - before.runts;
    counters_.fragments_dropped += (after.oversized - before.oversized) +
                                   (after.inconsistent - before.inconsistent) +
                                   (after.duplicates - before.duplicates) +
                                   (after.evicted_packets - before.evicted_packets) +
                                   (after.expired_packets - before.expired_packets);
  }
  if (packet) HandlePacket(std::move(*packet), from, now, out);
  return out;
}

void Responder::HandlePacket(std::string packet, const zt::InetAddress& from, absl::Time now,
                             std::vector<Datagram>& out) {
  auto header = zt::ParseHeader(packet);
  if (!header.ok()) return COUNT(malformed);
  if (header->destination != address()) return COUNT(not_for_us);  // not a relay
  if (header->cipher() == 0 && zt::PacketVerb(packet) == zt::Verb::kHello) {
    return HandleHello(packet, from, now, out);
  }
  auto it = peers_.find(header->source);
  if (it == peers_.end()) return Hold(header->source, std::move(packet), from, now, out);
  Peer& peer = it->second;
  absl::Status s = zt::Dearmor(packet, peer.key);
  if (s.code() == absl::StatusCode::kDataLoss) return COUNT(bad_mac);
  if (s.code() == absl::StatusCode::kUnimplemented) return COUNT(unsupported_cipher);
  if (!s.ok()) return COUNT(malformed);
  // Only after the MAC holds, so forged ids cannot fill the replay window.
  if (SeenBefore(peer, header->packet_id)) return COUNT(replayed);
  if (!zt::Uncompress(packet).ok()) return COUNT(malformed);
  std::string_view payload = zt::PacketPayload(packet);
  switch (zt::PacketVerb(packet)) {
    case zt::Verb::kNetworkConfigRequest:
      return HandleRequest(peer, header->packet_id, payload, from, now, out);
    case zt::Verb::kOk:
      return HandleOk(peer, payload, now, out);
    default:
      return;  // ERROR, ECHO, RENDEZVOUS, frames...: nothing a controller must answer
  }
}

void Responder::HandleHello(std::string& packet, const zt::InetAddress& from, absl::Time now,
                            std::vector<Datagram>& out) {
  auto hello = zt::ParseHello(packet);
  auto header = zt::ParseHeader(packet);
  if (!hello.ok() || !header.ok() || hello->identity.address != header->source) {
    return COUNT(malformed);
  }
  Peer* peer = nullptr;
  if (auto it = peers_.find(header->source); it != peers_.end()) {
    if (it->second.identity.public_key() != hello->identity.public_key) {
      return COUNT(identity_invalid);  // someone else claiming a known address
    }
    peer = &it->second;
  } else {
    // The memory-hard check runs once per identity, on the checker thread; this HELLO
    // waits with the address's other packets and is handled again once it is done.
    if (validating_.contains(header->source)) {
      return Hold(header->source, std::move(packet), from, now, out, /*whois=*/false);
    }
    std::string binary = hello->identity.Serialize();
    auto id = zt::Identity::FromBinary(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(binary.data()), binary.size()),
        nullptr);
    if (!id.ok()) return COUNT(identity_invalid);
    if (!StartValidation(*id, from)) return COUNT(validate_throttled);
    return Hold(header->source, std::move(packet), from, now, out, /*whois=*/false);
  }
  std::string checked = packet;
  absl::Status s = zt::Dearmor(checked, peer->key);
  if (!s.ok()) return COUNT(bad_mac);
  if (SeenBefore(*peer, header->packet_id)) return COUNT(replayed);
  Send(*peer, zt::Verb::kOk,
       zt::BuildOkHelloPayload(header->packet_id, hello->timestamp, kAlmanacVersion, from),
       from, out);
  // Packets held for this identity can go now.
  if (auto held = held_.extract(header->source)) {
    held_count_ -= held.mapped().size();
    for (Held& h : held.mapped()) HandlePacket(std::move(h.packet), h.from, h.time, out);
  }
}

Responder::Peer* Responder::AddPeer(const zt::Identity& identity) {
  auto key = options_.identity.Agree(identity);
  if (!key.ok()) return nullptr;
  return AddPeerWithKey(identity, *key);
}

Responder::Peer* Responder::AddPeerWithKey(const zt::Identity& identity, const zt::Key48& key) {
  if (peers_.size() >= kPeersMax && !peers_.contains(identity.address())) {
    // Evict any peer but a root: it costs one Agree (and a Validate) to bring back.
    for (auto it = peers_.begin(); it != peers_.end(); ++it) {
      if (std::find(root_addresses_.begin(), root_addresses_.end(), it->first) ==
          root_addresses_.end()) {
        peers_.erase(it);
        break;
      }
    }
  }
  Peer& peer = peers_[identity.address()];
  peer.identity = identity;
  peer.key = key;
  return &peer;
}

bool Responder::SeenBefore(Peer& peer, uint64_t packet_id) {
  for (uint64_t id : peer.recent_ids) {
    if (id == packet_id && id != 0) return true;
  }
  peer.recent_ids[peer.recent_next] = packet_id;
  peer.recent_next = (peer.recent_next + 1) % peer.recent_ids.size();
  return false;
}

void Responder::Hold(uint64_t source, std::string packet, const zt::InetAddress& from,
                     absl::Time now, std::vector<Datagram>& out, bool whois) {
  std::vector<Held>& list = held_[source];
  if (held_count_ >= kWhoisWaitingPacketsMax || list.size() >= kWhoisWaitingPerSourceMax) {
    if (list.empty()) held_.erase(source);
    return COUNT(whois_dropped);
  }
  bool first = list.empty();
  list.push_back(Held{std::move(packet), from, now});
  ++held_count_;
  COUNT(whois_queued);
  // An address whose identity is being checked needs no WHOIS.
  if (!first || !whois || validating_.contains(source)) return;
  std::string query;
  zt::AppendUint(query, zt::kAddressBytes, source);
  for (uint64_t root : root_addresses_) {
    const Peer& r = peers_.at(root);
    for (const zt::WorldRoot& w : options_.planet.roots) {
      if (w.identity.address == root && !w.endpoints.empty()) {
        Send(r, zt::Verb::kWhois, query, w.endpoints[0], out);
      }
    }
  }
}

void Responder::HandleOk(const Peer& peer, std::string_view payload, absl::Time now,
                         std::vector<Datagram>& out) {
  auto ok = zt::ParseOk(payload);
  if (!ok.ok()) return COUNT(malformed);
  // A node acknowledges a pushed config with OK(ECHO); nothing to do but count it.
  if (ok->in_re_verb == zt::Verb::kEcho) return COUNT(echo_acks);
  // Only roots are trusted to say who an address is.
  if (std::find(root_addresses_.begin(), root_addresses_.end(), peer.identity.address()) ==
      root_addresses_.end()) {
    return;
  }
  if (ok->in_re_verb == zt::Verb::kHello) {
    // The root knows us now (its OK passed our MAC): back to the slow HELLO period.
    root_next_hello_[peer.identity.address()] = now + kRootHelloInterval;
    return;
  }
  if (ok->in_re_verb != zt::Verb::kWhois) return;
  std::string_view rest = ok->body;
  while (rest.size() >= zt::kIdentityBinaryPublicBytes) {
    size_t used = 0;
    auto id = zt::Identity::FromBinary(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(rest.data()), rest.size()), &used);
    if (!id.ok()) break;
    rest.remove_prefix(used);
    auto held = held_.find(id->address());
    if (held == held_.end() || held->second.empty()) continue;
    if (peers_.contains(id->address())) {
      std::vector<Held> list = std::move(held->second);
      held_.erase(held);
      held_count_ -= list.size();
      for (Held& h : list) HandlePacket(std::move(h.packet), h.from, now, out);
      continue;
    }
    if (validating_.contains(id->address())) continue;
    // Checked on the checker thread, charged to where the held packets came from (for
    // relayed ones, the root); they stay held (bounded, with timeout) until it is done.
    if (!StartValidation(*id, held->second[0].from)) COUNT(validate_throttled);
  }
}

void Responder::Send(const Peer& peer, zt::Verb verb, std::string_view payload,
                     const zt::InetAddress& to, std::vector<Datagram>& out) {
  auto packet = zt::BuildPacket(zt::RandomPacketId(), peer.identity.address(), address(), verb,
                                payload, zt::Cipher::kPoly1305Salsa2012, peer.key,
                                /*compress=*/true);
  if (!packet.ok()) return COUNT(internal_errors);
  auto pieces = zt::SplitPacket(*packet);
  if (!pieces.ok()) return COUNT(internal_errors);
  for (std::string& piece : *pieces) out.push_back(Datagram{to, std::move(piece)});
}

void Responder::SendError(const Peer& peer, uint64_t in_re, zt::ErrorCode code, uint64_t nwid,
                          const zt::InetAddress& to, std::vector<Datagram>& out) {
  std::string body;
  zt::AppendUint(body, 8, nwid);
  Send(peer, zt::Verb::kError,
       zt::BuildErrorPayload(zt::Verb::kNetworkConfigRequest, in_re, code, body), to, out);
}

}  // namespace almanac::netconf
