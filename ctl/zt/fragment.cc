#include "ctl/zt/fragment.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/zt/packet.h"
#include "ctl/zt/wire.h"

namespace almanac::zt {

absl::StatusOr<std::vector<std::string>> SplitPacket(std::string_view packet) {
  if (packet.size() < kPacketBytesMin || packet.size() > kPacketBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot send a packet of ", packet.size(), " bytes"));
  }
  std::vector<std::string> out;
  if (packet.size() <= kDatagramBytesMax) {
    out.emplace_back(packet);
    return out;
  }
  const uint8_t flags = static_cast<uint8_t>(packet[kFlagsOffset]);
  if ((flags & kFlagFragmented) == 0) {
    return absl::InvalidArgumentError("packet needs fragments but lacks the fragmented flag");
  }
  const size_t rest = packet.size() - kDatagramBytesMax;
  const size_t total = 1 + (rest + kFragmentDataBytesMax - 1) / kFragmentDataBytesMax;
  ALMANAC_CHECK(total <= kFragmentsMax);  // Follows from kPacketBytesMax.
  out.emplace_back(packet.substr(0, kDatagramBytesMax));
  for (size_t number = 1; number < total; ++number) {
    std::string fragment(packet.substr(0, 13));  // Packet id and destination.
    fragment.push_back(static_cast<char>(kFragmentIndicator));
    fragment.push_back(static_cast<char>((total << 4) | number));
    fragment.push_back(static_cast<char>(flags & kFlagsHopsMask));
    const size_t start = kDatagramBytesMax + (number - 1) * kFragmentDataBytesMax;
    fragment.append(packet.substr(start, kFragmentDataBytesMax));
    out.push_back(std::move(fragment));
  }
  return out;
}

std::optional<std::string> Reassembler::Add(std::string_view source,
                                            std::string_view datagram, absl::Time now) {
  Expire(now);
  if (datagram.size() < kFragmentHeaderBytes) {
    ++stats_.runts;  // Hole-punch junk and the like.
    return std::nullopt;
  }
  if (datagram.size() > kPacketBytesMax) {
    ++stats_.oversized;
    return std::nullopt;
  }
  const uint64_t packet_id = LoadUint(datagram.data(), 8);
  if (static_cast<uint8_t>(datagram[kFragmentIndicatorOffset]) == kFragmentIndicator) {
    const uint8_t count = static_cast<uint8_t>(datagram[14]);
    const uint8_t total = count >> 4;
    const size_t number = count & 0x0f;
    if (total < 2 || total > kFragmentsMax || number == 0 || number >= total) {
      ++stats_.inconsistent;
      return std::nullopt;
    }
    return AddPiece(source, packet_id, number, total, datagram.substr(kFragmentHeaderBytes),
                    now);
  }
  if (datagram.size() < kPacketBytesMin) {
    ++stats_.runts;
    return std::nullopt;
  }
  if ((static_cast<uint8_t>(datagram[kFlagsOffset]) & kFlagFragmented) == 0) {
    ++stats_.packets_whole;
    return std::string(datagram);
  }
  return AddPiece(source, packet_id, 0, 0, datagram, now);
}

std::optional<std::string> Reassembler::AddPiece(std::string_view source,
                                                 uint64_t packet_id, size_t number,
                                                 uint8_t total, std::string_view bytes,
                                                 absl::Time now) {
  ALMANAC_CHECK(number < kFragmentsMax);
  Pending* p = FindOrMake(source, packet_id, now);
  if (total != 0) {
    if (p->total != 0 && p->total != total) {
      ++stats_.inconsistent;
      return std::nullopt;
    }
    p->total = total;
  }
  const uint8_t bit = static_cast<uint8_t>(1u << number);
  if ((p->have_mask & bit) != 0) {
    ++stats_.duplicates;
    return std::nullopt;
  }
  if (p->bytes + bytes.size() > kPacketBytesMax) {
    // The packet can never be valid: drop what is held too.
    ++stats_.oversized;
    Erase(Key(std::string(source), packet_id));
    return std::nullopt;
  }
  p->pieces[number] = std::string(bytes);
  p->have_mask |= bit;
  p->bytes += bytes.size();
  if (p->total == 0 || p->have_mask != (1u << p->total) - 1) return std::nullopt;
  std::string packet;
  packet.reserve(p->bytes);
  for (size_t i = 0; i < p->total; ++i) packet.append(p->pieces[i]);
  Erase(Key(std::string(source), packet_id));
  ++stats_.packets_completed;
  return packet;
}

Reassembler::Pending* Reassembler::FindOrMake(std::string_view source, uint64_t packet_id,
                                              absl::Time now) {
  Key key(std::string(source), packet_id);
  auto it = pending_.find(key);
  if (it != pending_.end()) return &it->second;
  auto per_source = pending_per_source_.find(key.first);
  if (per_source != pending_per_source_.end() &&
      per_source->second >= kReassemblyPacketsPerSourceMax) {
    EvictOldest(source);
  }
  if (pending_.size() >= kReassemblyPacketsMax) EvictOldest(std::string_view());
  ALMANAC_CHECK(pending_.size() < kReassemblyPacketsMax);
  ++pending_per_source_[key.first];
  Pending& p = pending_[key];
  p.first_seen = now;
  return &p;
}

void Reassembler::Expire(absl::Time now) {
  std::vector<Key> stale;
  for (const auto& [key, p] : pending_) {
    if (now - p.first_seen > kReassemblyTimeout) stale.push_back(key);
  }
  for (const Key& key : stale) {
    ++stats_.expired_packets;
    Erase(key);
  }
}

// An empty source_only means any source: a real source name is never empty in practice,
// and if one were, evicting among all sources is still correct.
void Reassembler::EvictOldest(std::string_view source_only) {
  const Key* oldest = nullptr;
  absl::Time oldest_time = absl::InfiniteFuture();
  for (const auto& [key, p] : pending_) {
    if (!source_only.empty() && key.first != source_only) continue;
    if (p.first_seen < oldest_time) {
      oldest_time = p.first_seen;
      oldest = &key;
    }
  }
  if (oldest == nullptr) return;
  ++stats_.evicted_packets;
  Erase(Key(*oldest));
}

void Reassembler::Erase(const Key& key) {
  if (pending_.erase(key) == 0) return;
  auto it = pending_per_source_.find(key.first);
  ALMANAC_CHECK(it != pending_per_source_.end() && it->second > 0);
  if (--it->second == 0) pending_per_source_.erase(it);
}

}  // namespace almanac::zt
