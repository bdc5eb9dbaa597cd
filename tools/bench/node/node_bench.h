// `almanac-bench node` and `almanac-bench netconf`: entry points for the dispatcher in
// tools/bench/almanac_bench.cc. Each takes argv[0] = the subcommand name and returns the
// process exit code (0 ok, 1 failure, 2 usage).
#ifndef ALMANAC_TOOLS_BENCH_NODE_NODE_BENCH_H_
#define ALMANAC_TOOLS_BENCH_NODE_NODE_BENCH_H_

namespace almanac::bench {

// N simulated members against a running controller (simulator.h); prints one line per
// member and a summary.
int RunNodeBench(int argc, char** argv);

// Answered config requests/s and latency with 1,000 and 100,000 members against an
// in-process controller, next to this machine's Ed25519 signatures/s (netconf_bench.cc).
int RunNetconfBench(int argc, char** argv);

inline constexpr char kNodeUsage[] =
    "  node --controller HOST:PORT --network NWID --members N\n"
    "       [--controller-identity FILE|TEXT | --home DIR] [--identities FILE]\n"
    "       [--seconds S] [--sockets K] [--hello-rate R]\n"
    "          N simulated ZeroTier 1.14.1 members (real identities, cached in FILE,\n"
    "          default /var/tmp/almanac-bench-identities.txt) HELLO the controller, ask\n"
    "          for NWID's config, check every chunk signature and the certificate, and\n"
    "          report what each got. The controller's public identity comes from\n"
    "          --controller-identity, or DIR/identity.public, or `almanac status`\n"
    "          (publicIdentity). R = HELLOs/s per socket (default 4, the controller's\n"
    "          per-source budget)\n";

inline constexpr char kNetconfUsage[] =
    "  netconf [--seconds S] [--pool P] [--window W] [--identities FILE] [--dir D]\n"
    "          answered config requests/s and p50/p99 latency with 1,000 and 100,000\n"
    "          members (in-process controller on loopback, P real identities, default\n"
    "          1,000, W requests in flight, default 32, S seconds per size, default 5),\n"
    "          next to Ed25519 signatures/s measured in the same run\n";

}  // namespace almanac::bench

#endif  // ALMANAC_TOOLS_BENCH_NODE_NODE_BENCH_H_
