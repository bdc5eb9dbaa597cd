// `almanac-bench journal`: the journal's durable append and replay rates against the
// disk's own fdatasync rate (see journal_bench.cc for what it prints). Runs for about
// half a minute and writes ~1,000,000 records under --dir.
#ifndef ALMANAC_JOURNAL_JOURNAL_BENCH_H_
#define ALMANAC_JOURNAL_JOURNAL_BENCH_H_

#include <functional>
#include <string>

namespace almanac::journal {

// argv[0] is the subcommand name; flags follow (absl flags). Returns the exit code.
// `more`, when set, runs last with the scratch directory (before it is removed) and its
// exit code is returned: almanac-bench adds the start time with a 1,000,000-member
// snapshot and the memory per member there, measurements of ctl/state that journal/
// cannot depend on but that the issue wants in the same run.
int RunJournalBench(int argc, char** argv,
                    const std::function<int(const std::string& dir)>& more = nullptr);

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_JOURNAL_BENCH_H_
