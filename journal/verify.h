// Read-only verification of a whole journal directory, for tools (almanac-replay).
//
// Opens the RocksDB database read-only, so it takes no lock and does not disturb a live
// almanacd writing the same directory: it sees the journal as of the moment it opened
// (records appended later are not visited). Every record is checked exactly as
// Journal::Open checks it (journal/chain.h) and handed to the visitor in order.
//
// Thread safety: no shared state; call from any thread.
#ifndef ALMANAC_JOURNAL_VERIFY_H_
#define ALMANAC_JOURNAL_VERIFY_H_

#include <string>

#include "absl/status/statusor.h"
#include "journal/chain.h"

namespace almanac::journal {

// Walks records 1..last of the journal in `dir`, calling visit(record) for each after
// it passed every check. Returns the tip (last seq, its chain hash; seq 0 for an empty
// journal). Errors: DataLoss naming the first bad record; NotFound when dir holds no
// journal; the visitor's status (which stops the walk); Internal for I/O failures.
absl::StatusOr<ChainTip> VerifyJournal(const std::string& dir, RecordVisitor visit);

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_VERIFY_H_
