// `almanac-bench node`: see kNodeUsage in node_bench.h.
#include "tools/bench/node/node_bench.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ctl/zt/identity.h"
#include "tools/bench/node/flags.h"
#include "tools/bench/node/identity_cache.h"
#include "tools/bench/node/limits.h"
#include "tools/bench/node/simulator.h"
#include "tools/bench/node/udp.h"

namespace almanac::bench {
namespace {

constexpr size_t kIdentityTextBytesMax = 4096;

absl::StatusOr<std::string> ReadSmall(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string text(kIdentityTextBytesMax, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  return text;
}

// --controller-identity (text, or a file holding it), else --home DIR/identity.public.
absl::StatusOr<zt::Identity> ControllerIdentity(const Flags& flags) {
  std::string text = flags.String("controller-identity", "");
  if (text.empty() && flags.Has("home")) text = flags.String("home", "") + "/identity.public";
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "the controller's public identity is needed: --controller-identity FILE|TEXT or "
        "--home DIR (publicIdentity of `almanac status` works as TEXT)");
  }
  auto identity = zt::Identity::FromString(text);
  if (!identity.ok()) {
    auto file = ReadSmall(text);
    if (!file.ok()) return identity.status();
    identity = zt::Identity::FromString(*file);
    if (!identity.ok()) return identity.status();
  }
  // A node checks the controller's identity once too (memory-hard, ~20 ms).
  if (absl::Status s = identity->Validate(); !s.ok()) return s;
  return zt::Identity::FromString(identity->ToString(/*include_secret=*/false));
}

absl::Duration Percentile(std::vector<absl::Duration> v, double p) {
  if (v.empty()) return absl::ZeroDuration();
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

void Print(const SimulationReport& report) {
  std::printf("%-10s %-16s %-13s %-7s %-6s %-10s %s\n", "member", "network", "status",
              "routes", "rules", "latency", "ips / detail");
  std::map<SimStatus, size_t> counts;
  std::vector<absl::Duration> latencies;
  for (const MemberResult& m : report.members) {
    ++counts[m.status];
    std::string what = m.status == SimStatus::kOk ? absl::StrJoin(m.config.ips, ",") : m.detail;
    std::string latency = "-";
    if (m.status != SimStatus::kNoAnswer) {
      latencies.push_back(m.latency);
      char text[32];
      std::snprintf(text, sizeof(text), "%.2f ms", absl::ToDoubleMilliseconds(m.latency));
      latency = text;
    }
    std::printf("%010llx %016llx %-13s %-7zu %-6zu %-10s %s\n",
                static_cast<unsigned long long>(m.address),
                static_cast<unsigned long long>(m.nwid), SimStatusName(m.status),
                m.config.routes, m.config.rules, latency.c_str(), what.c_str());
  }
  std::printf("\nsummary: %zu members in %.1f s:", report.members.size(),
              absl::ToDoubleSeconds(report.elapsed));
  for (const auto& [status, n] : counts) std::printf(" %s %zu", SimStatusName(status), n);
  std::printf("\n  HELLOs sent %llu, requests sent %llu, pushes seen %llu, rejected packets "
              "%llu\n  answer latency p50 %.2f ms, p99 %.2f ms (from the answered request)\n",
              static_cast<unsigned long long>(report.hellos_sent),
              static_cast<unsigned long long>(report.requests_sent),
              static_cast<unsigned long long>(report.pushes_seen),
              static_cast<unsigned long long>(report.packets_rejected),
              absl::ToDoubleMilliseconds(Percentile(latencies, 0.5)),
              absl::ToDoubleMilliseconds(Percentile(latencies, 0.99)));
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "almanac-bench node: %s\n", std::string(status.message()).c_str());
  return absl::IsInvalidArgument(status) ? 2 : 1;
}

}  // namespace

int RunNodeBench(int argc, char** argv) {
  auto flags = Flags::Parse(argc, argv,
                            "help controller network members identities seconds sockets "
                            "hello-rate controller-identity home");
  if (!flags.ok()) return Fail(flags.status());
  if (flags->Has("help")) {
    std::fputs(kNodeUsage, stdout);
    return 0;
  }
  auto controller = ParseHostPort(flags->String("controller", ""));
  uint64_t nwid = 0;
  if (!absl::SimpleHexAtoi(flags->String("network", ""), &nwid) || nwid == 0) {
    return Fail(absl::InvalidArgumentError("--network NWID (16 hex digits) is needed"));
  }
  auto members = flags->Number("members", 1);
  auto seconds = flags->Number("seconds", 0);
  auto sockets = flags->Number("sockets", 4);
  auto rate = flags->Number("hello-rate", 4);
  for (const absl::Status& s : {controller.status(), members.status(), seconds.status(),
                                sockets.status(), rate.status()}) {
    if (!s.ok()) return Fail(s);
  }
  if (*members < 1 || *members > kSimMembersMax) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("--members 1..", kSimMembersMax)));
  }
  auto identity = ControllerIdentity(*flags);
  if (!identity.ok()) return Fail(identity.status());
  SimulatorOptions options;
  options.controller_physical = *controller;
  options.controller = *identity;
  options.sockets = static_cast<size_t>(*sockets);
  options.hellos_per_second_per_socket = *rate;
  auto ids = LoadOrExtendIdentities(
      flags->String("identities", kDefaultIdentityCache), static_cast<size_t>(*members),
      [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  if (!ids.ok()) return Fail(ids.status());
  options.members = *std::move(ids);
  options.nwids.assign(options.members.size(), nwid);
  // Default: enough for every HELLO at the controller's identity budget, plus slack.
  const double budget_per_second = std::min(16.0, options.sockets * *rate);
  options.timeout = absl::Seconds(*seconds > 0 ? *seconds
                                               : 10 + options.members.size() / budget_per_second);
  auto report = RunSimulation(options);
  if (!report.ok()) return Fail(report.status());
  Print(*report);
  for (const MemberResult& m : report->members) {
    if (m.status == SimStatus::kNoAnswer || m.status == SimStatus::kBadConfig) return 1;
  }
  return 0;
}

}  // namespace almanac::bench
