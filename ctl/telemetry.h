// Per-member telemetry: what the controller last learned about a member's node from its
// network config requests (last seen time, physical address, software and protocol
// versions).
//
// Telemetry is not an event (shared/docs/design.md, "Events"): it changes on every
// request and would drown the journal. It lives only in memory beside the state; the
// netconf responder writes it and the admin API reads it (members render vMajor, vMinor,
// vRev, vProto, lastSeen and physicalAddress from it; -1 / null until the first request).
//
// Bounded: at most `entries_max` members are tracked (the map is keyed by outside input,
// node addresses). A sighting of a new member when full is dropped and counted, never
// stored; EvictOlderThan and Forget make room.
//
// Thread safety: every method may be called from any thread (one internal mutex).
#ifndef ALMANAC_CTL_TELEMETRY_H_
#define ALMANAC_CTL_TELEMETRY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace almanac::ctl {

// Default bound on tracked members: about 100 bytes each, so 1 Mi entries cost ~100 MB
// at most, and cover far more members than one controller serves.
inline constexpr size_t kTelemetryEntriesMax = size_t{1} << 20;
// Longest physical address text kept ("[ipv6]/port" is under 64 bytes); longer text is
// cut, since it comes from the network.
inline constexpr size_t kTelemetryPhysicalAddressBytesMax = 64;

struct MemberTelemetry {
  int64_t last_seen_ms = 0;       // Unix ms of the last request; 0 = never
  std::string physical_address;   // "10.99.0.2/9992"; "" = unknown
  int32_t version_major = -1;     // -1 = unknown (ZeroTier's vMajor)
  int32_t version_minor = -1;
  int32_t version_revision = -1;
  int32_t protocol_version = -1;  // vProto

  bool operator==(const MemberTelemetry& o) const {
    return last_seen_ms == o.last_seen_ms && physical_address == o.physical_address &&
           version_major == o.version_major && version_minor == o.version_minor &&
           version_revision == o.version_revision && protocol_version == o.protocol_version;
  }
};

class Telemetry {
 public:
  // REQUIRES: entries_max > 0.
  explicit Telemetry(size_t entries_max = kTelemetryEntriesMax);
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // Stores `sighting` as the member's telemetry (replacing what was there). Returns true
  // when stored; false when the member is not tracked yet and the table is full (the
  // sighting is dropped and counted in dropped()). physical_address is cut to
  // kTelemetryPhysicalAddressBytesMax bytes.
  bool Record(uint64_t nwid, uint64_t address, MemberTelemetry sighting);

  // The member's telemetry, or nullopt when none was recorded (or it was evicted).
  std::optional<MemberTelemetry> Get(uint64_t nwid, uint64_t address) const;

  // Drops one member's entry / every entry of a network (after a delete). No-op if absent.
  void Forget(uint64_t nwid, uint64_t address);
  void ForgetNetwork(uint64_t nwid);

  // Drops entries last seen before cutoff_ms; returns how many. O(entries).
  size_t EvictOlderThan(int64_t cutoff_ms);

  size_t size() const;
  size_t entries_max() const { return entries_max_; }
  uint64_t dropped() const;  // sightings refused because the table was full

 private:
  struct Key {
    uint64_t nwid;
    uint64_t address;
    bool operator==(const Key& o) const { return nwid == o.nwid && address == o.address; }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.nwid, k.address);
    }
  };

  const size_t entries_max_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, MemberTelemetry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace almanac::ctl

#endif  // ALMANAC_CTL_TELEMETRY_H_
