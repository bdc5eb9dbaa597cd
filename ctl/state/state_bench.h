// `almanac-bench state`: resident memory per member and snapshot costs for N members
// (default 1,000,000) in one network; see state_bench.cc for what it prints.
#ifndef ALMANAC_CTL_STATE_STATE_BENCH_H_
#define ALMANAC_CTL_STATE_STATE_BENCH_H_

#include <cstddef>
#include <string>

namespace almanac::state {

// argv[0] is the subcommand name; then [members] [dir]. Returns the exit code.
int RunStateBench(int argc, char** argv);

// The same for `members` members with the snapshot file written under `dir` (which must
// exist); `almanac-bench journal` runs it for its start-time and memory figures.
int RunStateBenchWith(size_t members, const std::string& dir);

}  // namespace almanac::state

#endif  // ALMANAC_CTL_STATE_STATE_BENCH_H_
