// Goal: GET /events hands out every durable record after a position, once and in order,
// in both formats, with working filters, long polls, follow streams and limits. Method:
// the real server over a real journal (api_test_env.h); changes through the admin API;
// streams read with httplib::Client, raw frames checked with the journal's verifier.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ctl/api/api_test_env.h"
#include "ctl/api/event_stream.h"
#include "ctl/api/limits.h"
#include "gtest/gtest.h"
#include "journal/record.h"

namespace almanac::api {
namespace {

using nlohmann::json;

constexpr char kMember[] = "73d8c8d12f";

httplib::Headers Auth() { return {{"X-ZT1-Auth", kTestToken}}; }

// The lines of a JSON-lines body, parsed; fails the test on a line that is not JSON.
std::vector<json> Lines(const std::string& body) {
  std::vector<json> out;
  for (absl::string_view line : absl::StrSplit(body, '\n', absl::SkipEmpty())) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << line;
    out.push_back(j);
  }
  return out;
}

// The server's write timeout here: a consumer that never reads is cut off after it, so a
// short one keeps that test short.
constexpr absl::Duration kTestWriteTimeout = absl::Seconds(3);

class EventsTest : public ApiServerTestBase {
 protected:
  void AdjustServerOptions(ApiServerOptions* options) override {
    options->write_timeout = kTestWriteTimeout;
  }
  // A network with one authorized member: NetworkCreated, MemberCreated,
  // MemberAuthorized (and nothing else: no pools, so no IpAssigned).
  std::string MakeNetworkWithMember() {
    const std::string nwid = CreateNetwork(R"({"name":"events"})");
    HttpResult m = Post(absl::StrCat("/controller/network/", nwid, "/member/", kMember),
                        R"({"authorized":true})");
    EXPECT_EQ(m.status, 200) << m.body;
    return nwid;
  }
  std::string MetricsText() { return Get("/metrics").body; }
};

TEST_F(EventsTest, NeedsTheToken) {
  EXPECT_EQ(GetWithHeaders("/events", {}).status, 401);
  EXPECT_EQ(GetWithHeaders("/events?after=0&auth=wrong", {}).status, 401);
  EXPECT_EQ(GetWithHeaders(absl::StrCat("/events?auth=", kTestToken), {}).status, 200);
  EXPECT_EQ(Post("/events", "{}").status, 405);
}

TEST_F(EventsTest, EveryRecordAfterAPositionThenAHeartbeat) {
  const std::string nwid = MakeNetworkWithMember();
  const uint64_t last = last_seq();
  ASSERT_GE(last, 3u);
  HttpResult r = Get("/events?after=0");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<json> lines = Lines(r.body);
  ASSERT_EQ(lines.size(), last + 1);
  for (uint64_t i = 0; i < last; ++i) {
    EXPECT_EQ(lines[i]["seq"], i + 1);
    EXPECT_EQ(lines[i]["epoch"], 1);
    EXPECT_EQ(lines[i]["timeMs"], 1795818880722);
    EXPECT_EQ(lines[i]["actor"]["kind"], "token");
    EXPECT_EQ(lines[i]["actor"]["id"], "admin");
    EXPECT_EQ(lines[i]["network"], nwid);
  }
  EXPECT_EQ(lines[0]["type"], "NetworkCreated");
  EXPECT_EQ(lines[0]["body"]["config"]["name"], "events");
  EXPECT_FALSE(lines[0].contains("member"));
  bool authorized = false;
  for (const json& l : lines) {
    if (l.value("type", "") != "MemberAuthorized") continue;
    authorized = true;
    EXPECT_EQ(l["member"], kMember);
    EXPECT_EQ(l["body"]["credentialType"], "api");
  }
  EXPECT_TRUE(authorized);
  absl::StatusOr<std::vector<journal::StoredRecord>> stored = journal_->Read(1, last);
  ASSERT_TRUE(stored.ok()) << stored.status();
  for (uint64_t i = 0; i < last; ++i) {
    EXPECT_EQ(lines[i]["chainHash"], journal::HashHex((*stored)[i].chain_hash));
  }
  const std::string last_hash = journal::HashHex(stored->back().chain_hash);
  EXPECT_EQ(lines.back(), (json{{"heartbeat", true}, {"scanned", last}, {"lastSeq", last},
                                {"scannedHash", last_hash}}));

  // From the middle; at the end (nothing but the heartbeat); past the end refused.
  EXPECT_EQ(Lines(Get("/events?after=2").body).front()["seq"], 3);
  EXPECT_EQ(Get(absl::StrCat("/events?after=", last)).body,
            absl::StrCat(R"({"heartbeat":true,"lastSeq":)", last, R"(,"scanned":)", last,
                         R"(,"scannedHash":")", last_hash, "\"}\n"));
  EXPECT_EQ(Lines(Get("/events?limit=1").body).back()["scannedHash"],
            journal::HashHex((*stored)[0].chain_hash));

  // after_hash: the consumer's view of its position must be this journal's.
  const std::string h2 = journal::HashHex((*stored)[1].chain_hash);
  EXPECT_EQ(Get("/events?after=2&after_hash=" + h2).status, 200);
  EXPECT_EQ(Lines(Get("/events?after=2&after_hash=" + h2).body).front()["seq"], 3);
  const std::string other = std::string(63, '0') + "1";
  for (const std::string& q : {"/events?after=2&after_hash=" + other,
                               "/events?follow=1&after=2&after_hash=" + other}) {
    HttpResult r = Get(q);
    EXPECT_EQ(r.status, 409) << q << ": " << r.body;
    EXPECT_NE(r.body.find("history"), std::string::npos) << r.body;
  }
  EXPECT_EQ(Get("/events?after=2&after_hash=abc").status, 400);
  HttpResult past = Get(absl::StrCat("/events?after=", last + 1));
  EXPECT_EQ(past.status, 400);
  EXPECT_NE(past.json["error"].get<std::string>().find("past the journal's last record"),
            std::string::npos);
  EXPECT_EQ(Get(absl::StrCat("/events?follow=1&after=", last + 1)).status, 400);
}

TEST_F(EventsTest, FiltersByTypeAndNetworkAndSaysHowFarItLooked) {
  const std::string a = MakeNetworkWithMember();
  const std::string b = MakeNetworkWithMember();
  const uint64_t last = last_seq();

  std::vector<json> created = Lines(Get("/events?type=NetworkCreated").body);
  ASSERT_EQ(created.size(), 3u);
  EXPECT_EQ(created[0]["network"], a);
  EXPECT_EQ(created[1]["network"], b);
  EXPECT_EQ(created[2]["scanned"], last);

  for (const std::string& q : {std::string("type=NetworkCreated,MemberAuthorized"),
                               std::string("type=NetworkCreated&type=MemberAuthorized")}) {
    std::vector<json> two = Lines(Get("/events?" + q).body);
    ASSERT_EQ(two.size(), 5u) << q;
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_TRUE(two[i]["type"] == "NetworkCreated" || two[i]["type"] == "MemberAuthorized");
    }
  }
  std::vector<json> of_b = Lines(Get("/events?network=" + b).body);
  ASSERT_GE(of_b.size(), 4u);
  for (size_t i = 0; i + 1 < of_b.size(); ++i) EXPECT_EQ(of_b[i]["network"], b);
  std::vector<json> member_of_a =
      Lines(Get(absl::StrCat("/events?type=MemberAuthorized&network=", a)).body);
  ASSERT_EQ(member_of_a.size(), 2u);
  EXPECT_EQ(member_of_a[0]["network"], a);

  // limit= stops early; the heartbeat names the last record looked at, not the end.
  std::vector<json> one = Lines(Get("/events?after=1&limit=1").body);
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0]["seq"], 2);
  EXPECT_EQ(one[1]["scanned"], 2);
  EXPECT_EQ(one[1]["lastSeq"], last);

  for (const char* bad : {"type=MemberAuthorised", "type=NONE", "network=xyz", "after=-1",
                          "after=1x", "limit=0", "limit=1001", "wait=51", "follow=yes",
                          "format=xml", "heartbeat=0", "types=NetworkCreated"}) {
    HttpResult r = Get(std::string("/events?") + bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_TRUE(r.json.contains("error")) << bad;
  }
}

TEST_F(EventsTest, LongPollReturnsWhenARecordArrives) {
  CreateNetwork("{}");
  const uint64_t last = last_seq();
  std::atomic<bool> answered{false};
  HttpResult polled;
  std::chrono::steady_clock::duration took{};
  std::thread poll([&] {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(30, 0);
    const auto start = std::chrono::steady_clock::now();
    httplib::Result r = c.Get(absl::StrCat("/events?wait=20&after=", last).c_str(), Auth());
    took = std::chrono::steady_clock::now() - start;
    if (r) polled = HttpResult{r->status, r->body, {}, ""};
    answered = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(answered.load()) << "the long poll answered before anything was written";
  const std::string nwid = CreateNetwork(R"({"name":"late"})");
  poll.join();
  ASSERT_EQ(polled.status, 200);
  std::vector<json> lines = Lines(polled.body);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["seq"], last + 1);
  EXPECT_EQ(lines[0]["network"], nwid);
  EXPECT_LT(took, std::chrono::seconds(10));

  // Nothing arrives: the poll ends at its deadline with only the heartbeat.
  const auto start = std::chrono::steady_clock::now();
  HttpResult idle = Get(absl::StrCat("/events?wait=1&after=", last + 1));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(Lines(idle.body).size(), 1u);
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST_F(EventsTest, RawFramesCarryTheStoredRecords) {
  MakeNetworkWithMember();
  const uint64_t last = last_seq();
  HttpResult r = Get("/events?format=flatbuffers");
  ASSERT_EQ(r.status, 200);
  std::string buffer = r.body;
  std::vector<std::vector<journal::StoredRecord>> stored;
  absl::StatusOr<std::vector<journal::StoredRecord>> all = journal_->Read(1, last);
  ASSERT_TRUE(all.ok()) << all.status();
  uint64_t next = 1;
  bool heartbeat = false;
  while (!buffer.empty()) {
    absl::StatusOr<std::optional<EventFrame>> frame = TakeEventFrame(&buffer);
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE(frame->has_value()) << "a partial frame at the end";
    if ((*frame)->kind == kFrameHeartbeat) {
      EXPECT_EQ((*frame)->scanned, last);
      EXPECT_EQ((*frame)->last_seq, last);
      heartbeat = true;
      continue;
    }
    ASSERT_FALSE(heartbeat) << "records after the closing heartbeat";
    std::string bytes = (*frame)->payload;  // own copy: aligned for the verifier
    absl::StatusOr<const schema::Record*> record = journal::VerifyRecord(bytes);
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ((*record)->seq(), next);
    EXPECT_EQ(bytes, (*all)[next - 1].bytes);
    ++next;
  }
  EXPECT_EQ(next, last + 1);
  EXPECT_TRUE(heartbeat);

  // The documented heartbeat bytes; a torn frame waits; a bad kind stops the reader.
  std::string hb;
  AppendHeartbeat(EventFormat::kFlatBuffers, 3, {}, 7, &hb);
  EXPECT_EQ(hb, std::string("\x00\x00\x00\x10\x48\x00\x00\x00\x00\x00\x00\x00\x03"
                            "\x00\x00\x00\x00\x00\x00\x00\x07",
                            21));
  std::string torn = hb.substr(0, 20);
  absl::StatusOr<std::optional<EventFrame>> partial = TakeEventFrame(&torn);
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());
  std::string bad = hb;
  bad[4] = 'X';
  EXPECT_EQ(TakeEventFrame(&bad).status().code(), absl::StatusCode::kDataLoss);
  std::string huge("\x01\x00\x00\x01R", 5);  // 16 MiB + 1: over kRecordBytesMax
  EXPECT_EQ(TakeEventFrame(&huge).status().code(), absl::StatusCode::kDataLoss);
}

// Reads a follow stream on its own thread until told to stop.
class Follower {
 public:
  Follower(int port, const std::string& path) {
    thread_ = std::thread([this, port, path] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(30, 0);
      httplib::Result r = c.Get(
          path.c_str(), Auth(),
          [this](const httplib::Response& res) {
            status_ = res.status;
            return true;
          },
          [this](const char* data, size_t n) {
            std::lock_guard<std::mutex> lock(mu_);
            received_.append(data, n);
            return !stop_.load();
          });
      if (r && status_.load() == 0) status_ = r->status;
      done_ = true;
    });
  }
  ~Follower() {
    stop_ = true;
    thread_.join();
  }
  std::string received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  // Waits up to 10 s for `text` in what was received.
  bool WaitFor(const std::string& text) {
    for (int i = 0; i < 1000; ++i) {
      if (received().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  int status() const { return status_.load(); }
  bool done() const { return done_.load(); }
  void Stop() { stop_ = true; }

 private:
  std::mutex mu_;
  std::string received_;
  std::atomic<bool> stop_{false};
  std::atomic<int> status_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

TEST_F(EventsTest, FollowSendsNewRecordsAndHeartbeats) {
  CreateNetwork("{}");
  Follower f(server_->port(), "/events?follow=1&after=0&heartbeat=1");
  ASSERT_TRUE(f.WaitFor(R"({"heartbeat":true,"lastSeq":1,"scanned":1,"scannedHash":")"))
      << f.received();
  EXPECT_EQ(f.status(), 200);
  EXPECT_EQ(Lines(f.received()).front()["seq"], 1);
  const std::string nwid = CreateNetwork(R"({"name":"followed"})");
  ASSERT_TRUE(f.WaitFor(nwid)) << f.received();
  // A quiet stream still speaks every heartbeat= seconds.
  ASSERT_TRUE(f.WaitFor(R"({"heartbeat":true,"lastSeq":2,"scanned":2,"scannedHash":")"))
      << f.received();
  std::vector<json> lines = Lines(f.received());
  std::vector<uint64_t> seqs;
  for (const json& l : lines) {
    if (l.contains("seq")) seqs.push_back(l["seq"].get<uint64_t>());
  }
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2}));
}

TEST_F(EventsTest, StreamsAreBoundedAndStopEndsThem) {
  std::vector<std::unique_ptr<Follower>> followers;
  for (size_t i = 0; i < kEventStreamsMax; ++i) {
    followers.push_back(std::make_unique<Follower>(server_->port(), "/events?follow=1"));
  }
  for (auto& f : followers) ASSERT_TRUE(f->WaitFor("heartbeat"));
  HttpResult refused = Get("/events");
  EXPECT_EQ(refused.status, 429) << refused.body;
  const std::string metrics = MetricsText();
  EXPECT_NE(metrics.find(absl::StrCat("almanac_event_streams_open ", kEventStreamsMax, "\n")),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("almanac_event_streams_refused_total 1\n"), std::string::npos);

  // One consumer leaves: its place is free again once the server notices.
  followers.back()->Stop();
  CreateNetwork("{}");  // gives the stream something to write, so the receiver stops it
  followers.pop_back();
  bool freed = false;
  for (int i = 0; i < 500 && !freed; ++i) {
    freed = Get("/events").status == 200;
    if (!freed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(freed);

  // Stop ends the remaining streams promptly instead of waiting for their consumers.
  // (The fixture's idle keep-alive connection would hold Stop for the keep-alive timeout.)
  client_.reset();
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  for (auto& f : followers) {
    for (int i = 0; i < 500 && !f->done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(f->done());
  }
}

// A consumer that opens a follow stream and never reads is cut off after the server's
// write timeout (kTestWriteTimeout here) instead of holding a worker and a chunk for
// ever. Records of ~700 KB (a long rulesSource) fill the kernel's buffers quickly; the
// consumer's receive buffer is made small before it connects.
TEST_F(EventsTest, AConsumerThatNeverReadsIsDisconnected) {
  const std::string big(700000, 'r');
  for (int i = 0; i < 12; ++i) CreateNetwork(absl::StrCat(R"({"rulesSource":")", big, "\"}"));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  int small = 4096;
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = absl::StrCat(
      "GET /events?follow=1&format=flatbuffers HTTP/1.1\r\nHost: x\r\nX-ZT1-Auth: ",
      kTestToken, "\r\n\r\n");
  ASSERT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  const std::string cut = "almanac_event_stream_disconnects_total{reason=\"write\"} 1\n";
  const auto start = std::chrono::steady_clock::now();
  std::string metrics;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(40)) {
    metrics = MetricsText();
    if (metrics.find(cut) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(metrics.find(cut), std::string::npos) << metrics;
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            absl::ToChronoNanoseconds(kTestWriteTimeout - absl::Seconds(1)));
  EXPECT_NE(MetricsText().find("almanac_event_streams_open 0\n"), std::string::npos);
  close(fd);
}

}  // namespace
}  // namespace almanac::api
