// Sample record drafts for journal tests, the crash test and the benchmark.
//
// Thread safety: pure functions.
#ifndef ALMANAC_JOURNAL_JOURNAL_TESTING_H_
#define ALMANAC_JOURNAL_JOURNAL_TESTING_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace almanac::journal {

// A MemberAuthorized draft (seq 0, zero prev_hash) for member `n` of a fixed network,
// by admin token `actor_id` (tests use it to recognise who wrote a record). About 200
// bytes, the size of a typical journal record.
std::string SampleDraft(uint64_t n, std::string_view actor_id = "admin");

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_JOURNAL_TESTING_H_
