// journal_writer: appends sample records to a journal from many threads until killed,
// printing "<seq> <actor id>" on stdout (one line, flushed) for each acknowledged
// append. Used by journal_crash_test, which SIGKILLs it and checks that every printed
// record survived.
//
// Usage: journal_writer <dir> [threads]   (default 16 threads)
// Exit: never on its own unless the journal fails (2: open failed, 3: append failed).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "journal/journal.h"
#include "journal/journal_testing.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <dir> [threads]\n", argv[0]);
    return 1;
  }
  const int threads_count = argc > 2 ? std::atoi(argv[2]) : 16;
  absl::StatusOr<std::unique_ptr<almanac::journal::Journal>> journal =
      almanac::journal::Journal::Open(argv[1], {});
  if (!journal.ok()) {
    std::fprintf(stderr, "journal_writer: %s\n", journal.status().ToString().c_str());
    return 2;
  }
  const std::string run = std::to_string(getpid());
  absl::Mutex stdout_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_count; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0;; ++i) {
        const std::string id = run + "-" + std::to_string(t) + "-" + std::to_string(i);
        absl::StatusOr<uint64_t> seq = (*journal)->Append(almanac::journal::SampleDraft(i, id));
        if (!seq.ok()) {
          std::fprintf(stderr, "journal_writer: %s\n", seq.status().ToString().c_str());
          std::_Exit(3);
        }
        // Printed only after Append returned: every line names a durable record.
        absl::MutexLock lock(&stdout_mu);
        std::printf("%llu %s\n", static_cast<unsigned long long>(*seq), id.c_str());
        std::fflush(stdout);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return 0;
}
