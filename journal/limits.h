// Named bounds on everything outside callers can make the journal hold.
//
// Past a bound the journal answers ResourceExhausted at once instead of growing
// (shared/docs/style.md, "A limit on everything"). Plain constants, no state.
#ifndef ALMANAC_JOURNAL_LIMITS_H_
#define ALMANAC_JOURNAL_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace almanac::journal {

// Largest record (FlatBuffers buffer, without the stored chain hash). Network and member
// configs with long rule lists stay far below this; a bigger one is a bug or an attack.
inline constexpr size_t kRecordBytesMax = size_t{1} << 20;

// Most records the writer thread puts in one WriteBatch + sync write, and so the most
// drafts one AppendBatch may carry (a batch is always written atomically, in one write).
inline constexpr size_t kBatchRecordsMax = 1024;

// Most draft bytes in one write; bounds the writer's memory per sync write.
inline constexpr size_t kBatchBytesMax = size_t{16} << 20;

// Most drafts waiting for the writer thread across all callers. With one outstanding
// append per caller thread this is far above any real load; it exists so a stuck disk
// turns into ResourceExhausted answers instead of unbounded memory.
inline constexpr size_t kQueueDraftsMax = 16384;

// Most records and bytes one Read returns (it always returns at least one record when
// one exists): a follower asking for "everything" gets it in bounded pieces.
inline constexpr size_t kReadRecordsMax = 4096;
inline constexpr size_t kReadBytesMax = size_t{16} << 20;

// FlatBuffers Verifier limits for one record. Record -> body -> config -> rules/vectors
// nests well under 16 tables deep; the table count bounds work on a hostile buffer.
inline constexpr uint32_t kVerifierDepthMax = 32;
inline constexpr uint32_t kVerifierTablesMax = 100000;

static_assert(kBatchRecordsMax <= kQueueDraftsMax, "a full batch must fit the queue");
static_assert(kRecordBytesMax <= kBatchBytesMax, "one record must fit a batch");
static_assert(kRecordBytesMax <= kReadBytesMax, "one record must fit a read");

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_LIMITS_H_
