// `almanac-bench journal`: the journal's durable append and replay rates against the
// disk's own fdatasync rate (see journal_bench.cc for what it prints). Runs for about
// two minutes with the default flags and writes ~1,000,000 records under --dir.
#ifndef ALMANAC_JOURNAL_JOURNAL_BENCH_H_
#define ALMANAC_JOURNAL_JOURNAL_BENCH_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/time/time.h"

namespace almanac::journal {

// The disk's own rate for one 256-byte record at a time: write + fdatasync appended to a
// plain file in `dir` (removed afterwards), for `duration`. The yardstick the issue's
// targets are stated against; it drifts on a virtual disk, so measure it next to what
// it is compared with. 0 when the file cannot be written.
double RawFdatasyncPerSecond(const std::string& dir, absl::Duration duration);

// A file of zeros that is overwritten in place and synced, `bytes` at a time from the
// start (wrapping at the end): how a write-ahead log made from a zeroed spare reaches the
// disk (journal/zeroed_log.h), without RocksDB or records. The durable write of the
// benchmarks' floors: what a journal could not beat on this disk.
class ZeroedSyncFile {
 public:
  // Creates `path`, fills it with `file_bytes` zeros and syncs them; ok() tells whether
  // that worked (a message went to stderr otherwise).
  ZeroedSyncFile(std::string path, size_t file_bytes);
  ~ZeroedSyncFile();  // closes and removes the file
  ZeroedSyncFile(const ZeroedSyncFile&) = delete;
  ZeroedSyncFile& operator=(const ZeroedSyncFile&) = delete;

  bool ok() const { return ok_; }

  // Overwrites the next `bytes` (at most the file's size) and fdatasyncs. False, with
  // a message on stderr, when either failed; then ok() is false too.
  bool WriteAndSync(size_t bytes);

 private:
  const std::string path_;
  const size_t file_bytes_;
  int fd_ = -1;
  bool ok_ = false;
  size_t at_ = 0;       // where the next write goes
  std::string filler_;  // what is written over the zeros
};

// Two rates measured in `rounds` rounds of back-to-back phases whose order alternates
// (first then second, then second then first, ...), so both figures of a round come from
// the same moment of a disk whose rate drifts by half within a minute. `first` and
// `second` each run one phase and return its rate.
struct PairedRates {
  double first = 0, second = 0;    // the means of the rounds' rates
  double lowest = 0, highest = 0;  // of the rounds' first / second
  double ratio() const { return second > 0 ? first / second : 0; }
};
PairedRates MeasurePaired(int rounds, const std::function<double()>& first,
                          const std::function<double()>& second);

class Journal;

// Waits until `journal` has nothing left to write in the background (a memtable flush,
// the next log's spare: Journal::WaitForBackgroundWork), so that a raw rate measured next
// does not share the disk with it; exits the process with a message after 30 s.
void WaitForIdleJournalOrExit(const Journal& journal);

// argv[0] is the subcommand name; flags follow (absl flags). Returns the exit code.
// `more`, when set, runs last with the scratch directory (before it is removed) and its
// exit code is returned: almanac-bench adds the start time with a 1,000,000-member
// snapshot and the memory per member there, measurements of ctl/state that journal/
// cannot depend on but that the issue wants in the same run.
int RunJournalBench(int argc, char** argv,
                    const std::function<int(const std::string& dir)>& more = nullptr);

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_JOURNAL_BENCH_H_
