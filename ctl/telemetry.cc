#include "ctl/telemetry.h"

#include <utility>

#include "base/check.h"

namespace almanac::ctl {

Telemetry::Telemetry(size_t entries_max) : entries_max_(entries_max) {
  ALMANAC_CHECK(entries_max_ > 0);
}

bool Telemetry::Record(uint64_t nwid, uint64_t address, MemberTelemetry sighting) {
  if (sighting.physical_address.size() > kTelemetryPhysicalAddressBytesMax) {
    sighting.physical_address.resize(kTelemetryPhysicalAddressBytesMax);
  }
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key{nwid, address});
  if (it != entries_.end()) {
    it->second = std::move(sighting);
    return true;
  }
  if (entries_.size() >= entries_max_) {
    ++dropped_;
    return false;
  }
  entries_.emplace(Key{nwid, address}, std::move(sighting));
  ALMANAC_CHECK(entries_.size() <= entries_max_);
  return true;
}

std::optional<MemberTelemetry> Telemetry::Get(uint64_t nwid, uint64_t address) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key{nwid, address});
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void Telemetry::Forget(uint64_t nwid, uint64_t address) {
  absl::MutexLock lock(&mu_);
  entries_.erase(Key{nwid, address});
}

void Telemetry::ForgetNetwork(uint64_t nwid) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(entries_, [nwid](const auto& kv) { return kv.first.nwid == nwid; });
}

size_t Telemetry::EvictOlderThan(int64_t cutoff_ms) {
  absl::MutexLock lock(&mu_);
  const size_t before = entries_.size();
  absl::erase_if(entries_,
                 [cutoff_ms](const auto& kv) { return kv.second.last_seen_ms < cutoff_ms; });
  return before - entries_.size();
}

size_t Telemetry::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

uint64_t Telemetry::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace almanac::ctl
