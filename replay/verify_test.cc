// Goal: `almanac-replay verify` finds every kind of tampering with the right seq and a
// non-zero exit, keeps going past a problem, and passes an untouched journal (seals
// valid, replay equal to the newest snapshot).
// Method: a real controller home under $TEST_TMPDIR (seals and a snapshot taken at known
// points); each test tampers with a COPY of it through RocksDB, as an attacker with disk
// access would, then runs the verifier and the CLI on the copy.
#include "replay/verify.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/testing.h"
#include "ctl/controller.h"
#include "ctl/state/projector.h"
#include "ctl/state/snapshot.h"
#include "gtest/gtest.h"
#include "journal/journal.h"
#include "journal/record.h"
#include "replay/cli.h"
#include "replay/seal.h"
#include "rocksdb/db.h"

namespace almanac::replay {
namespace {

namespace fs = std::filesystem;

void Submit(ctl::Controller& c, ctl::Command command) {
  absl::StatusOr<ctl::CommitResult> r = c.sequencer()->Submit(std::move(command));
  ASSERT_TRUE(r.ok()) << r.status();
}

void AddNetworkWithMembers(ctl::Controller& c, uint64_t nwid, int members) {
  ctl::Command net;
  net.writes = {ctl::ObjectKey::Controller(), ctl::ObjectKey::Network(nwid)};
  net.decide = [nwid](const state::State&, ctl::CommandContext& ctx) {
    ctx.Emit(schema::Body::NetworkCreated, [nwid](flatbuffers::FlatBufferBuilder& b) {
      return schema::CreateNetworkCreated(b, nwid).Union();
    });
    return absl::OkStatus();
  };
  Submit(c, std::move(net));
  for (int i = 1; i <= members; ++i) {
    const uint64_t address = 0x1000000000ULL + i;
    ctl::Command m;
    m.writes = {ctl::ObjectKey::Member(nwid, address)};
    m.decide = [nwid, address](const state::State&, ctl::CommandContext& ctx) {
      ctx.Emit(schema::Body::MemberCreated, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateMemberCreated(b, nwid, address).Union();
      });
      ctx.Emit(schema::Body::MemberAuthorized, [&](flatbuffers::FlatBufferBuilder& b) {
        return schema::CreateMemberAuthorizedDirect(b, nwid, address, "api").Union();
      });
      return absl::OkStatus();
    };
    Submit(c, std::move(m));
  }
}

class VerifyTest : public ::testing::Test {
 protected:
  // One home for all tests: records 1 (init) .. 6 (network 1 + 2 members), 7 (seal of
  // 6), 8..12 (network 2), snapshot at 12, 13..17 (network 3), 18 (seal of 17).
  static void SetUpTestSuite() {
    home_ = new std::string(testing::MakeTempDir("verify") + "/home");
    ctl::ControllerOptions o;
    o.home = *home_;
    o.snapshot_interval_records = 0;
    o.seal_interval_records = 0;
    o.seal_interval_seconds = 0;
    auto c = ctl::Controller::Open(o);
    ASSERT_TRUE(c.ok()) << c.status();
    AddNetworkWithMembers(**c, 0x949cb95e9d000001ULL, 2);
    ASSERT_TRUE((*c)->SealNow().ok());
    AddNetworkWithMembers(**c, 0x949cb95e9d000002ULL, 2);
    ASSERT_TRUE((*c)->WriteSnapshotNow().ok());
    AddNetworkWithMembers(**c, 0x949cb95e9d000003ULL, 2);
    ASSERT_TRUE((*c)->SealNow().ok());
    ASSERT_EQ((*c)->journal()->last_seq(), 18u);
  }
  static void TearDownTestSuite() { delete home_; }

  // A fresh copy of the home, handed to `tamper` as an open read-write database.
  std::string CopyAndTamper(const std::function<void(rocksdb::DB*)>& tamper) {
    const std::string copy = testing::MakeTempDir("copy") + "/home";
    fs::copy(*home_, copy, fs::copy_options::recursive);
    rocksdb::DB* raw = nullptr;
    rocksdb::Options options;
    EXPECT_TRUE(rocksdb::DB::Open(options, copy + "/journal", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    tamper(db.get());
    return copy;
  }

  static std::string Get(rocksdb::DB* db, uint64_t seq) {
    std::string value;
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), journal::RecordKey(seq), &value).ok());
    return value;
  }
  static void Put(rocksdb::DB* db, uint64_t seq, const std::string& value) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), journal::RecordKey(seq), value).ok());
  }

  // Problem seqs from the library, and the CLI's exit code and output on the same copy.
  std::set<uint64_t> ProblemSeqs(const std::string& home, std::string* cli_out, int* rc) {
    absl::StatusOr<VerifyReport> report = VerifySource(SourcePaths(home), nullptr);
    EXPECT_TRUE(report.ok()) << report.status();
    std::set<uint64_t> seqs;
    if (report.ok()) {
      for (const Problem& p : report->problems) seqs.insert(p.seq);
    }
    std::ostringstream out, err;
    *rc = RunReplay({"--home", home, "verify"}, out, err);
    *cli_out = out.str();
    return seqs;
  }

  static std::string* home_;
};
std::string* VerifyTest::home_ = nullptr;

TEST_F(VerifyTest, UntouchedJournalVerifiesClean) {
  absl::StatusOr<VerifyReport> r = VerifySource(SourcePaths(*home_), nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok()) << r->Text();
  EXPECT_EQ(r->records, 18u);
  EXPECT_EQ(r->seals, 2u);
  EXPECT_EQ(r->seals_valid, 2u);
  EXPECT_EQ(r->last_sealed_seq, 17u);
  EXPECT_EQ(r->snapshot_seq, 12u);
  EXPECT_TRUE(r->snapshot_matches);
  EXPECT_EQ(r->replayed_seq, 18u);
  std::ostringstream out, err;
  EXPECT_EQ(RunReplay({"--home", *home_, "verify"}, out, err), 0) << out.str() << err.str();
  EXPECT_EQ(out.str().rfind("OK: 18 records", 0), 0u) << out.str();
  std::ostringstream json_out;
  EXPECT_EQ(RunReplay({"--home", *home_, "--json", "verify"}, json_out, err), 0);
  EXPECT_NE(json_out.str().find("\"ok\":true"), std::string::npos) << json_out.str();
}

TEST_F(VerifyTest, ChangedByteIsReportedAtItsRecord) {
  const std::string copy = CopyAndTamper([](rocksdb::DB* db) {
    std::string v = Get(db, 9);
    v[(v.size() - 32) / 2] ^= 0x40;
    Put(db, 9, v);
  });
  std::string out;
  int rc = 0;
  EXPECT_EQ(ProblemSeqs(copy, &out, &rc), std::set<uint64_t>{9}) << out;
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("record 9: "), std::string::npos) << out;
  EXPECT_NE(out.find("FAILED: 1 problem"), std::string::npos) << out;
}

TEST_F(VerifyTest, DeletedRecordIsAGap) {
  const std::string copy = CopyAndTamper([](rocksdb::DB* db) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), journal::RecordKey(10)).ok());
  });
  std::string out;
  int rc = 0;
  EXPECT_EQ(ProblemSeqs(copy, &out, &rc), std::set<uint64_t>{10}) << out;
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("record 10: record missing"), std::string::npos) << out;
}

TEST_F(VerifyTest, SwappedRecordsAreBothReported) {
  const std::string copy = CopyAndTamper([](rocksdb::DB* db) {
    const std::string a = Get(db, 4), b = Get(db, 5);
    Put(db, 4, b);
    Put(db, 5, a);
  });
  std::string out;
  int rc = 0;
  EXPECT_EQ(ProblemSeqs(copy, &out, &rc), (std::set<uint64_t>{4, 5})) << out;
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("record 4: holds record 5"), std::string::npos) << out;
}

// The record's own checksum is recomputed so it is valid, but prev_hash is changed: the
// chain is broken AT this record.
TEST_F(VerifyTest, ValidChecksumButBrokenLinkIsReportedAtThatRecord) {
  const std::string copy = CopyAndTamper([](rocksdb::DB* db) {
    std::string v = Get(db, 11);
    std::string bytes = v.substr(0, v.size() - 32);
    const auto* record = flatbuffers::GetRoot<schema::Record>(bytes.data());
    const size_t at = record->prev_hash()->data() - reinterpret_cast<const uint8_t*>(bytes.data());
    journal::ChainHash fake;
    fake.fill(0xab);
    std::memcpy(&bytes[at], fake.data(), fake.size());
    Put(db, 11, journal::StoredValue(bytes, journal::ComputeChainHash(fake, bytes)));
  });
  std::string out;
  int rc = 0;
  EXPECT_EQ(ProblemSeqs(copy, &out, &rc), std::set<uint64_t>{11}) << out;
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("record 11: chain broken"), std::string::npos) << out;
}

// A record rewritten consistently with the record before it (checksum valid, prev_hash
// right) still breaks the chain: the NEXT record no longer links to it; the seal over 17
// is unaffected but the one over 6 is, if the rewrite is at or before 6.
TEST_F(VerifyTest, RewrittenRecordBreaksTheNextLinkAndTheSeal) {
  const std::string copy = CopyAndTamper([](rocksdb::DB* db) {
    const std::string v5 = Get(db, 5);
    journal::ChainHash prev;
    std::memcpy(prev.data(), v5.data() + v5.size() - 32, 32);
    std::string v = Get(db, 6);
    std::string bytes = v.substr(0, v.size() - 32);
    const auto* record = flatbuffers::GetRoot<schema::Record>(bytes.data());
    // Record derives privately from flatbuffers::Table; the generated code casts too.
    const size_t at = reinterpret_cast<const flatbuffers::Table*>(record)
                          ->GetOptionalFieldOffset(schema::Record::VT_TIME_MS);
    ASSERT_NE(at, 0u);
    const size_t field = reinterpret_cast<const char*>(record) + at - bytes.data();
    bytes[field] ^= 0x01;  // the time, one millisecond off
    Put(db, 6, journal::StoredValue(bytes, journal::ComputeChainHash(prev, bytes)));
  });
  std::string out;
  int rc = 0;
  EXPECT_EQ(ProblemSeqs(copy, &out, &rc), (std::set<uint64_t>{7})) << out;
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("record 7: chain broken"), std::string::npos) << out;
}

// A seal appended by someone without the controller's secret, chained correctly.
TEST_F(VerifyTest, ForgedSealIsReportedAndTheChainCheckGoesOn) {
  const std::string copy = testing::MakeTempDir("copy") + "/home";
  fs::copy(*home_, copy, fs::copy_options::recursive);
  {
    auto journal = journal::Journal::Open(copy + "/journal", {});
    ASSERT_TRUE(journal.ok()) << journal.status();
    const zt::Identity forger = zt::Identity::Generate();
    const uint64_t seq = (*journal)->last_seq();
    const journal::ChainHash hash = (*journal)->last_hash();
    const auto sig = forger.Sign(SealMessage(seq, hash));
    std::string draft = journal::BuildRecordDraft(
        1, 1, schema::ActorKind::System, "seal", "", schema::Body::Seal,
        [&](flatbuffers::FlatBufferBuilder& b) {
          return schema::CreateSeal(b, seq, b.CreateVector(hash.data(), hash.size()),
                                    b.CreateVector(sig.data(), sig.size()))
              .Union();
        });
    ASSERT_TRUE((*journal)->Append(std::move(draft)).ok());
  }
  // And a changed byte later than the forged seal's target, to show both are found.
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), copy + "/journal", &raw).ok());
  {
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string v = Get(db.get(), 3);
    v[(v.size() - 32) / 2] ^= 0x10;
    Put(db.get(), 3, v);
  }
  std::string out;
  int rc = 0;
  EXPECT_EQ(ProblemSeqs(copy, &out, &rc), (std::set<uint64_t>{3, 19})) << out;
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("record 19: forged or damaged seal"), std::string::npos) << out;
}

TEST_F(VerifyTest, LostTailIsReported) {
  const std::string copy = CopyAndTamper([](rocksdb::DB* db) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), journal::RecordKey(18)).ok());
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), journal::RecordKey(17)).ok());
  });
  std::string out;
  int rc = 0;
  EXPECT_EQ(ProblemSeqs(copy, &out, &rc), std::set<uint64_t>{17}) << out;
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("records 17..18 missing"), std::string::npos) << out;
}

// The snapshot is loaded and turned back into bytes on a second thread while the scan
// runs; the scan waits for it at every listed snapshot seq. A snapshot at 13 (newer than
// the one at 12) holding record 13 applied under a wrong chain hash: the replay must
// differ from it AT 13; with that file damaged instead, the scan falls back to 12.
class SnapshotCompareTest : public VerifyTest {
 protected:
  // A copy of the home with a second snapshot at 13 that no replay gives.
  std::string CopyWithWrongSnapshotAt13() {
    const std::string copy = testing::MakeTempDir("copy") + "/home";
    fs::copy(*home_, copy, fs::copy_options::recursive);
    absl::StatusOr<state::LoadedSnapshot> loaded =
        state::LoadNewestSnapshot(copy + "/snapshots");
    EXPECT_TRUE(loaded.ok() && loaded->state.has_value());
    if (!loaded.ok() || !loaded->state.has_value()) return copy;
    EXPECT_EQ(loaded->state->last_seq(), 12u);
    std::string record13;
    {
      auto journal = journal::Journal::Open(copy + "/journal", {});
      EXPECT_TRUE(journal.ok()) << journal.status();
      if (!journal.ok()) return copy;
      absl::StatusOr<std::vector<journal::StoredRecord>> read = (*journal)->Read(13, 1);
      EXPECT_TRUE(read.ok() && read->size() == 1);
      if (read.ok() && !read->empty()) record13 = (*read)[0].bytes;
    }
    journal::ChainHash wrong;
    wrong.fill(0x5a);
    EXPECT_TRUE(state::Apply(*loaded->state, *schema::GetRecord(record13.data()), wrong).ok());
    EXPECT_TRUE(state::WriteSnapshotFile(copy + "/snapshots", *loaded->state).ok());
    return copy;
  }
};

TEST_F(SnapshotCompareTest, ReplayDifferingFromTheNewestSnapshotIsReportedAtItsSeq) {
  const std::string copy = CopyWithWrongSnapshotAt13();
  std::string out;
  int rc = 0;
  EXPECT_EQ(ProblemSeqs(copy, &out, &rc), std::set<uint64_t>{13}) << out;
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("record 13: replaying records 1..13 does not give the state"),
            std::string::npos)
      << out;
  absl::StatusOr<VerifyReport> r = VerifySource(SourcePaths(copy), nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->snapshot_seq, 13u);
  EXPECT_TRUE(r->snapshot_compared);
  EXPECT_FALSE(r->snapshot_matches);
  EXPECT_EQ(r->replayed_seq, 18u);  // the replay goes on past the mismatch
}

TEST_F(SnapshotCompareTest, DamagedNewestSnapshotFallsBackToTheOlderOne) {
  const std::string copy = CopyWithWrongSnapshotAt13();
  const std::string newest = copy + "/snapshots/snapshot-00000000000000000013.alms";
  ASSERT_TRUE(fs::exists(newest));
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x7f');
  }
  absl::StatusOr<VerifyReport> r = VerifySource(SourcePaths(copy), nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->problems.size(), 1u) << r->Text();
  EXPECT_EQ(r->problems[0].seq, 0u);
  EXPECT_NE(r->problems[0].what.find("damaged snapshot"), std::string::npos) << r->Text();
  EXPECT_EQ(r->snapshot_seq, 12u);
  EXPECT_TRUE(r->snapshot_compared);
  EXPECT_TRUE(r->snapshot_matches);
}

// A snapshot written by a build with another snapshot format (intact: its hash holds) is
// not damage: verify skips it without a problem and compares the older one, as almanacd
// skips it at start.
TEST_F(SnapshotCompareTest, IntactSnapshotOfAnotherFormatVersionIsSkippedQuietly) {
  const std::string copy = CopyWithWrongSnapshotAt13();
  const std::string newest = copy + "/snapshots/snapshot-00000000000000000013.alms";
  ASSERT_TRUE(fs::exists(newest));
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);  // format version, uint32 little-endian (ctl/state/snapshot.h)
    f.put('\x01');
  }
  absl::StatusOr<VerifyReport> r = VerifySource(SourcePaths(copy), nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->problems.empty()) << r->Text();
  EXPECT_EQ(r->snapshot_seq, 12u);
  EXPECT_TRUE(r->snapshot_compared);
  EXPECT_TRUE(r->snapshot_matches);
}

}  // namespace
}  // namespace almanac::replay
