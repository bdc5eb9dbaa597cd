#include "journal/record.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "journal/limits.h"

namespace almanac::journal {
namespace {

using schema::Record;

// The root as a plain table, to reach fields the generated (non-mutable) API only
// exposes read-only, and to ask whether a scalar is present at all.
const flatbuffers::Table* RootTable(std::string_view bytes) {
  return flatbuffers::GetRoot<flatbuffers::Table>(bytes.data());
}

// Structure and required fields shared by drafts and stored records. The returned
// status is DataLoss-free: the caller picks the code for its situation.
absl::StatusOr<const Record*> CheckStructure(std::string_view bytes) {
  if (bytes.size() > kRecordBytesMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat("record is ", bytes.size(), " bytes, max ", kRecordBytesMax));
  }
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()),
                                 bytes.size(), kVerifierDepthMax, kVerifierTablesMax,
                                 /*check_alignment=*/true);
  if (!schema::VerifyRecordBuffer(verifier)) {
    return absl::InvalidArgumentError("FlatBuffers verification of the record failed");
  }
  const Record* record = schema::GetRecord(bytes.data());
  if (!RootTable(bytes)->CheckField(Record::VT_SEQ)) {
    return absl::InvalidArgumentError("record has no seq field");
  }
  if (record->prev_hash() == nullptr || record->prev_hash()->size() != kChainHashBytes) {
    return absl::InvalidArgumentError("record has no 32-byte prev_hash");
  }
  if (record->actor() == nullptr) {
    return absl::InvalidArgumentError("record has no actor");
  }
  if (record->body_type() == schema::Body::NONE || record->body() == nullptr) {
    return absl::InvalidArgumentError("record has no body");
  }
  return record;
}

}  // namespace

std::string BuildRecordDraft(
    int64_t time_ms, uint64_t epoch, schema::ActorKind actor_kind,
    std::string_view actor_id, std::string_view actor_source, schema::Body body_type,
    const std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>&
        build_body) {
  flatbuffers::FlatBufferBuilder fbb(256);
  const auto body = build_body(fbb);
  const auto id = fbb.CreateString(actor_id.data(), actor_id.size());
  const auto source = fbb.CreateString(actor_source.data(), actor_source.size());
  const auto actor = schema::CreateActor(fbb, actor_kind, id, source);
  const uint8_t zeros[kChainHashBytes] = {};
  const auto prev_hash = fbb.CreateVector(zeros, kChainHashBytes);
  // seq = 0 equals the schema default and would be elided: force it so the writer
  // thread has eight bytes to patch. Only the envelope's scalars are forced.
  fbb.ForceDefaults(true);
  schema::RecordBuilder builder(fbb);
  builder.add_seq(0);
  builder.add_time_ms(time_ms);
  builder.add_epoch(epoch);
  builder.add_actor(actor);
  builder.add_prev_hash(prev_hash);
  builder.add_body_type(body_type);
  builder.add_body(body);
  const auto root = builder.Finish();
  fbb.ForceDefaults(false);
  schema::FinishRecordBuffer(fbb, root);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

absl::StatusOr<const Record*> VerifyRecord(std::string_view bytes) {
  absl::StatusOr<const Record*> record = CheckStructure(bytes);
  if (!record.ok()) return absl::DataLossError(std::string(record.status().message()));
  if ((*record)->seq() == 0) return absl::DataLossError("record has seq 0");
  return record;
}

absl::Status VerifyDraft(std::string_view draft) {
  absl::StatusOr<const Record*> record = CheckStructure(draft);
  if (!record.ok()) return record.status();
  if ((*record)->seq() != 0) {
    return absl::InvalidArgumentError("draft seq must be 0 (the journal assigns it)");
  }
  const auto* prev = (*record)->prev_hash();
  if (!std::all_of(prev->begin(), prev->end(), [](uint8_t b) { return b == 0; })) {
    return absl::InvalidArgumentError("draft prev_hash must be 32 zero bytes");
  }
  return absl::OkStatus();
}

void PatchDraft(std::string* draft, uint64_t seq, const ChainHash& prev_hash) {
  ALMANAC_CHECK(seq >= 1 && seq <= kSeqMax);
  auto* table = flatbuffers::GetMutableRoot<flatbuffers::Table>(draft->data());
  ALMANAC_CHECK_MSG(table->SetField<uint64_t>(Record::VT_SEQ, seq),
                    "draft has no seq field to patch");
  auto* prev = table->GetPointer<flatbuffers::Vector<uint8_t>*>(Record::VT_PREV_HASH);
  ALMANAC_CHECK(prev != nullptr && prev->size() == kChainHashBytes);
  std::memcpy(prev->data(), prev_hash.data(), kChainHashBytes);
}

}  // namespace almanac::journal
