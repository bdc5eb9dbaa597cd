// Building, checking and sequencing journal record buffers (almanac.schema.Record).
//
// A caller builds a complete record on its own thread as a "draft": seq = 0 and
// prev_hash = 32 zero bytes, both PRESENT in the buffer so the journal's writer thread
// can patch them in place (no rebuild) once it knows the sequence number and the
// previous chain hash. BuildRecordDraft makes such drafts. Stored layout and hash rule:
// journal/record_format.h.
//
// Thread safety: every function is pure over its arguments; any thread may call them.
#ifndef ALMANAC_JOURNAL_RECORD_H_
#define ALMANAC_JOURNAL_RECORD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flatbuffers/flatbuffers.h"
#include "journal/record_format.h"
#include "schemas/events_generated.h"

namespace almanac::journal {

// Builds a draft Record buffer: the given envelope fields, an Actor table, and the body
// that build_body creates in the builder it is handed (it returns the body's offset,
// e.g. `schema::CreateEpochStarted(fbb, 2).Union()`). seq (0) and prev_hash (32 zero
// bytes) are always written, never elided as defaults. The result is not checked;
// Journal::Append checks it (VerifyDraft).
// REQUIRES: build_body creates a table of the type body_type names.
std::string BuildRecordDraft(
    int64_t time_ms, uint64_t epoch, schema::ActorKind actor_kind,
    std::string_view actor_id, std::string_view actor_source, schema::Body body_type,
    const std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>&
        build_body);

// Checks a stored record's bytes: size within kRecordBytesMax, the FlatBuffers Verifier
// (file identifier "ALMR", depth kVerifierDepthMax, tables kVerifierTablesMax), and the
// required fields: seq present and >= 1, prev_hash present with 32 bytes, an actor, and a
// body. Returns the root (pointing into `bytes`, valid while they are) or DataLoss.
// It does NOT check the chain or that seq matches a key: see Journal and VerifyJournal.
// REQUIRES: bytes.data() is 8-byte aligned (FlatBuffers alignment check; a std::string's
// heap buffer is).
absl::StatusOr<const schema::Record*> VerifyRecord(std::string_view bytes);

// Checks a draft before it is queued: size within kRecordBytesMax (ResourceExhausted
// otherwise), then the same checks as VerifyRecord except that seq must be present and 0
// and prev_hash must be 32 zero bytes (InvalidArgument otherwise).
// REQUIRES: draft.data() is 8-byte aligned.
absl::Status VerifyDraft(std::string_view draft);

// Turns a verified draft into the record with sequence number seq: writes seq and
// prev_hash into the buffer in place. Only the bytes of those two fields change.
// REQUIRES: VerifyDraft(*draft) was OK; 1 <= seq <= kSeqMax (checked).
void PatchDraft(std::string* draft, uint64_t seq, const ChainHash& prev_hash);

}  // namespace almanac::journal

#endif  // ALMANAC_JOURNAL_RECORD_H_
