// almanac-bench standby: the warm standby's figures (issue 6): replication lag p50/p99
// at a steady 1,000 admin changes/s, async and sync, and the time from promote to the
// first admin write answered.
//
// Method: a primary and a standby Controller in one process, in homes under --dir,
// linked by the real replication protocol over loopback TCP (ctl/replication). Admin
// changes are member updates (PutMemberCommand: a name change, one MemberChanged event)
// submitted at a fixed rate from 8 threads. Lag of a change = the time the standby has
// applied its record (durable and applied there) minus the time the primary answered
// it (durable on the primary); in sync mode the answer itself waits for the standby, so
// the figure there is the answer latency p50/p99 instead.
//
// Thread safety: runs once per process.
#ifndef ALMANAC_CTL_REPLICATION_STANDBY_BENCH_H_
#define ALMANAC_CTL_REPLICATION_STANDBY_BENCH_H_

namespace almanac::replication {

inline constexpr char kStandbyBenchUsage[] =
    "  standby [--dir=D] [--rate=N] [--seconds=S]\n"
    "          warm standby: lag p50/p99 at N admin changes/s (default 1,000) for S\n"
    "          seconds (default 10), async and sync (answer latency), and the time from\n"
    "          promote to the first admin write answered\n";

int RunStandbyBench(int argc, char** argv);

}  // namespace almanac::replication

#endif  // ALMANAC_CTL_REPLICATION_STANDBY_BENCH_H_
