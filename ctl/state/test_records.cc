#include "ctl/state/test_records.h"

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "ctl/state/convert.h"
#include "ctl/state/projector.h"

namespace almanac::state::testing {

std::string TestIdentity(uint64_t address) {
  Member member;
  member.address = address;
  member.has_identity = true;
  uint64_t x = address * 0x9e3779b97f4a7c15ull + 1;
  for (uint8_t& byte : member.identity_public) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    byte = static_cast<uint8_t>(x);
  }
  return IdentityText(member);
}

std::array<uint8_t, 32> FakeChainHash(uint64_t seq) {
  std::array<uint8_t, 32> hash{};
  if (seq == 0) return hash;
  for (size_t i = 0; i < hash.size(); ++i) hash[i] = static_cast<uint8_t>(seq * 31 + i);
  return hash;
}

std::string RecordMaker::Finish(flatbuffers::FlatBufferBuilder& b, schema::Body type,
                                flatbuffers::Offset<void> body) {
  const uint64_t seq = next_seq_++;
  time_ms_ += 1000;
  std::array<uint8_t, 32> prev = FakeChainHash(seq - 1);
  auto prev_hash = b.CreateVector(prev.data(), prev.size());
  auto actor = schema::CreateActor(b, schema::ActorKind::AdminToken, b.CreateString("test"),
                                   b.CreateString("127.0.0.1:1"));
  b.Finish(schema::CreateRecord(b, seq, time_ms_, epoch_, actor, prev_hash, type, body),
           schema::RecordIdentifier());
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

std::string RecordMaker::ControllerInitialized(const std::string& identity) {
  flatbuffers::FlatBufferBuilder b;
  auto body = schema::CreateControllerInitialized(b, b.CreateString(identity));
  return Finish(b, schema::Body::ControllerInitialized, body.Union());
}

std::string RecordMaker::EpochStarted(uint64_t epoch) {
  flatbuffers::FlatBufferBuilder b;
  epoch_ = epoch;
  return Finish(b, schema::Body::EpochStarted, schema::CreateEpochStarted(b, epoch).Union());
}

std::string RecordMaker::Seal(uint64_t sealed_seq) {
  flatbuffers::FlatBufferBuilder b;
  std::array<uint8_t, 32> hash = FakeChainHash(sealed_seq);
  std::array<uint8_t, 96> signature{};
  auto body = schema::CreateSeal(b, sealed_seq, b.CreateVector(hash.data(), hash.size()),
                                 b.CreateVector(signature.data(), signature.size()));
  return Finish(b, schema::Body::Seal, body.Union());
}

std::string RecordMaker::NetworkCreated(uint64_t nwid, const NetworkConfig& config) {
  flatbuffers::FlatBufferBuilder b;
  auto body = schema::CreateNetworkCreated(b, nwid, BuildNetworkConfig(b, config));
  return Finish(b, schema::Body::NetworkCreated, body.Union());
}

std::string RecordMaker::NetworkChanged(uint64_t nwid, const NetworkConfig& config) {
  flatbuffers::FlatBufferBuilder b;
  auto body = schema::CreateNetworkChanged(b, nwid, BuildNetworkConfig(b, config));
  return Finish(b, schema::Body::NetworkChanged, body.Union());
}

std::string RecordMaker::NetworkDeleted(uint64_t nwid) {
  flatbuffers::FlatBufferBuilder b;
  return Finish(b, schema::Body::NetworkDeleted, schema::CreateNetworkDeleted(b, nwid).Union());
}

std::string RecordMaker::MemberJoined(uint64_t nwid, uint64_t address,
                                      const std::string& identity) {
  flatbuffers::FlatBufferBuilder b;
  auto metadata = schema::CreateRequestMetadata(b, 12, 1, 14, 1, b.CreateString("linux-x64"),
                                                b.CreateString("10.0.0.2/9993"));
  auto body = schema::CreateMemberJoined(b, nwid, address, b.CreateString(identity), metadata);
  return Finish(b, schema::Body::MemberJoined, body.Union());
}

std::string RecordMaker::MemberCreated(uint64_t nwid, uint64_t address,
                                       const MemberConfig& config) {
  flatbuffers::FlatBufferBuilder b;
  auto body = schema::CreateMemberCreated(b, nwid, address, BuildMemberConfig(b, config));
  return Finish(b, schema::Body::MemberCreated, body.Union());
}

std::string RecordMaker::MemberAuthorized(uint64_t nwid, uint64_t address,
                                          const std::string& type) {
  flatbuffers::FlatBufferBuilder b;
  auto body = schema::CreateMemberAuthorized(b, nwid, address, b.CreateString(type));
  return Finish(b, schema::Body::MemberAuthorized, body.Union());
}

std::string RecordMaker::MemberDeauthorized(uint64_t nwid, uint64_t address) {
  flatbuffers::FlatBufferBuilder b;
  auto body = schema::CreateMemberDeauthorized(b, nwid, address);
  return Finish(b, schema::Body::MemberDeauthorized, body.Union());
}

std::string RecordMaker::MemberChanged(uint64_t nwid, uint64_t address,
                                       const MemberConfig& config) {
  flatbuffers::FlatBufferBuilder b;
  auto config_offset = BuildMemberConfig(b, config);
  auto change = schema::CreateFieldChange(b, b.CreateString("name"), b.CreateString("\"\""),
                                          b.CreateString("\"x\""));
  auto changes = b.CreateVector(&change, 1);
  auto body = schema::CreateMemberChanged(b, nwid, address, config_offset, changes);
  return Finish(b, schema::Body::MemberChanged, body.Union());
}

std::string RecordMaker::MemberDeleted(uint64_t nwid, uint64_t address) {
  flatbuffers::FlatBufferBuilder b;
  auto body = schema::CreateMemberDeleted(b, nwid, address);
  return Finish(b, schema::Body::MemberDeleted, body.Union());
}

std::string RecordMaker::IpAssigned(uint64_t nwid, uint64_t address, const std::string& ip) {
  flatbuffers::FlatBufferBuilder b;
  auto body = schema::CreateIpAssigned(b, nwid, address, b.CreateString(ip));
  return Finish(b, schema::Body::IpAssigned, body.Union());
}

std::string RecordMaker::IpReleased(uint64_t nwid, uint64_t address, const std::string& ip) {
  flatbuffers::FlatBufferBuilder b;
  auto body = schema::CreateIpReleased(b, nwid, address, b.CreateString(ip));
  return Finish(b, schema::Body::IpReleased, body.Union());
}

std::string RecordMaker::Empty() {
  flatbuffers::FlatBufferBuilder b;
  return Finish(b, schema::Body::NONE, 0);
}

const schema::Record& AsRecord(const std::string& buffer) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(buffer.data()),
                                 buffer.size());
  ALMANAC_CHECK_MSG(schema::VerifyRecordBuffer(verifier), "test record does not verify");
  return *schema::GetRecord(buffer.data());
}

absl::Status ApplyBuffer(State& state, const std::string& buffer) {
  const schema::Record& record = AsRecord(buffer);
  return Apply(state, record, FakeChainHash(record.seq()));
}

}  // namespace almanac::state::testing
