#include "replay/verify.h"

#include <algorithm>
#include <cstring>
#include <future>
#include <memory>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ctl/state/projector.h"
#include "ctl/state/snapshot.h"
#include "ctl/state/state.h"
#include "journal/record.h"
#include "replay/scan_reader.h"
#include "replay/seal.h"

namespace almanac::replay {
namespace {

constexpr uint64_t kProgressRecords = 200000;
// Chain hashes reserved up front by the journal's claimed length: 16 million records
// (512 MB of hashes); a longer journal grows the table as its records are found.
constexpr uint64_t kHashesReservedMax = uint64_t{1} << 24;

// The seq in a snapshot file's name (ctl/state/snapshot.h: "snapshot-<20 digits>.alms").
std::optional<uint64_t> SnapshotSeqOfPath(const std::string& path) {
  absl::string_view name(path);
  name.remove_prefix(std::min(name.size(), path.rfind('/') + 1));
  uint64_t seq = 0;
  if (!absl::ConsumePrefix(&name, "snapshot-") || !absl::ConsumeSuffix(&name, ".alms") ||
      !absl::SimpleAtoi(name, &seq)) {
    return std::nullopt;
  }
  return seq;
}

// The newest snapshot file whose header and hash check out, as raw payload bytes.
struct SnapshotBytes {
  uint64_t seq = 0;  // 0: none usable
  std::string path;
  std::string payload;
  std::vector<std::string> problems;  // damaged files skipped
};

// Reads the snapshot files `paths` (newest first) until one's header and hash check out.
// Runs on a second thread while the journal is scanned (reading and hashing a big
// snapshot overlaps the scan). The payload is not loaded: the scan compares it byte for
// byte with SerializeState of the replay, and loads it only when they differ.
SnapshotBytes ReadNewestSnapshot(const std::vector<std::string>& paths) {
  SnapshotBytes out;
  for (const std::string& path : paths) {
    std::optional<uint64_t> seq = SnapshotSeqOfPath(path);
    absl::StatusOr<std::string> payload = state::ReadSnapshotPayload(path);
    if (payload.ok() && seq.has_value()) {
      out.seq = *seq;
      out.path = path;
      out.payload = *std::move(payload);
      return out;
    }
    // Gone since it was listed: a live almanacd deleted it after writing newer ones.
    if (absl::IsNotFound(payload.status())) continue;
    // Intact but of another format version (written before an upgrade): nothing to compare
    // with, and nothing wrong with it; almanacd skips it the same way.
    if (absl::IsFailedPrecondition(payload.status())) continue;
    out.problems.push_back(absl::StrCat("damaged snapshot: ", payload.status().message()));
  }
  return out;
}

class Verifier {
 public:
  Verifier(const SourcePaths& paths, const std::function<void(const std::string&)>& progress)
      : paths_(paths), progress_(progress) {}

  absl::StatusOr<VerifyReport> Run();

 private:
  void Add(uint64_t seq, std::string what) { report_.problems.push_back({seq, std::move(what)}); }
  void StartSnapshotAndLoadIdentity();
  // Waits for the snapshot thread and takes its result (once).
  void TakeSnapshot();
  // Judges the replay at `seq` (the snapshot's) against the snapshot.
  void CompareSnapshot(uint64_t seq);
  void VisitEntry(const ScanBatch& batch, const ScannedEntry& entry);
  // The checks of one record that depend on the records before it (the reader did the
  // rest); returns false when the record is bad.
  bool CheckRecord(const ScanBatch& batch, const ScannedEntry& entry,
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
  // The snapshot files listed BEFORE the journal was opened: a snapshot is only written
  // after its records are durable, so the journal view opened next holds their seqs. The
  // scan waits for the snapshot thread at each of these seqs (at most kSnapshotsKept),
  // since the comparison must happen before the next record is applied.
  std::vector<std::string> snapshot_paths_;
  std::vector<uint64_t> snapshot_seqs_;
  std::future<SnapshotBytes> snapshot_future_;
  bool snapshot_taken_ = false;
  std::string snapshot_path_;
  std::string snapshot_payload_;  // raw, as in the file

  uint64_t expected_seq_ = 1;
  bool link_known_ = true;  // false right after a gap or a bad record
  journal::ChainHash prev_stored_ = journal::kZeroChainHash;
  std::vector<journal::ChainHash> hashes_{journal::kZeroChainHash};  // by seq

  bool replaying_ = true;
  state::State state_;
};

void Verifier::StartSnapshotAndLoadIdentity() {
  absl::StatusOr<std::vector<std::string>> listed = state::ListSnapshotFiles(paths_.snapshots());
  if (!listed.ok()) {
    Add(0, absl::StrCat("snapshots: ", listed.status().message()));
  } else {
    snapshot_paths_ = *listed;
    for (const std::string& path : snapshot_paths_) {
      if (std::optional<uint64_t> seq = SnapshotSeqOfPath(path)) snapshot_seqs_.push_back(*seq);
    }
  }
  snapshot_future_ = std::async(std::launch::async, ReadNewestSnapshot, snapshot_paths_);
  absl::StatusOr<zt::Identity> id = ReadPublicIdentity(paths_);
  if (id.ok()) {
    file_identity_ = *id;
  } else if (!absl::IsNotFound(id.status())) {
    Add(0, absl::StrCat("identity.public: ", id.status().message()));
  }
}

void Verifier::TakeSnapshot() {
  if (snapshot_taken_) return;
  snapshot_taken_ = true;
  SnapshotBytes loaded = snapshot_future_.get();
  // Listed first, as they were when the snapshot was loaded before the scan.
  std::vector<Problem> first;
  for (std::string& problem : loaded.problems) first.push_back({0, std::move(problem)});
  report_.problems.insert(report_.problems.begin(), first.begin(), first.end());
  if (loaded.seq == 0) return;
  report_.snapshot_seq = loaded.seq;
  snapshot_path_ = std::move(loaded.path);
  snapshot_payload_ = std::move(loaded.payload);
}

void Verifier::CompareSnapshot(uint64_t seq) {
  const std::string replayed = state::SerializeState(state_);
  // Equal bytes are the common case. Different bytes may still be an equal state written
  // by another build's serializer, so the snapshot is loaded and turned back into bytes
  // by this one before the replay is judged.
  bool equal = replayed == snapshot_payload_;
  if (!equal) {
    absl::StatusOr<state::State> loaded = state::DeserializeState(snapshot_payload_);
    if (!loaded.ok() || loaded->last_seq() != seq) {
      Add(0, absl::StrCat("damaged snapshot: ", snapshot_path_, ": ",
                          loaded.ok() ? "seq in payload differs from file name"
                                      : loaded.status().message()));
      std::string().swap(snapshot_payload_);
      return;
    }
    equal = state::SerializeState(*loaded) == replayed;
  }
  std::string().swap(snapshot_payload_);  // no longer needed: give the memory back
  report_.snapshot_compared = true;
  report_.snapshot_matches = equal;
  if (!equal) {
    Add(seq, "replaying records 1.." + std::to_string(seq) +
                 " does not give the state of the snapshot taken there");
  }
}

bool Verifier::CheckRecord(const ScanBatch& batch, const ScannedEntry& entry,
                           const schema::Record** out) {
  const uint64_t seq = entry.seq;
  // The checksum first: a record whose bytes no longer match its stored hash was
  // altered, whatever else is wrong with it.
  if (!entry.checksum_ok) {
    Add(seq, "stored chain hash does not match the record's bytes (record altered)");
    return false;
  }
  if (!entry.verify_status.ok()) {
    Add(seq, absl::StrCat("not a valid record: ", entry.verify_status.message()));
    return false;
  }
  const schema::Record* record = batch.record(entry);
  if (record->seq() != seq) {
    Add(seq, absl::StrCat("holds record ", record->seq(), " (records moved or swapped)"));
    return false;
  }
  if (link_known_ && entry.own_prev != prev_stored_) {
    Add(seq, absl::StrCat("chain broken: prev_hash is not the chain hash of record ", seq - 1,
                          " (this record was rewritten, or an earlier one)"));
    return false;
  }
  *out = record;
  return true;
}

void Verifier::VisitEntry(const ScanBatch& batch, const ScannedEntry& entry) {
  const uint64_t seq = entry.seq;
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
  if (entry.too_short()) {
    Add(seq, absl::StrCat("stored value is ", entry.value_bytes, " bytes, too short"));
    link_known_ = false;
    replaying_ = false;
    return;
  }
  const journal::ChainHash& stored = entry.stored;
  if (keep_hash) hashes_[seq] = stored;
  report_.last_hash = stored;
  const schema::Record* record = nullptr;
  const bool good = CheckRecord(batch, entry, &record);
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
  if (!snapshot_taken_ &&
      std::find(snapshot_seqs_.begin(), snapshot_seqs_.end(), seq) != snapshot_seqs_.end()) {
    TakeSnapshot();
  }
  if (snapshot_taken_ && seq == report_.snapshot_seq) CompareSnapshot(seq);
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
  StartSnapshotAndLoadIdentity();
  absl::StatusOr<std::unique_ptr<JournalView>> view = JournalView::Open(paths_.journal());
  if (!view.ok()) return view.status();
  report_.last_seq = (*view)->last_seq();
  // The meta key is read from disk: reserve for what it claims only up to a bound, and
  // grow with the records actually found.
  hashes_.reserve(std::min<uint64_t>(report_.last_seq, kHashesReservedMax) + 1);
  uint64_t last_key = 0;
  uint64_t next_progress = kProgressRecords;
  ScanReader reader((*view)->db());
  while (std::unique_ptr<ScanBatch> batch = reader.Next()) {
    for (const ScannedEntry& entry : batch->entries) {
      if (!entry.well_formed_key()) {
        Add(expected_seq_, absl::StrCat("a ", entry.key_bytes, "-byte key among the records"));
        continue;
      }
      last_key = entry.seq;
      VisitEntry(*batch, entry);
      if (progress_ && report_.records >= next_progress) {
        progress_(absl::StrCat("checked ", report_.records, " of ", report_.last_seq,
                               " records"));
        next_progress += kProgressRecords;
      }
    }
    if (!batch->status.ok()) {
      Add(expected_seq_, absl::StrCat("reading stopped: ", batch->status.message()));
    }
    reader.Recycle(std::move(batch));
  }
  TakeSnapshot();
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
