// Test-only: builds journal Record buffers for the projector's and snapshots' tests
// (a FlatBufferBuilder and schema::CreateRecord with seq and prev_hash set), without
// depending on journal/. Not thread-safe.
#ifndef ALMANAC_CTL_STATE_TEST_RECORDS_H_
#define ALMANAC_CTL_STATE_TEST_RECORDS_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "ctl/state/state.h"
#include "schemas/events_generated.h"

namespace almanac::state::testing {

// A deterministic public identity text for `address` ("address:0:<128 hex>"); the key
// bytes are derived from the address, so different addresses get different keys.
std::string TestIdentity(uint64_t address);

// A deterministic stand-in for the journal's chain hash of record `seq`.
std::array<uint8_t, 32> FakeChainHash(uint64_t seq);

// Makes consecutive records: each call returns a finished Record buffer with the next
// seq (from 1), a time 1000 ms after the previous one, the current epoch, and prev_hash =
// FakeChainHash(seq - 1) (zeros for seq 1).
class RecordMaker {
 public:
  std::string ControllerInitialized(const std::string& identity);
  std::string EpochStarted(uint64_t epoch);  // also sets the maker's epoch
  std::string Seal(uint64_t sealed_seq);
  std::string NetworkCreated(uint64_t nwid, const NetworkConfig& config);
  std::string NetworkChanged(uint64_t nwid, const NetworkConfig& config);
  std::string NetworkDeleted(uint64_t nwid);
  std::string MemberJoined(uint64_t nwid, uint64_t address, const std::string& identity);
  std::string MemberCreated(uint64_t nwid, uint64_t address, const MemberConfig& config);
  std::string MemberAuthorized(uint64_t nwid, uint64_t address, const std::string& type);
  std::string MemberDeauthorized(uint64_t nwid, uint64_t address);
  std::string MemberChanged(uint64_t nwid, uint64_t address, const MemberConfig& config);
  std::string MemberDeleted(uint64_t nwid, uint64_t address);
  std::string IpAssigned(uint64_t nwid, uint64_t address, const std::string& ip);
  std::string IpReleased(uint64_t nwid, uint64_t address, const std::string& ip);
  std::string Empty();  // a record with no body

  uint64_t next_seq() const { return next_seq_; }
  void set_next_seq(uint64_t seq) { next_seq_ = seq; }
  int64_t last_time_ms() const { return time_ms_; }
  void set_epoch(uint64_t epoch) { epoch_ = epoch; }

 private:
  std::string Finish(flatbuffers::FlatBufferBuilder& b, schema::Body type,
                     flatbuffers::Offset<void> body);

  uint64_t next_seq_ = 1;
  int64_t time_ms_ = 1'700'000'000'000;
  uint64_t epoch_ = 1;
};

// The Record in a buffer made above, after running the FlatBuffers Verifier (CHECKs).
const schema::Record& AsRecord(const std::string& buffer);

// Apply(state, AsRecord(buffer), FakeChainHash(seq)).
absl::Status ApplyBuffer(State& state, const std::string& buffer);

}  // namespace almanac::state::testing

#endif  // ALMANAC_CTL_STATE_TEST_RECORDS_H_
