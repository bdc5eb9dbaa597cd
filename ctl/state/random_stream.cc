#include "ctl/state/random_stream.h"

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace almanac::state::testing {
namespace {

uint64_t Pick(std::mt19937_64& rng, uint64_t n) { return rng() % n; }
bool Coin(std::mt19937_64& rng) { return rng() & 1; }

std::string RandomIp(std::mt19937_64& rng) {
  if (Pick(rng, 4) == 0) return absl::StrCat("fd00::", Pick(rng, 64));
  return absl::StrCat("10.147.", Pick(rng, 4), ".", Pick(rng, 16));
}

// A random existing member of `network`, or nullptr when it has none.
const Member* AnyMember(std::mt19937_64& rng, const State& state, uint64_t nwid) {
  std::vector<const Member*> members = state.MembersSorted(nwid);
  if (members.empty()) return nullptr;
  return members[Pick(rng, members.size())];
}

// One valid record for `state`, made by `maker`.
std::string NextRecord(std::mt19937_64& rng, const State& state, RecordMaker& maker) {
  if (state.last_seq() == 0) return maker.ControllerInitialized(TestIdentity(0x1122334455));
  std::vector<uint64_t> nwids = state.NetworkIdsSorted();
  const uint64_t roll = Pick(rng, 100);
  if (nwids.empty() || roll < 4) {
    uint64_t nwid = 0x1122334455000000ull + Pick(rng, 8);
    if (state.FindNetwork(nwid) == nullptr) {
      return maker.NetworkCreated(nwid, RandomNetworkConfig(rng));
    }
  }
  if (roll < 2) return maker.Seal(state.last_seq());
  if (roll < 3) return maker.EpochStarted(state.epoch() + Pick(rng, 2));
  const uint64_t nwid = nwids[Pick(rng, nwids.size())];
  if (roll < 8) return maker.NetworkChanged(nwid, RandomNetworkConfig(rng));
  if (roll < 9) return maker.NetworkDeleted(nwid);
  const uint64_t address = 0x0100000000ull + Pick(rng, 40);
  const Member* existing = state.FindMember(nwid, address);
  if (roll < 25) return maker.MemberJoined(nwid, address, TestIdentity(address));
  if (existing == nullptr && roll < 40) {
    return maker.MemberCreated(nwid, address, RandomMemberConfig(rng));
  }
  const Member* member = existing != nullptr ? existing : AnyMember(rng, state, nwid);
  if (member == nullptr) return maker.MemberJoined(nwid, address, TestIdentity(address));
  switch (Pick(rng, 7)) {
    case 0:
      return maker.MemberAuthorized(nwid, member->address, Coin(rng) ? "api" : "public");
    case 1:
      return maker.MemberDeauthorized(nwid, member->address);
    case 2:
      return maker.MemberChanged(nwid, member->address, RandomMemberConfig(rng));
    case 3:
      return maker.MemberDeleted(nwid, member->address);
    case 4:
      if (!member->config.ip_assignments.empty() && Coin(rng)) {
        const auto& ips = member->config.ip_assignments;
        return maker.IpReleased(nwid, member->address, ips[Pick(rng, ips.size())]);
      }
      return maker.IpReleased(nwid, member->address, RandomIp(rng));
    default:
      return maker.IpAssigned(nwid, member->address, RandomIp(rng));
  }
}

}  // namespace

NetworkConfig RandomNetworkConfig(std::mt19937_64& rng) {
  NetworkConfig c;
  c.name = Coin(rng) ? "" : absl::StrCat("net-", Pick(rng, 1000));
  c.private_network = Coin(rng);
  c.enable_broadcast = Coin(rng);
  c.multicast_limit = static_cast<uint32_t>(Pick(rng, 64));
  c.mtu = static_cast<uint32_t>(1280 + Pick(rng, 8720));
  c.v4_assign_zt = Coin(rng);
  c.v6_assign_rfc4193 = Coin(rng);
  c.v6_assign_zt = Coin(rng);
  c.v6_assign_6plane = Coin(rng);
  for (uint64_t i = Pick(rng, 3); i > 0; --i) {
    c.routes.push_back({absl::StrCat("10.", Pick(rng, 255), ".0.0/16"),
                        Coin(rng) ? "" : "10.147.0.1"});
  }
  for (uint64_t i = Pick(rng, 3); i > 0; --i) {
    c.ip_assignment_pools.push_back({"10.147.0.1", absl::StrCat("10.147.3.", Pick(rng, 255))});
  }
  if (Coin(rng)) c.rules_json = R"([{"type":"ACTION_DROP"}])";
  if (Coin(rng)) c.capabilities_json = R"([{"id":1,"rules":[]}])";
  if (Coin(rng)) c.tags_json = R"([{"id":1,"default":0}])";
  if (Coin(rng)) c.dns = Dns{Coin(rng) ? "" : "example.com", {}};
  if (c.dns.has_value() && Coin(rng)) c.dns->servers = {"10.147.0.1", "fd00::53"};
  if (Coin(rng)) c.remote_trace_target = "1122334455";
  c.remote_trace_level = static_cast<int32_t>(Pick(rng, 3));
  if (Coin(rng)) c.rules_source = "accept;";
  c.sso_enabled = Coin(rng);
  return c;
}

MemberConfig RandomMemberConfig(std::mt19937_64& rng) {
  MemberConfig c;
  c.authorized = Coin(rng);
  c.active_bridge = Coin(rng);
  c.no_auto_assign_ips = Coin(rng);
  c.sso_exempt = Coin(rng);
  c.remote_trace_level = static_cast<int32_t>(Pick(rng, 3));
  for (uint64_t i = Pick(rng, 3); i > 0; --i) c.ip_assignments.push_back(RandomIp(rng));
  for (uint64_t i = Pick(rng, 3); i > 0; --i) {
    c.tags.emplace_back(static_cast<uint32_t>(Pick(rng, 10)), static_cast<uint32_t>(rng()));
  }
  for (uint64_t i = Pick(rng, 3); i > 0; --i) {
    c.capabilities.push_back(static_cast<uint32_t>(Pick(rng, 100)));
  }
  if (Coin(rng)) c.name = absl::StrCat("host-", Pick(rng, 1000));
  if (Coin(rng)) c.remote_trace_target = "1122334455";
  return c;
}

std::vector<std::string> RandomStream(uint64_t seed, size_t count) {
  std::mt19937_64 rng(seed);
  RecordMaker maker;
  State state;
  std::vector<std::string> records;
  records.reserve(count);
  while (records.size() < count) {
    std::string record = NextRecord(rng, state, maker);
    absl::Status status = ApplyBuffer(state, record);
    ALMANAC_CHECK_MSG(status.ok(), "the random stream made an invalid record");
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace almanac::state::testing
