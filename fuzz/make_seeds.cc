// Writes seed inputs that only the project's own code can make, for make_corpus.py:
//   <out>/record_fuzzer/: runs of journal records in record_fuzzer's framing
//     (length(4, big-endian) | record), from the projector tests' random event streams,
//     plus a single journal draft turned into a record as Journal::Append does;
//   <out>/snapshot_fuzzer/: snapshot payloads of the states those streams build.
// Usage: make_seeds <out dir> (the subdirectories must exist).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ctl/state/random_stream.h"
#include "ctl/state/snapshot.h"
#include "ctl/state/state.h"
#include "ctl/state/test_records.h"
#include "journal/journal_testing.h"
#include "journal/record.h"

namespace {

bool WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  return static_cast<bool>(out);
}

std::string Framed(const std::vector<std::string>& records) {
  std::string out;
  for (const std::string& record : records) {
    const uint32_t n = static_cast<uint32_t>(record.size());
    out.push_back(static_cast<char>(n >> 24));
    out.push_back(static_cast<char>(n >> 16));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n));
    out += record;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds <out dir>\n");
    return 2;
  }
  const std::string out = argv[1];
  bool ok = true;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const std::vector<std::string> records =
        almanac::state::testing::RandomStream(seed, 6 * seed);
    ok &= WriteFile(absl::StrCat(out, "/record_fuzzer/stream-", seed), Framed(records));
    almanac::state::State state;
    for (const std::string& record : records) {
      if (!almanac::state::testing::ApplyBuffer(state, record).ok()) break;
    }
    ok &= WriteFile(absl::StrCat(out, "/snapshot_fuzzer/state-", seed),
                    almanac::state::SerializeState(state));
  }
  ok &= WriteFile(out + "/snapshot_fuzzer/empty",
                  almanac::state::SerializeState(almanac::state::State()));
  std::string draft = almanac::journal::SampleDraft(7, "admin");
  almanac::journal::ChainHash prev{};
  almanac::journal::PatchDraft(&draft, 1, prev);
  ok &= WriteFile(out + "/record_fuzzer/journal-record", Framed({draft}));
  return ok ? 0 : 1;
}
