// Goal: the replication framing and handshake refuse everything that does not come from
// a holder of the controller identity on this very connection: another identity, bytes
// that are not the protocol, and frames altered, replayed or reordered. Method: the pure
// codec, then Channel::Handshake over socketpairs with real identities.
#include "ctl/replication/protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "ctl/replication/channel.h"
#include "ctl/replication/limits.h"
#include "gtest/gtest.h"

namespace almanac::replication {
namespace {

const zt::Identity& IdentityA() {
  static const zt::Identity* id = new zt::Identity(zt::Identity::Generate());
  return *id;
}
const zt::Identity& IdentityB() {
  static const zt::Identity* id = new zt::Identity(zt::Identity::Generate());
  return *id;
}

std::string SomeHello(Role role, uint8_t fill) {
  Hello h;
  h.role = role;
  h.address = 0x0102030405;
  h.nonce.fill(fill);
  return EncodeHello(h);
}

TEST(ProtocolTest, HelloRoundTripAndRefusals) {
  const std::string bytes = SomeHello(Role::kPrimary, 7);
  ASSERT_EQ(bytes.size(), kHelloBytes);
  EXPECT_EQ(bytes.substr(0, 8), "ALMREPL1");
  absl::StatusOr<Hello> h = DecodeHello(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->role, Role::kPrimary);
  EXPECT_EQ(h->address, 0x0102030405u);
  EXPECT_EQ(h->nonce[31], 7);
  std::string bad = bytes;
  bad[0] = 'X';
  EXPECT_FALSE(DecodeHello(bad).ok());
  bad = bytes;
  bad[8] = 3;
  EXPECT_FALSE(DecodeHello(bad).ok());
  bad = bytes;
  bad[15] = 1;
  EXPECT_FALSE(DecodeHello(bad).ok());
  EXPECT_FALSE(DecodeHello(bytes.substr(1)).ok());
}

TEST(ProtocolTest, KeysAgreeOnlyUnderTheSameIdentityAndHellos) {
  const std::string sh = SomeHello(Role::kStandby, 1);
  const std::string ph = SomeHello(Role::kPrimary, 2);
  const SessionKeys standby = DeriveSessionKeys(IdentityA(), Role::kStandby, sh, ph);
  const SessionKeys primary = DeriveSessionKeys(IdentityA(), Role::kPrimary, sh, ph);
  EXPECT_EQ(standby.send, primary.receive);
  EXPECT_EQ(standby.receive, primary.send);
  EXPECT_NE(standby.send, standby.receive);
  const SessionKeys other = DeriveSessionKeys(IdentityB(), Role::kPrimary, sh, ph);
  EXPECT_NE(other.receive, standby.send);
  // Another nonce (another connection): other keys.
  const SessionKeys again =
      DeriveSessionKeys(IdentityA(), Role::kPrimary, sh, SomeHello(Role::kPrimary, 3));
  EXPECT_NE(again.receive, standby.send);
}

TEST(ProtocolTest, FramesOpenOnlyWithTheirKeyCounterAndBytes) {
  const std::string sh = SomeHello(Role::kStandby, 1);
  const std::string ph = SomeHello(Role::kPrimary, 2);
  const SessionKeys s = DeriveSessionKeys(IdentityA(), Role::kStandby, sh, ph);
  const SessionKeys p = DeriveSessionKeys(IdentityA(), Role::kPrimary, sh, ph);
  const std::string frame = SealFrame(p.send, 5, MessageType::kAck, EncodeU64(42));
  const std::string header = frame.substr(0, kFrameHeaderBytes);
  const std::string body = frame.substr(kFrameHeaderBytes);
  absl::StatusOr<uint32_t> n = FrameLength(header);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, body.size());
  absl::StatusOr<Message> m = OpenFrame(s.receive, 5, header, body);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->type, MessageType::kAck);
  EXPECT_EQ(*DecodeU64(m->payload), 42u);
  // Replayed or reordered: the receiver's counter differs.
  EXPECT_EQ(OpenFrame(s.receive, 6, header, body).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenFrame(s.receive, 4, header, body).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Every altered byte, header included, is refused.
  for (size_t i = 0; i < frame.size(); ++i) {
    std::string altered = frame;
    altered[i] ^= 0x01;
    EXPECT_FALSE(OpenFrame(s.receive, 5, altered.substr(0, 4), altered.substr(4)).ok()) << i;
  }
  // Another identity's key, or the sender's own direction.
  const SessionKeys b = DeriveSessionKeys(IdentityB(), Role::kStandby, sh, ph);
  EXPECT_FALSE(OpenFrame(b.receive, 5, header, body).ok());
  EXPECT_FALSE(OpenFrame(s.send, 5, header, body).ok());
}

TEST(ProtocolTest, FrameLengthIsBounded) {
  auto header = [](uint32_t n) {
    std::string h(4, '\0');
    for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(n >> (8 * (3 - i)));
    return h;
  };
  EXPECT_FALSE(FrameLength(header(0)).ok());
  EXPECT_FALSE(FrameLength(header(16)).ok());
  EXPECT_TRUE(FrameLength(header(17)).ok());
  EXPECT_TRUE(FrameLength(header(kFramePlaintextMax + kTagBytes)).ok());
  EXPECT_FALSE(FrameLength(header(kFramePlaintextMax + kTagBytes + 1)).ok());
  EXPECT_FALSE(FrameLength(header(0xffffffffu)).ok());
}

TEST(ProtocolTest, PayloadsRoundTripAndTruncationsAreRefused) {
  const std::vector<std::string> records = {"abc", std::string(1000, 'x')};
  const std::string enc = EncodeRecords(99, records);
  absl::StatusOr<RecordsMessage> dec = DecodeRecords(enc);
  ASSERT_TRUE(dec.ok()) << dec.status();
  EXPECT_EQ(dec->last, 99u);
  EXPECT_EQ(dec->records, records);
  for (size_t cut = 0; cut < enc.size(); cut += 97) {
    EXPECT_FALSE(DecodeRecords(enc.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeRecords(enc + "x").ok());
  std::string zero_count = enc.substr(0, 12);
  zero_count[11] = 0;
  EXPECT_FALSE(DecodeRecords(zero_count).ok());

  SeqHash sh{12, {}};
  sh.hash[0] = 9;
  absl::StatusOr<SeqHash> sh2 = DecodeSeqHash(EncodeSeqHash(sh));
  ASSERT_TRUE(sh2.ok());
  EXPECT_EQ(sh2->seq, 12u);
  EXPECT_EQ(sh2->hash, sh.hash);
  EXPECT_FALSE(DecodeSeqHash("short").ok());
  absl::StatusOr<ProbeReply> pr = DecodeProbeReply(EncodeProbeReply({5, true, 8}));
  ASSERT_TRUE(pr.ok());
  EXPECT_TRUE(pr->match);
  EXPECT_EQ(pr->last, 8u);
  std::string bad_match = EncodeProbeReply({5, true, 8});
  bad_match[8] = 2;
  EXPECT_FALSE(DecodeProbeReply(bad_match).ok());
  absl::StatusOr<AuthInfo> auth = DecodeAuth(EncodeAuth({3, 4}));
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->epoch, 3u);
  EXPECT_EQ(auth->last_seq, 4u);
}

struct HandshakeResult {
  absl::StatusOr<std::unique_ptr<Channel>> standby = absl::UnknownError("unset");
  absl::StatusOr<std::unique_ptr<Channel>> primary = absl::UnknownError("unset");
};

HandshakeResult RunHandshake(const zt::Identity& standby_id, const zt::Identity& primary_id) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  HandshakeResult r;
  std::thread t(
      [&] { r.primary = Channel::Handshake(fds[1], primary_id, Role::kPrimary, {1, 10}); });
  r.standby = Channel::Handshake(fds[0], standby_id, Role::kStandby, {1, 7});
  t.join();
  return r;
}

TEST(ChannelTest, SameIdentityConnectsAndExchanges) {
  HandshakeResult r = RunHandshake(IdentityA(), IdentityA());
  ASSERT_TRUE(r.standby.ok()) << r.standby.status();
  ASSERT_TRUE(r.primary.ok()) << r.primary.status();
  EXPECT_EQ((*r.standby)->peer_auth().last_seq, 10u);
  EXPECT_EQ((*r.primary)->peer_auth().last_seq, 7u);
  ASSERT_TRUE((*r.primary)->Send(MessageType::kHeartbeat, EncodeU64(10)).ok());
  ASSERT_TRUE((*r.primary)->Send(MessageType::kHeartbeat, EncodeU64(11)).ok());
  for (uint64_t want : {10u, 11u}) {
    absl::StatusOr<Message> m = (*r.standby)->Receive(1000);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(*DecodeU64(m->payload), want);
  }
  // Silence is a timeout, not a hang.
  EXPECT_EQ((*r.standby)->Receive(50).status().code(), absl::StatusCode::kUnavailable);
}

TEST(ChannelTest, DifferentIdentityIsRefusedOnBothSides) {
  HandshakeResult r = RunHandshake(IdentityB(), IdentityA());
  ASSERT_FALSE(r.standby.ok());
  ASSERT_FALSE(r.primary.ok());
  EXPECT_EQ(r.standby.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(r.primary.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(r.primary.status().message().find("does not hold this controller's identity"),
            std::string::npos)
      << r.primary.status();
}

TEST(ChannelTest, GarbageAndWrongRolesAreRefused) {
  {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(40, 'z');
    ASSERT_TRUE(WriteAll(fds[0], garbage).ok());
    absl::StatusOr<std::unique_ptr<Channel>> p =
        Channel::Handshake(fds[1], IdentityA(), Role::kPrimary, {1, 1});
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << p.status();
    ::close(fds[0]);
  }
  {
    // A correct hello followed by a frame of garbage: refused at AUTH.
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ASSERT_TRUE(WriteAll(fds[0], SomeHello(Role::kStandby, 4)).ok());
    ASSERT_TRUE(WriteAll(fds[0], std::string("\x00\x00\x00\x20", 4) + std::string(32, 'q')).ok());
    absl::StatusOr<std::unique_ptr<Channel>> p =
        Channel::Handshake(fds[1], IdentityA(), Role::kPrimary, {1, 1});
    EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied) << p.status();
    ::close(fds[0]);
  }
  {
    // A huge announced frame is refused before any allocation.
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ASSERT_TRUE(WriteAll(fds[0], SomeHello(Role::kStandby, 4)).ok());
    ASSERT_TRUE(WriteAll(fds[0], std::string("\x7f\xff\xff\xff", 4)).ok());
    absl::StatusOr<std::unique_ptr<Channel>> p =
        Channel::Handshake(fds[1], IdentityA(), Role::kPrimary, {1, 1});
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << p.status();
    ::close(fds[0]);
  }
  // Two primaries.
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  absl::StatusOr<std::unique_ptr<Channel>> other;
  std::thread t([&] { other = Channel::Handshake(fds[1], IdentityA(), Role::kPrimary, {1, 1}); });
  absl::StatusOr<std::unique_ptr<Channel>> me =
      Channel::Handshake(fds[0], IdentityA(), Role::kPrimary, {1, 1});
  t.join();
  EXPECT_EQ(me.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace almanac::replication
