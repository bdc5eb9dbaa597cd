// `almanac-bench netconf`: how many NETWORK_CONFIG_REQUESTs the responder answers per
// second, against the machine's Ed25519 signing rate (each answer needs at least one
// signature: the chunk's; the certificate of membership is a second one).
//
// Method, all in one run:
//  1. Ed25519: libsodium crypto_sign_ed25519_detached over 32 bytes on this thread, ~1 s.
//  2. An in-process controller (in_process.h) on a fresh home under --dir (default
//     /var/tmp); network A with P members (P real identities from the identity cache,
//     default 1,000) and network B with 100,000 members: the same P identities plus
//     plain authorized members that never ask. Every member is authorized and has its
//     address already, so answering writes nothing to the journal.
//  3. Warm-up: the node simulator HELLOs every identity (the responder checks each new
//     identity once, memory-hard) and asks once for A and once for B, checking every
//     answer fully (chunk signatures, certificate). The responder's clock is stepped 1 s
//     every 250 ms meanwhile, so its budget of new identities per second does not
//     stretch the warm-up to a minute.
//  4. Measure, per network, for --seconds: rounds in which each of the P members asks
//     once, with W requests in flight; after each round the responder's clock is stepped
//     1 s, so every member asks once per responder-second and none is rate-limited (a
//     dropped request would not be an answer). Only the MAC and the packet are checked
//     here (signature checks would make the client the bottleneck on 2 cores).
// Reported: answers/s (wall clock), p50/p99 from sending a request to its answer, CPU
// seconds the controller's threads and the load generator used per answer, and answers/s
// as a share of the signing rate; the same share per CPU-second (answers per controller
// CPU-second over signatures per CPU-second of the signing loop), which is what a whole
// core each would give: on a loaded machine the wall-clock share mostly measures how much
// of a core each side was given.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "sodium.h"
#include "tools/bench/node/flags.h"
#include "tools/bench/node/identity_cache.h"
#include "tools/bench/node/in_process.h"
#include "tools/bench/node/load.h"
#include "tools/bench/node/node_bench.h"
#include "tools/bench/node/simulator.h"

namespace almanac::bench {
namespace {

constexpr size_t kLargeNetworkMembers = 100000;

double CpuSeconds(int who);

struct SignRate {
  double per_second = 0;      // wall clock, what the target compares with
  double per_cpu_second = 0;  // this thread's CPU time: what a whole core would do
};

SignRate SignaturesPerSecond() {
  ALMANAC_CHECK(sodium_init() >= 0);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_ed25519_keypair(pk, sk);
  unsigned char message[32] = {1, 2, 3}, signature[crypto_sign_BYTES];
  size_t count = 0;
  const absl::Time start = absl::Now();
  const double cpu_start = CpuSeconds(RUSAGE_THREAD);
  absl::Duration elapsed;
  do {
    for (int i = 0; i < 256; ++i, ++count) {
      message[0] = static_cast<unsigned char>(count);
      crypto_sign_ed25519_detached(signature, nullptr, message, sizeof(message), sk);
    }
    elapsed = absl::Now() - start;
  } while (elapsed < absl::Seconds(1));
  const double cpu = std::max(1e-9, CpuSeconds(RUSAGE_THREAD) - cpu_start);
  return SignRate{count / absl::ToDoubleSeconds(elapsed), count / cpu};
}

state::NetworkConfig BenchNetwork(const std::string& name) {
  state::NetworkConfig c;
  c.name = name;
  c.v4_assign_zt = true;
  c.routes = {{"10.0.0.0/8", ""}};
  c.ip_assignment_pools = {{"10.0.0.1", "10.255.255.254"}};
  c.rules_json = R"([{"type":"MATCH_ETHERTYPE","not":true,"etherType":2048},)"
                 R"({"type":"ACTION_DROP"},{"type":"ACTION_ACCEPT"}])";
  return c;
}

// Distinct addresses in 10/8 that avoid .0 and .255.
std::string BenchIp(size_t index) {
  return absl::StrCat("10.", (index / 250 / 256) % 256, ".", (index / 250) % 256, ".",
                      1 + index % 250);
}

absl::Status Populate(InProcessController& c, const std::vector<zt::Identity>& pool,
                      uint64_t small_nwid, uint64_t large_nwid) {
  if (absl::Status s = c.CreateNetwork(small_nwid, BenchNetwork("bench-1k")); !s.ok()) return s;
  if (absl::Status s = c.CreateNetwork(large_nwid, BenchNetwork("bench-100k")); !s.ok()) return s;
  std::vector<NewMember> real;
  absl::flat_hash_set<uint64_t> taken;
  for (size_t i = 0; i < pool.size(); ++i) {
    real.push_back({pool[i].address(), &pool[i], true, BenchIp(i)});
    taken.insert(pool[i].address());
  }
  if (absl::Status s = c.AddMembers(small_nwid, real); !s.ok()) return s;
  std::vector<NewMember> large = real;
  for (uint64_t a = 0x0100000000ull; large.size() < kLargeNetworkMembers; a += 7919) {
    if (!taken.contains(a)) large.push_back({a, nullptr, true, BenchIp(large.size())});
  }
  return c.AddMembers(large_nwid, large);
}

double CpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "almanac-bench netconf: %s: %s\n", what.c_str(),
               std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int RunNetconfBench(int argc, char** argv) {
  auto flags = Flags::Parse(argc, argv, "help seconds pool window identities dir");
  if (!flags.ok()) return Fail("usage", flags.status());
  if (flags->Has("help")) {
    std::fputs(kNetconfUsage, stdout);
    return 0;
  }
  auto seconds = flags->Number("seconds", 5);
  auto pool_size = flags->Number("pool", 1000);
  auto window = flags->Number("window", 32);
  if (!seconds.ok() || !pool_size.ok() || !window.ok() || *pool_size < 1 ||
      *pool_size > 50000 || *window < 1) {
    return Fail("usage", absl::InvalidArgumentError("--seconds, --pool 1..50000, --window"));
  }
  const SignRate sign_rate = SignaturesPerSecond();
  const double signatures = sign_rate.per_second;
  std::printf("Ed25519 signatures/s (libsodium, 32-byte messages, one core): %.0f "
              "(%.0f per CPU-second)\n",
              signatures, sign_rate.per_cpu_second);
  std::fflush(stdout);
  auto pool = LoadOrExtendIdentities(
      flags->String("identities", kDefaultIdentityCache), static_cast<size_t>(*pool_size),
      [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  if (!pool.ok()) return Fail("identities", pool.status());

  std::string dir = flags->String("dir", "/var/tmp") + "/almanac-bench-netconf-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return Fail(dir, absl::InternalError("mkdtemp failed"));
  std::atomic<int64_t> clock_offset_ms{0};
  auto clock = [&clock_offset_ms] {
    return absl::Now() + absl::Milliseconds(clock_offset_ms.load());
  };
  int code = 0;
  {
    auto controller = InProcessController::Start(dir + "/home", clock);
    if (!controller.ok()) return Fail("controller", controller.status());
    InProcessController& c = **controller;
    const uint64_t small_nwid = c.NetworkId(1), large_nwid = c.NetworkId(2);
    absl::Time t0 = absl::Now();
    if (absl::Status s = Populate(c, *pool, small_nwid, large_nwid); !s.ok()) {
      return Fail("populate", s);
    }
    std::printf("populated: %zu + %zu members through the journal in %.1f s\n", pool->size(),
                kLargeNetworkMembers, absl::ToDoubleSeconds(absl::Now() - t0));
    LoadOptions load;
    load.controller_physical = c.address();
    load.controller = zt::Identity(c.identity());
    load.members = *pool;
    load.window = static_cast<size_t>(*window);
    load.duration = absl::Seconds(*seconds);
    load.step_clock = [&clock_offset_ms] { clock_offset_ms += 1000; };
    for (const auto& [nwid, total] :
         {std::pair{small_nwid, pool->size()}, std::pair{large_nwid, kLargeNetworkMembers}}) {
      load.nwid = nwid;
      if (absl::Status s = WarmUp(load); !s.ok()) {
        code = Fail("warm-up", s);
        break;
      }
      const netconf::ResponderCounters before = c.counters();
      const double cpu_process = CpuSeconds(RUSAGE_SELF), cpu_me = CpuSeconds(RUSAGE_THREAD);
      auto result = RunLoad(load);
      if (!result.ok()) {
        code = Fail("load", result.status());
        break;
      }
      const double load_cpu = CpuSeconds(RUSAGE_THREAD) - cpu_me;
      const double controller_cpu = (CpuSeconds(RUSAGE_SELF) - cpu_process) - load_cpu;
      const double answers = static_cast<double>(std::max<uint64_t>(1, result->answered));
      const netconf::ResponderCounters after = c.counters();
      const double rate = result->answered / absl::ToDoubleSeconds(result->elapsed);
      std::printf(
          "%zu members (%zu real identities asking, once per responder-second, %zu in flight):\n"
          "  answered config requests/s: %.0f (%llu answers in %.1f s, %llu unanswered, "
          "%llu rate-limited)\n"
          "  latency p50 %.3f ms, p99 %.3f ms\n"
          "  controller CPU per answer: %.1f us (responder + sequencer threads; %.0f answers "
          "per CPU-second); load generator CPU per answer: %.1f us\n"
          "  answers/s vs signatures/s: %.1f%% (target >= 40%%): %s\n"
          "  per CPU-second (a whole core each, what a loaded machine cannot show in wall "
          "time): answers %.1f%% of signatures\n",
          total, pool->size(), load.window, rate,
          static_cast<unsigned long long>(result->answered),
          absl::ToDoubleSeconds(result->elapsed),
          static_cast<unsigned long long>(result->unanswered),
          static_cast<unsigned long long>(after.rate_limited - before.rate_limited),
          absl::ToDoubleMilliseconds(result->latency_p50),
          absl::ToDoubleMilliseconds(result->latency_p99),
          1e6 * controller_cpu / answers, result->answered / std::max(1e-9, controller_cpu),
          1e6 * load_cpu / answers, 100 * rate / signatures,
          rate >= 0.4 * signatures ? "met" : "NOT met",
          100 * (result->answered / std::max(1e-9, controller_cpu)) / sign_rate.per_cpu_second);
      std::fflush(stdout);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return code;
}

}  // namespace almanac::bench
