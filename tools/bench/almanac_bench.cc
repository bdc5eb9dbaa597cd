// almanac-bench: Almanac's benchmarks, each against the physical limit it is bounded by.
// Each subcommand lives beside the code it measures; this file only dispatches.
#include <cstdio>
#include <cstring>
#include <string>

#include "ctl/api/api_bench.h"
#include "ctl/replication/standby_bench.h"
#include "ctl/state/state_bench.h"
#include "journal/journal_bench.h"
#include "tools/bench/node/node_bench.h"

namespace {

// The member count the journal issue's start-time and memory targets are stated for.
constexpr size_t kJournalBenchMembers = 1000000;

constexpr char kUsage[] =
    "almanac-bench: Almanac's benchmarks (build with -c opt).\n"
    "\n"
    "Usage: almanac-bench <benchmark> [arguments]\n"
    "\n"
    "Benchmarks:\n"
    "  journal [--dir=D] [--seconds=S] [--replay_records=N] [--zeroed_logs=false]\n"
    "          [--ratio_rounds=P] [--compare_rounds=R]\n"
    "          raw fdatasync rate of the disk; durable appends/s with 1, 16 and 64\n"
    "          writers (with zeroed log spares as almanacd, unless false); 64 writers\n"
    "          and their floor in P rounds paired with the raw rate (default 8); zeroed\n"
    "          against plain logs in R paired rounds (default 8; 0 skips); replay\n"
    "          (read + verify) records/s over N records; then the state figures\n"
    "          below for 1,000,000 members (start time, memory); each target with\n"
    "          its verdict, met or not\n"
    "  state [members] [dir]\n"
    "          resident memory per member and snapshot serialize/write/load times\n"
    "          for N members (default 1,000,000)\n"
    "  api [--dir=D] [--members=N] [--seconds=S] [--rounds=R]\n"
    "      [--client=raw|httplib] [--zeroed-logs=false]\n"
    "          durable authorize POSTs/s with p50/p99, GET of one member and of the\n"
    "          whole member list, with 1 and 8 keep-alive connections (default 100,000\n"
    "          members); the 8-connection POSTs against floor servers and in R paired\n"
    "          rounds with the thread-per-request floor (default 6); ends with the\n"
    "          targets, met or not\n";

std::string Usage() {
  return std::string(kUsage) + almanac::bench::kNodeUsage + almanac::bench::kNetconfUsage +
         almanac::replication::kStandbyBenchUsage;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(Usage().c_str(), argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "journal") == 0) {
    // One run prints every figure of the journal's acceptance: the journal's own, then
    // start time with a 1,000,000-member snapshot and memory per member from the state.
    return almanac::journal::RunJournalBench(argc - 1, argv + 1, [](const std::string& dir) {
      std::printf("\nstate with %zu members (start time and memory per member):\n",
                  kJournalBenchMembers);
      std::fflush(stdout);
      return almanac::state::RunStateBenchWith(kJournalBenchMembers, dir);
    });
  }
  if (std::strcmp(argv[1], "state") == 0) {
    return almanac::state::RunStateBench(argc - 1, argv + 1);
  }
  if (std::strcmp(argv[1], "api") == 0) {
    return almanac::api::RunApiBench(argc - 1, argv + 1);
  }
  if (std::strcmp(argv[1], "standby") == 0) {
    return almanac::replication::RunStandbyBench(argc - 1, argv + 1);
  }
  if (std::strcmp(argv[1], "node") == 0) {
    return almanac::bench::RunNodeBench(argc - 1, argv + 1);
  }
  if (std::strcmp(argv[1], "netconf") == 0) {
    return almanac::bench::RunNetconfBench(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "almanac-bench: unknown benchmark '%s' (see --help)\n", argv[1]);
  return 2;
}
