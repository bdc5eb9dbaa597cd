// Benchmark: resident memory per member and snapshot costs at scale.
//
// Builds one network with N members (default 1,000,000) the realistic way, through the
// projector: MemberJoined (identity), MemberAuthorized, IpAssigned for each. Then reports
// RSS per member (from /proc/self/statm, before and after), and the time to serialize,
// write (serialize + hash + fsync + rename), load (read + hash + verify + build the
// State) and verify a snapshot.
//
// Usage: almanac-bench state [members] [dir]   (dir defaults to $TMPDIR or /tmp)
// Build with -c opt for meaningful figures.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/state/snapshot.h"
#include "ctl/state/state_bench.h"
#include "ctl/state/test_records.h"

namespace almanac::state {
namespace {

// The targets for 1,000,000 members.
constexpr double kStartSecondsMax = 3;
constexpr double kBytesPerMemberMax = 512;

double ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long total_pages = 0, resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Apply(State& state, const std::string& record) {
  absl::Status status = testing::ApplyBuffer(state, record);
  ALMANAC_CHECK_MSG(status.ok(), std::string(status.message()).c_str());
}

int Run(size_t members, const std::string& dir) {
  const uint64_t nwid = 0x1122334455000001ull;
  testing::RecordMaker maker;
  State state;
  Apply(state, maker.ControllerInitialized(testing::TestIdentity(0x1122334455)));
  NetworkConfig config;
  config.name = "bench";
  config.v4_assign_zt = true;
  config.ip_assignment_pools = {{"10.0.0.1", "10.255.255.254"}};
  config.routes = {{"10.0.0.0/8", ""}};
  Apply(state, maker.NetworkCreated(nwid, config));

  const double rss_before = ResidentBytes();
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < members; ++i) {
    const uint64_t address = 0x0100000000ull + i * 7919;
    Apply(state, maker.MemberJoined(nwid, address, testing::TestIdentity(address)));
    Apply(state, maker.MemberAuthorized(nwid, address, "api"));
    Apply(state, maker.IpAssigned(nwid, address,
                                  absl::StrCat("10.", (i >> 16) & 255, ".", (i >> 8) & 255,
                                               ".", i & 255)));
  }
  const double apply_s = SecondsSince(start);
  const double rss_after = ResidentBytes();
  std::printf("members: %zu\n", members);
  std::printf("apply (make + verify + apply) %zu records: %.2f s (%.0f records/s)\n",
              3 * members, apply_s, 3 * members / apply_s);
  std::printf("sizeof(Member) %zu, map node (pair) %zu\n", sizeof(Member),
              sizeof(MemberMap::value_type));
  const double bytes_per_member = (rss_after - rss_before) / static_cast<double>(members);
  std::printf("resident memory per member (incl. hash map): %.0f bytes\n", bytes_per_member);

  start = std::chrono::steady_clock::now();
  std::string payload = SerializeState(state);
  std::printf("serialize: %.3f s, payload %.1f MB\n", SecondsSince(start), payload.size() / 1e6);

  start = std::chrono::steady_clock::now();
  absl::StatusOr<State> verified = DeserializeState(payload);
  ALMANAC_CHECK(verified.ok());
  std::printf("verify + deserialize from memory: %.3f s\n", SecondsSince(start));
  ALMANAC_CHECK(*verified == state);
  verified = State();
  payload = std::string();

  start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> path = WriteSnapshotFile(dir, state);
  ALMANAC_CHECK_MSG(path.ok(), std::string(path.status().message()).c_str());
  std::printf("write snapshot file (serialize + hash + fsync + rename): %.3f s -> %s\n",
              SecondsSince(start), path->c_str());

  start = std::chrono::steady_clock::now();
  absl::StatusOr<LoadedSnapshot> loaded = LoadNewestSnapshot(dir);
  const double load_s = SecondsSince(start);
  ALMANAC_CHECK(loaded.ok() && loaded->state.has_value());
  // The start cost that grows with the members: the journal is verified only after the
  // snapshot's seq (JournalOptions::verify_from_seq), so the tail is what remains.
  std::printf("start with a snapshot of %zu members = load newest snapshot (read + hash + "
              "verify + build state): %.3f s\n",
              members, load_s);
  ALMANAC_CHECK(*loaded->state == state);
  std::printf("loaded state equals the original: yes\n");
  ALMANAC_CHECK(std::remove(path->c_str()) == 0);
  // The targets, stated for 1,000,000 members.
  std::printf("target: start with %zu members under %.0f s: %.2f s: %s\n", members,
              kStartSecondsMax, load_s, load_s < kStartSecondsMax ? "met" : "NOT met");
  std::printf("target: at most %.0f bytes per member: %.0f: %s\n", kBytesPerMemberMax,
              bytes_per_member, bytes_per_member <= kBytesPerMemberMax ? "met" : "NOT met");
  return 0;
}

}  // namespace

int RunStateBench(int argc, char** argv) {
  size_t members = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  std::string dir;
  if (argc > 2) {
    dir = argv[2];
  } else {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp != nullptr ? tmp : "/tmp";
  }
  return Run(members, dir);
}

int RunStateBenchWith(size_t members, const std::string& dir) { return Run(members, dir); }

}  // namespace almanac::state
