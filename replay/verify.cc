#include "replay/verify.h"

#include <cstring>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "ctl/state/projector.h"
#include "ctl/state/snapshot.h"
#include "ctl/state/state.h"
#include "journal/record.h"
#include "replay/seal.h"

namespace almanac::replay {
namespace {

constexpr uint64_t kProgressRecords = 200000;

class Verifier {
 public:
  Verifier(const SourcePaths& paths, const std::function<void(const std::string&)>& progress)
      : paths_(paths), progress_(progress) {}

  absl::StatusOr<VerifyReport> Run();

 private:
  void Add(uint64_t seq, std::string what) { report_.problems.push_back({seq, std::move(what)}); }
  void LoadSnapshotAndIdentity();
  void VisitEntry(uint64_t seq, std::string_view value);
  // The checks of one record; returns false when the record is bad.
  bool CheckRecord(uint64_t seq, const journal::ChainHash& stored,
                   const schema::Record** out);
  void CheckBody(uint64_t seq, const schema::Record& record);
  void CheckSeal(uint64_t seq, const schema::Seal& seal);
  void ReplayRecord(uint64_t seq, const schema::Record& record,
                    const journal::ChainHash& stored);
  void CheckEnd(uint64_t last_key);

  const SourcePaths& paths_;
  const std::function<void(const std::string&)>& progress_;
  VerifyReport report_;

  std::optional<zt::Identity> file_identity_;
  std::optional<zt::Identity> identity_;  // the one seals are checked against
  std::string snapshot_payload_;

  uint64_t expected_seq_ = 1;
  bool link_known_ = true;  // false right after a gap or a bad record
  journal::ChainHash prev_stored_ = journal::kZeroChainHash;
  std::vector<journal::ChainHash> hashes_{journal::kZeroChainHash};  // by seq
  std::string buffer_;  // the current record's bytes, 8-byte aligned (heap)

  bool replaying_ = true;
  state::State state_;
};

void Verifier::LoadSnapshotAndIdentity() {
  // The snapshot is read BEFORE the journal is opened: a snapshot is only written after
  // its records are durable, so the journal view opened next holds its seq.
  absl::StatusOr<state::LoadedSnapshot> loaded = state::LoadNewestSnapshot(paths_.snapshots());
  if (!loaded.ok()) {
    Add(0, absl::StrCat("snapshots: ", loaded.status().message()));
  } else {
    for (const std::string& skipped : loaded->skipped) Add(0, "damaged snapshot: " + skipped);
    if (loaded->state.has_value()) {
      report_.snapshot_seq = loaded->state->last_seq();
      snapshot_payload_ = state::SerializeState(*loaded->state);
    }
  }
  absl::StatusOr<zt::Identity> id = ReadPublicIdentity(paths_);
  if (id.ok()) {
    file_identity_ = *id;
  } else if (!absl::IsNotFound(id.status())) {
    Add(0, absl::StrCat("identity.public: ", id.status().message()));
  }
}

bool Verifier::CheckRecord(uint64_t seq, const journal::ChainHash& stored,
                           const schema::Record** out) {
  absl::StatusOr<const schema::Record*> verified = journal::VerifyRecord(buffer_);
  journal::ChainHash own_prev = prev_stored_;
  if (verified.ok()) {
    std::memcpy(own_prev.data(), (*verified)->prev_hash()->data(), own_prev.size());
  }
  // The checksum first: a record whose bytes no longer match its stored hash was
  // altered, whatever else is wrong with it.
  if (journal::ComputeChainHash(own_prev, buffer_) != stored) {
    Add(seq, "stored chain hash does not match the record's bytes (record altered)");
    return false;
  }
  if (!verified.ok()) {
    Add(seq, absl::StrCat("not a valid record: ", verified.status().message()));
    return false;
  }
  if ((*verified)->seq() != seq) {
    Add(seq, absl::StrCat("holds record ", (*verified)->seq(), " (records moved or swapped)"));
    return false;
  }
  if (link_known_ && own_prev != prev_stored_) {
    Add(seq, absl::StrCat("chain broken: prev_hash is not the chain hash of record ", seq - 1,
                          " (this record was rewritten, or an earlier one)"));
    return false;
  }
  *out = *verified;
  return true;
}

void Verifier::VisitEntry(uint64_t seq, std::string_view value) {
  ++report_.records;
  if (seq > expected_seq_) {
    Add(expected_seq_, seq == expected_seq_ + 1
                           ? std::string("record missing")
                           : absl::StrCat("records ", expected_seq_, "..", seq - 1, " missing"));
    link_known_ = false;
    replaying_ = false;
  }
  expected_seq_ = seq + 1;
  // Hashes are kept by seq for the seal checks, only within the journal's claimed
  // length (a stray key far beyond it must not make us allocate for it).
  const bool keep_hash = seq <= report_.last_seq;
  if (keep_hash && hashes_.size() <= seq) hashes_.resize(seq + 1, journal::kZeroChainHash);
  if (value.size() <= journal::kChainHashBytes) {
    Add(seq, absl::StrCat("stored value is ", value.size(), " bytes, too short"));
    link_known_ = false;
    replaying_ = false;
    return;
  }
  buffer_.assign(value.data(), value.size() - journal::kChainHashBytes);
  journal::ChainHash stored;
  std::memcpy(stored.data(), value.data() + buffer_.size(), stored.size());
  if (keep_hash) hashes_[seq] = stored;
  report_.last_hash = stored;
  const schema::Record* record = nullptr;
  const bool good = CheckRecord(seq, stored, &record);
  prev_stored_ = stored;
  link_known_ = good;
  if (!good) {
    replaying_ = false;
    return;
  }
  CheckBody(seq, *record);
  ReplayRecord(seq, *record, stored);
}

void Verifier::CheckBody(uint64_t seq, const schema::Record& record) {
  if (seq == 1) {
    const schema::ControllerInitialized* init = record.body_as_ControllerInitialized();
    if (init == nullptr || init->identity() == nullptr) {
      Add(1, "record 1 is not ControllerInitialized");
    } else if (absl::StatusOr<zt::Identity> id = zt::Identity::FromString(
                   init->identity()->string_view());
               !id.ok()) {
      Add(1, absl::StrCat("controller identity does not parse: ", id.status().message()));
    } else {
      identity_ = *id;
      if (file_identity_.has_value() && *file_identity_ != *id) {
        Add(1, "identity.public is not the controller identity of record 1");
      }
    }
  }
  if (const schema::Seal* seal = record.body_as_Seal(); seal != nullptr) CheckSeal(seq, *seal);
}

void Verifier::CheckSeal(uint64_t seq, const schema::Seal& seal) {
  ++report_.seals;
  const uint64_t sealed = seal.sealed_seq();
  if (sealed == 0 || sealed >= seq) {
    Add(seq, absl::StrCat("seal of record ", sealed, " is not of an earlier record"));
    return;
  }
  const zt::Identity* identity = identity_.has_value()        ? &*identity_
                                 : file_identity_.has_value() ? &*file_identity_
                                                              : nullptr;
  if (identity == nullptr) {
    Add(seq, "seal cannot be checked: no controller identity (record 1, identity.public)");
    return;
  }
  if (absl::Status s = CheckSealSignature(seal, *identity); !s.ok()) {
    Add(seq, absl::StrCat("forged or damaged seal of record ", sealed, ": ", s.message()));
    return;
  }
  if (sealed >= hashes_.size() ||
      std::memcmp(seal.sealed_hash()->data(), hashes_[sealed].data(),
                  journal::kChainHashBytes) != 0) {
    Add(seq, absl::StrCat("seal of record ", sealed, " does not match its chain hash "
                          "(history up to ", sealed, " was rewritten after sealing)"));
    return;
  }
  ++report_.seals_valid;
  if (sealed > report_.last_sealed_seq) report_.last_sealed_seq = sealed;
}

void Verifier::ReplayRecord(uint64_t seq, const schema::Record& record,
                            const journal::ChainHash& stored) {
  if (!replaying_) return;
  if (absl::Status s = state::Apply(state_, record, stored); !s.ok()) {
    Add(seq, absl::StrCat("the projector refuses it: ", s.message()));
    replaying_ = false;
    return;
  }
  report_.replayed_seq = seq;
  if (seq == report_.snapshot_seq) {
    report_.snapshot_compared = true;
    report_.snapshot_matches = state::SerializeState(state_) == snapshot_payload_;
    if (!report_.snapshot_matches) {
      Add(seq, "replaying records 1.." + std::to_string(seq) +
                   " does not give the state of the snapshot taken there");
    }
  }
}

void Verifier::CheckEnd(uint64_t last_key) {
  if (last_key < report_.last_seq) {
    Add(last_key + 1, absl::StrCat("records ", last_key + 1, "..", report_.last_seq,
                                   " missing (the journal claims ", report_.last_seq, ")"));
  } else if (last_key > report_.last_seq) {
    Add(report_.last_seq + 1, absl::StrCat("records after the journal's last seq ",
                                           report_.last_seq, " (up to ", last_key, ")"));
  }
  // A replay stops only at a record already reported, so an uncompared snapshot is a
  // problem of its own only when it lies past the journal's end.
  if (report_.snapshot_seq > last_key) {
    Add(report_.snapshot_seq, absl::StrCat("snapshot is past the end of the journal (",
                                           last_key, ")"));
  }
}

absl::StatusOr<VerifyReport> Verifier::Run() {
  LoadSnapshotAndIdentity();
  absl::StatusOr<std::unique_ptr<JournalView>> view = JournalView::Open(paths_.journal());
  if (!view.ok()) return view.status();
  report_.last_seq = (*view)->last_seq();
  hashes_.reserve(report_.last_seq + 1);
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it((*view)->db()->NewIterator(read));
  uint64_t last_key = 0;
  uint64_t next_progress = kProgressRecords;
  for (it->Seek(journal::RecordKey(1)); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (key.size() > 0 && key[0] == journal::kMetaKeyPrefix) break;
    if (key.size() != journal::kRecordKeyBytes) {
      Add(expected_seq_, absl::StrCat("a ", key.size(), "-byte key among the records"));
      continue;
    }
    last_key = journal::DecodeBigEndian64(std::string_view(key.data(), key.size()));
    VisitEntry(last_key, std::string_view(it->value().data(), it->value().size()));
    if (progress_ && report_.records >= next_progress) {
      progress_(absl::StrCat("checked ", report_.records, " of ", report_.last_seq, " records"));
      next_progress += kProgressRecords;
    }
  }
  if (!it->status().ok()) {
    Add(expected_seq_, absl::StrCat("reading stopped: ", it->status().ToString()));
  }
  CheckEnd(last_key);
  if (identity_.has_value()) {
    report_.controller = identity_->ToString(false).substr(0, 10);
  } else if (file_identity_.has_value()) {
    report_.controller = file_identity_->ToString(false).substr(0, 10);
  }
  return std::move(report_);
}

}  // namespace

std::string VerifyReport::Text() const {
  std::string out;
  for (const Problem& p : problems) {
    absl::StrAppend(&out, p.seq > 0 ? absl::StrCat("record ", p.seq, ": ") : std::string(),
                    p.what, "\n");
  }
  absl::StrAppend(&out, ok() ? "OK: " : absl::StrCat("FAILED: ", problems.size(), " problem",
                                                      problems.size() == 1 ? "" : "s", "; "),
                  records, " records (journal claims ", last_seq, "), chain hash ",
                  journal::HashHex(last_hash).substr(0, 16), ", ", seals_valid, " of ", seals,
                  " seals valid (last sealed record ", last_sealed_seq, "), ");
  if (snapshot_seq == 0) {
    absl::StrAppend(&out, "no snapshot; replayed to ", replayed_seq, "\n");
  } else {
    absl::StrAppend(&out, "snapshot at ", snapshot_seq,
                    snapshot_matches ? " equals the replay" : " NOT confirmed by the replay",
                    "\n");
  }
  return out;
}

nlohmann::json VerifyReport::Json() const {
  nlohmann::json j;
  j["ok"] = ok();
  j["controller"] = controller;
  j["records"] = records;
  j["lastSeq"] = last_seq;
  j["chainHash"] = journal::HashHex(last_hash);
  j["seals"] = seals;
  j["sealsValid"] = seals_valid;
  j["lastSealedSeq"] = last_sealed_seq;
  j["replayedSeq"] = replayed_seq;
  j["snapshotSeq"] = snapshot_seq;
  j["snapshotMatches"] = snapshot_matches;
  nlohmann::json list = nlohmann::json::array();
  for (const Problem& p : problems) list.push_back({{"seq", p.seq}, {"problem", p.what}});
  j["problems"] = std::move(list);
  return j;
}

absl::StatusOr<VerifyReport> VerifySource(
    const SourcePaths& paths, const std::function<void(const std::string&)>& progress) {
  return Verifier(paths, progress).Run();
}

}  // namespace almanac::replay
