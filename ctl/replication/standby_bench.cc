#include "ctl/replication/standby_bench.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ctl/commands/member_commands.h"
#include "ctl/commands/network_commands.h"
#include "ctl/controller.h"
#include "ctl/replication/node.h"

namespace almanac::replication {
namespace {

constexpr int kWriters = 8;
constexpr int kMembers = 1000;

struct Args {
  std::string dir = "/tmp";
  int rate = 1000;
  int seconds = 10;
};

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&a](const char* name) -> const char* {
      const std::string prefix = std::string(name) + "=";
      return a.rfind(prefix, 0) == 0 ? a.c_str() + prefix.size() : nullptr;
    };
    if (const char* v = value("--dir")) {
      args->dir = v;
    } else if (const char* v = value("--rate")) {
      if (!absl::SimpleAtoi(v, &args->rate) || args->rate <= 0) return false;
    } else if (const char* v = value("--seconds")) {
      if (!absl::SimpleAtoi(v, &args->seconds) || args->seconds <= 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

std::unique_ptr<ctl::Controller> OpenHome(const std::string& home, bool standby) {
  ctl::ControllerOptions options;
  options.home = home;
  options.seal_interval_records = 0;
  options.seal_interval_seconds = 0;
  options.snapshot_interval_records = 0;
  if (standby) options.standby_reason = "standby";
  absl::StatusOr<std::unique_ptr<ctl::Controller>> c = ctl::Controller::Open(options);
  if (!c.ok()) {
    std::fprintf(stderr, "almanac-bench standby: %s\n", c.status().ToString().c_str());
    return nullptr;
  }
  return std::move(*c);
}

ctl::Command RenameMember(uint64_t nwid, uint64_t address, std::string name) {
  ctl::Actor actor{schema::ActorKind::AdminToken, "bench", "bench"};
  return commands::PutMemberCommand(
      actor, nwid, address,
      [name](const state::MemberConfig& old) -> absl::StatusOr<commands::MemberEditResult> {
        commands::MemberEditResult r;
        r.config = old;
        r.config.name = name;
        if (old.name != name) {
          r.changes.push_back({"name", "\"" + old.name + "\"", "\"" + name + "\""});
        }
        return r;
      },
      /*sets_ip_assignments=*/false, std::make_shared<commands::MemberOutcome>());
}

struct Run {
  std::vector<double> lag_ms;     // standby applied - primary answered
  std::vector<double> answer_ms;  // primary answer latency
  uint64_t changes = 0;
  uint64_t errors = 0;
};

// Submits `rate` changes/s for `seconds` from kWriters threads, paced on a shared clock.
Run Drive(ctl::Controller& primary, ctl::Controller& standby, uint64_t nwid, const Args& args,
          int round) {
  const uint64_t total = static_cast<uint64_t>(args.rate) * args.seconds;
  const uint64_t first_seq = primary.journal()->last_seq() + 1;
  // Apply time on the standby, by seq; generous room (a change writes one record).
  const size_t slots = total * 2 + 1024;
  auto applied_at = std::make_shared<std::vector<std::atomic<int64_t>>>(slots);
  // The sequencer keeps its listeners: this one owns what it touches.
  auto recording = std::make_shared<std::atomic<bool>>(true);
  standby.sequencer()->AddListener(
      [applied_at, first_seq, slots, recording](const std::vector<ctl::AppliedRecord>& recs) {
        if (!*recording) return;
        const int64_t now = absl::GetCurrentTimeNanos();
        for (const ctl::AppliedRecord& r : recs) {
          if (r.seq >= first_seq && r.seq - first_seq < slots) {
            (*applied_at)[r.seq - first_seq].store(now);
          }
        }
      });
  std::vector<std::pair<uint64_t, int64_t>> answered[kWriters];  // seq, ns
  std::vector<double> answer_ms[kWriters];
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> errors{0};
  const absl::Time start = absl::Now();
  const absl::Duration interval = absl::Seconds(1) / args.rate;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (;;) {
        const uint64_t i = next.fetch_add(1);
        if (i >= total) return;
        const absl::Time due = start + interval * static_cast<double>(i);
        const absl::Time now = absl::Now();
        if (due > now) absl::SleepFor(due - now);
        const uint64_t address = 0x4000000000 + i % kMembers;
        const absl::Time t0 = absl::Now();
        absl::StatusOr<ctl::CommitResult> r = primary.sequencer()->Submit(
            RenameMember(nwid, address, absl::StrCat("r", round, "-", i)));
        const int64_t t1 = absl::GetCurrentTimeNanos();
        if (!r.ok() || r->last_seq == 0) {
          errors.fetch_add(1);
          continue;
        }
        answer_ms[w].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
        answered[w].emplace_back(r->last_seq, t1);
      }
    });
  }
  for (auto& t : threads) t.join();
  // Let the standby finish applying.
  const uint64_t last = primary.journal()->last_seq();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (standby.journal()->last_seq() < last && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  absl::SleepFor(absl::Milliseconds(20));
  *recording = false;
  Run run;
  run.errors = errors.load();
  for (int w = 0; w < kWriters; ++w) {
    run.answer_ms.insert(run.answer_ms.end(), answer_ms[w].begin(), answer_ms[w].end());
    for (const auto& [seq, ns] : answered[w]) {
      ++run.changes;
      const int64_t at = seq - first_seq < slots ? (*applied_at)[seq - first_seq].load() : 0;
      if (at == 0) continue;
      run.lag_ms.push_back(std::max<double>(0, static_cast<double>(at - ns) / 1e6));
    }
  }
  return run;
}

}  // namespace

int RunStandbyBench(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr, "usage:\n%s", kStandbyBenchUsage);
    return 2;
  }
  const std::string base = absl::StrCat(args.dir, "/almanac-standby-bench-", ::getpid());
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base + "/primary");
  std::filesystem::create_directories(base + "/standby");
  std::unique_ptr<ctl::Controller> primary = OpenHome(base + "/primary", false);
  if (primary == nullptr) return 1;
  for (const char* f : {"/identity.secret", "/identity.public"}) {
    std::filesystem::copy_file(base + "/primary" + f, base + "/standby" + f);
  }
  std::unique_ptr<ctl::Controller> standby = OpenHome(base + "/standby", true);
  if (standby == nullptr) return 1;

  NodeOptions primary_options;
  primary_options.replication_listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<ReplicationNode>> pnode =
      ReplicationNode::Start(primary_options, primary.get());
  if (!pnode.ok()) {
    std::fprintf(stderr, "almanac-bench standby: %s\n", pnode.status().ToString().c_str());
    return 1;
  }
  NodeOptions standby_options;
  standby_options.standby_of = absl::StrCat("127.0.0.1:", (*pnode)->listen_port());
  absl::StatusOr<std::unique_ptr<ReplicationNode>> snode =
      ReplicationNode::Start(standby_options, standby.get());
  if (!snode.ok()) return 1;

  // One network and kMembers members to rename.
  auto net = std::make_shared<commands::NetworkOutcome>();
  ctl::Actor actor{schema::ActorKind::AdminToken, "bench", "bench"};
  absl::StatusOr<ctl::CommitResult> created = primary->sequencer()->Submit(
      commands::CreateNetworkCommand(
          actor, primary->identity().address(),
          [](const state::NetworkConfig& old) -> absl::StatusOr<commands::NetworkEditResult> {
            commands::NetworkEditResult r;
            r.config = old;
            r.config.name = "bench";
            return r;
          },
          net));
  if (!created.ok()) {
    std::fprintf(stderr, "almanac-bench standby: %s\n", created.status().ToString().c_str());
    return 1;
  }
  for (int m = 0; m < kMembers; ++m) {
    if (!primary->sequencer()->Submit(RenameMember(net->nwid, 0x4000000000 + m, "m")).ok()) {
      return 1;
    }
  }
  std::printf("standby bench: %d changes/s for %d s from %d threads, homes in %s\n",
              args.rate, args.seconds, kWriters, base.c_str());
  std::fflush(stdout);

  Run async = Drive(*primary, *standby, net->nwid, args, 1);
  std::printf("async: %llu changes (%llu errors), standby lag p50 %.2f ms, p99 %.2f ms, "
              "max %.2f ms; primary answer p50 %.2f ms p99 %.2f ms\n",
              static_cast<unsigned long long>(async.changes),
              static_cast<unsigned long long>(async.errors), Percentile(async.lag_ms, 0.5),
              Percentile(async.lag_ms, 0.99), Percentile(async.lag_ms, 1.0),
              Percentile(async.answer_ms, 0.5), Percentile(async.answer_ms, 0.99));
  std::fflush(stdout);

  // Sync mode: the primary's gate waits for the standby's ACK.
  snode->reset();
  pnode->reset();
  primary_options.sync = true;
  primary_options.sync_fallback = SyncFallback::kRefuse;
  pnode = ReplicationNode::Start(primary_options, primary.get());
  if (!pnode.ok()) return 1;
  standby_options.standby_of = absl::StrCat("127.0.0.1:", (*pnode)->listen_port());
  snode = ReplicationNode::Start(standby_options, standby.get());
  if (!snode.ok()) return 1;
  const absl::Time wait_until = absl::Now() + absl::Seconds(10);
  while (standby.get()->journal()->last_seq() < primary->journal()->last_seq() &&
         absl::Now() < wait_until) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  Run sync = Drive(*primary, *standby, net->nwid, args, 2);
  std::printf("sync: %llu changes (%llu errors), answer (durable on both) p50 %.2f ms, "
              "p99 %.2f ms; standby applied after answer p50 %.2f ms p99 %.2f ms\n",
              static_cast<unsigned long long>(sync.changes),
              static_cast<unsigned long long>(sync.errors), Percentile(sync.answer_ms, 0.5),
              Percentile(sync.answer_ms, 0.99), Percentile(sync.lag_ms, 0.5),
              Percentile(sync.lag_ms, 0.99));
  std::fflush(stdout);

  // Promotion: the primary stops; promote the standby; first admin write answered.
  snode->reset();
  pnode->reset();
  standby_options.standby_of = "127.0.0.1:1";  // nothing there: the standby just waits
  snode = ReplicationNode::Start(standby_options, standby.get());
  if (!snode.ok()) return 1;
  const absl::Time t0 = absl::Now();
  absl::StatusOr<nlohmann::json> promoted = (*snode)->Promote();
  const absl::Time t1 = absl::Now();
  absl::StatusOr<ctl::CommitResult> first =
      standby->sequencer()->Submit(RenameMember(net->nwid, 0x4000000000, "after-promote"));
  const absl::Time t2 = absl::Now();
  if (!promoted.ok() || !first.ok()) {
    std::fprintf(stderr, "almanac-bench standby: promotion failed: %s %s\n",
                 promoted.status().ToString().c_str(), first.status().ToString().c_str());
    return 1;
  }
  std::printf("promote: %.2f ms to promoted (epoch %s), %.2f ms to the first admin write "
              "answered (in process; the CLI end to end is measured by failover_test)\n",
              absl::ToDoubleMilliseconds(t1 - t0), (*promoted)["epoch"].dump().c_str(),
              absl::ToDoubleMilliseconds(t2 - t0));
  snode->reset();
  standby.reset();
  primary.reset();
  std::filesystem::remove_all(base);
  return 0;
}

}  // namespace almanac::replication
