// `almanac-bench state`: resident memory per member and snapshot costs for N members
// (default 1,000,000) in one network; see state_bench.cc for what it prints.
#ifndef ALMANAC_CTL_STATE_STATE_BENCH_H_
#define ALMANAC_CTL_STATE_STATE_BENCH_H_

namespace almanac::state {

// argv[0] is the subcommand name; then [members] [dir]. Returns the exit code.
int RunStateBench(int argc, char** argv);

}  // namespace almanac::state

#endif  // ALMANAC_CTL_STATE_STATE_BENCH_H_
