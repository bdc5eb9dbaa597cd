// `almanac-bench journal`: the journal's durable append and replay rates against the
// disk's own fdatasync rate (see journal_bench.cc for what it prints). Runs for about
// half a minute and writes ~1,000,000 records under --dir.
#ifndef ALMANAC_JOURNAL_JOURNAL_BENCH_H_
#define ALMANAC_JOURNAL_JOURNAL_BENCH_H_

namespace almanac::journal {

// argv[0] is the subcommand name; flags follow (absl flags). Returns the exit code.
int RunJournalBench(int argc, char** argv);

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_JOURNAL_BENCH_H_
