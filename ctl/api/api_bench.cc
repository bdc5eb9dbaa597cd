#include "ctl/api/api_bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ctl/api/api_bench_floors.h"
#include "base/thread_name.h"
#include "ctl/api/api_server.h"
#include "ctl/api/member_json.h"
#include "ctl/api/network_json.h"
#include "ctl/commands/member_commands.h"
#include "ctl/commands/network_commands.h"
#include "ctl/sequencer.h"
#include "ctl/telemetry.h"
#include "httplib.h"
#include "journal/journal.h"
#include "journal/journal_bench.h"

namespace almanac::api {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kBenchController = 0x949cb95e9dULL;
constexpr char kBenchToken[] = "almanac-bench-api-token";
constexpr uint64_t kFirstMember = 0x1000000000ULL;
constexpr size_t kCreateBatch = 1000;  // members per command (journal batch max is 1024)
constexpr absl::Duration kRawFsyncPhase = absl::Seconds(1);
// Each phase of a paired round (Almanac's POSTs, then the floor's, or the other way).
constexpr double kPairedPhaseSeconds = 1.5;

struct Args {
  std::string dir;
  size_t members = 100000;
  double seconds = 3.0;
  bool raw_clients = true;  // --client=raw (default) or --client=httplib
  bool zeroed_logs = true;  // --zeroed-logs=true (default, as almanacd) or false
  int rounds = 6;           // --rounds=N: paired rounds against the floor (0: none)
};

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      const size_t n = std::strlen(name);
      return a.compare(0, n, name) == 0 ? a.c_str() + n : nullptr;
    };
    if (const char* v = value("--dir=")) {
      args->dir = v;
    } else if (const char* v = value("--members=")) {
      if (!absl::SimpleAtoi(v, &args->members) || args->members == 0) return false;
    } else if (const char* v = value("--client=")) {
      if (std::strcmp(v, "raw") != 0 && std::strcmp(v, "httplib") != 0) return false;
      args->raw_clients = std::strcmp(v, "raw") == 0;
    } else if (const char* v = value("--seconds=")) {
      if (!absl::SimpleAtod(v, &args->seconds) || args->seconds <= 0) return false;
    } else if (const char* v = value("--zeroed-logs=")) {
      if (!absl::SimpleAtob(v, &args->zeroed_logs)) return false;
    } else if (const char* v = value("--rounds=")) {
      if (!absl::SimpleAtoi(v, &args->rounds) || args->rounds < 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

struct Latencies {
  std::vector<double> ms;
  size_t errors = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // user + system time of the whole process (server and clients)
  // Where the committing thread's time went in the middle of the phase (RunPhase's
  // `stages`), when it was asked for.
  ctl::SequencerStageTimes stages;

  // CPU microseconds per request: what the machine's cores spent on each, all threads.
  double CpuMicrosEach() const { return ms.empty() ? 0 : cpu_seconds * 1e6 / ms.size(); }

  // Requests answered per second over the phase.
  double Rate() const { return seconds > 0 ? ms.size() / seconds : 0; }

  double Percentile(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    const size_t i = std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()));
    return ms[i];
  }
};

// One keep-alive connection of the benchmark's clients. Answer returns the response's
// status (0 when the connection failed; it reconnects on the next call) and its body size.
class BenchClient {
 public:
  virtual ~BenchClient() = default;
  virtual int Answer(const char* method, const std::string& path, const std::string& body,
                     size_t* body_bytes) = 0;
};

// cpp-httplib's client, as scripts and tools built on it would call the API. It polls the
// socket before each read and write and sends a request's head and body separately.
class HttplibClient : public BenchClient {
 public:
  explicit HttplibClient(int port) : client_("127.0.0.1", port) {
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);
    client_.set_read_timeout(60, 0);
    client_.set_default_headers({{"X-ZT1-Auth", kBenchToken}});
  }
  int Answer(const char* method, const std::string& path, const std::string& body,
             size_t* body_bytes) override {
    httplib::Result r = method[0] == 'G'
                            ? client_.Get(path.c_str())
                            : client_.Post(path.c_str(), body, "application/json");
    if (!r) return 0;
    *body_bytes = r->body.size();
    return r->status;
  }

 private:
  httplib::Client client_;
};

// A minimal HTTP/1.1 keep-alive client: one send per request (head and body together) and
// blocking reads of the answer, so that on a two-core machine the clients take as little
// of the CPU the server runs on as a client on another machine would. It understands what
// Almanac answers (a status line, headers with Content-Length, a body) and nothing more.
class RawClient : public BenchClient {
 public:
  // A longer response head is taken for a broken answer.
  static constexpr size_t kResponseHeadBytesMax = 64 * 1024;
  static constexpr time_t kReadTimeoutSeconds = 60;  // as the cpp-httplib client's

  explicit RawClient(int port) : port_(port) {}
  ~RawClient() override { Close(); }

  int Answer(const char* method, const std::string& path, const std::string& body,
             size_t* body_bytes) override {
    if (fd_ < 0 && !Connect()) return 0;
    std::string request = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                       "X-ZT1-Auth: ", kBenchToken, "\r\n");
    if (!body.empty()) {
      absl::StrAppend(&request, "Content-Type: application/json\r\nContent-Length: ",
                      body.size(), "\r\n");
    }
    absl::StrAppend(&request, "\r\n", body);
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return Fail();
    }
    // The head, then the rest of the body after it.
    in_.clear();
    size_t head_end = std::string::npos;
    while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (in_.size() > kResponseHeadBytesMax || !Receive()) return Fail();
    }
    const std::string head = absl::AsciiStrToLower(in_.substr(0, head_end));
    int status = 0;
    size_t length = 0;
    const size_t length_at = head.find("\r\ncontent-length:");
    if (head.compare(0, 9, "http/1.1 ") != 0 || !absl::SimpleAtoi(head.substr(9, 3), &status) ||
        length_at == std::string::npos) {
      return Fail();
    }
    const size_t value_at = length_at + std::strlen("\r\ncontent-length:");
    const size_t line_end = std::min(head.find('\r', value_at), head.size());
    if (!absl::SimpleAtoi(head.substr(value_at, line_end - value_at), &length)) return Fail();
    while (in_.size() < head_end + 4 + length) {
      if (!Receive()) return Fail();
    }
    *body_bytes = length;
    if (head.find("\r\nconnection: close") != std::string::npos) Close();
    return status;
  }

 private:
  bool Connect() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    const int yes = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    // A server that stops answering fails the request instead of hanging the benchmark.
    const timeval read_timeout{kReadTimeoutSeconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof(read_timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      Close();
      return false;
    }
    return true;
  }
  bool Receive() {
    char buffer[65536];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    in_.append(buffer, static_cast<size_t>(n));
    return true;
  }
  int Fail() {
    Close();
    return 0;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  const int port_;
  int fd_ = -1;
  std::string in_;
};

// User + system CPU time of this process so far, every thread's.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// "waiting 188, holding 276, ... answering 105 = 1330 us per batch": the stages' means.
std::string StagesPerBatch(const ctl::SequencerStageTimes& d) {
  if (d.batches == 0) return "no batches";
  std::string out;
  absl::Duration cycle;
  for (const ctl::SequencerStage& stage : ctl::kSequencerStages) {
    const absl::Duration mean = d.*stage.time / d.batches;
    cycle += mean;
    absl::StrAppend(&out, out.empty() ? "" : ", ", stage.name, " ",
                    static_cast<int64_t>(absl::ToDoubleMicroseconds(mean)));
  }
  absl::StrAppend(&out, " = ", static_cast<int64_t>(absl::ToDoubleMicroseconds(cycle)),
                  " us per batch");
  return out;
}

// Runs `request` on `connections` threads, each with its own keep-alive client, until
// `seconds` pass or each thread made `count_max` requests. request returns false on error.
// With `stages` (a committer's stage times: the sequencer's, a floor's), Latencies::stages
// is what happened from a tenth of the phase after its start to a tenth before its end:
// the busy middle, not the idle moments around the phase.
using RequestFn = std::function<bool(size_t thread, uint64_t i, BenchClient& client)>;
using StagesFn = std::function<ctl::SequencerStageTimes()>;
Latencies RunPhase(int port, bool raw_clients, size_t connections, double seconds,
                   uint64_t count_max, const RequestFn& request,
                   const StagesFn& stages = nullptr) {
  std::vector<Latencies> per(connections);
  std::vector<std::thread> threads;
  const double cpu_start = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      start + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  ctl::SequencerStageTimes window;
  std::thread stage_reader;
  if (stages) {
    stage_reader = std::thread([&] {
      const auto at = [&](double fraction) {
        return start + std::chrono::microseconds(static_cast<int64_t>(fraction * seconds * 1e6));
      };
      std::this_thread::sleep_until(at(0.1));
      const ctl::SequencerStageTimes first = stages();
      std::this_thread::sleep_until(at(0.9));
      window = stages() - first;
    });
  }
  for (size_t t = 0; t < connections; ++t) {
    threads.emplace_back([&, t] {
      NameThisThread("bench-client");
      std::unique_ptr<BenchClient> client;
      if (raw_clients) {
        client = std::make_unique<RawClient>(port);
      } else {
        client = std::make_unique<HttplibClient>(port);
      }
      for (uint64_t i = 0; i < count_max; ++i) {
        const Clock::time_point t0 = Clock::now();
        if (t0 >= end) break;
        if (!request(t, i, *client)) ++per[t].errors;
        per[t].ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  if (stage_reader.joinable()) stage_reader.join();
  Latencies all;
  all.stages = window;
  all.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  all.cpu_seconds = ProcessCpuSeconds() - cpu_start;
  for (Latencies& l : per) {
    all.ms.insert(all.ms.end(), l.ms.begin(), l.ms.end());
    all.errors += l.errors;
  }
  return all;
}

// Fills the network with members through the sequencer: one command per kCreateBatch
// members, each deciding as PutMemberCommand would for every member in it (distinct
// members of one network, so deciding them against the same state is exact).
bool CreateMembers(ctl::Sequencer* sequencer, uint64_t nwid, size_t members) {
  const ctl::Actor actor{schema::ActorKind::AdminToken, "bench", "almanac-bench"};
  for (size_t first = 0; first < members; first += kCreateBatch) {
    auto puts = std::make_shared<std::vector<ctl::Command>>();
    ctl::Command batch;
    batch.actor = actor;
    batch.reads.push_back(ctl::ObjectKey::Network(nwid));
    for (size_t i = first; i < std::min(members, first + kCreateBatch); ++i) {
      MemberPatch patch;
      patch.name = absl::StrCat("member-", i);
      patch.ip_assignments = std::vector<std::string>{
          absl::StrCat("10.", (i >> 16) & 255, ".", (i >> 8) & 255, ".", i & 255)};
      puts->push_back(commands::PutMemberCommand(
          actor, nwid, kFirstMember + i, MakeMemberEdit(std::move(patch)),
          /*sets_ip_assignments=*/false, std::make_shared<commands::MemberOutcome>()));
      batch.writes.push_back(ctl::ObjectKey::Member(nwid, kFirstMember + i));
    }
    batch.decide = [puts](const state::State& s, ctl::CommandContext& ctx) {
      for (ctl::Command& c : *puts) {
        absl::Status st = c.decide(s, ctx);
        if (!st.ok()) return st;
      }
      return absl::OkStatus();
    };
    absl::StatusOr<ctl::CommitResult> done = sequencer->Submit(std::move(batch));
    if (!done.ok()) {
      std::fprintf(stderr, "creating members: %s\n", done.status().ToString().c_str());
      return false;
    }
  }
  return true;
}

void PrintRow(const char* what, size_t connections, Latencies l, const std::string& extra) {
  std::printf("%-28s %5zu %12.0f %9.3f %9.3f %9.3f %7zu  %s\n", what, connections, l.Rate(),
              l.Percentile(0.50), l.Percentile(0.99), l.Percentile(1.0), l.errors,
              extra.c_str());
  std::fflush(stdout);
}

// The phases the issue's targets are read from, printed last so a run ends with its verdict.
struct TargetPhases {
  static constexpr double kPostsPerSecondMin = 10000;  // over 8 connections
  static constexpr double kPostP99MsMax = 5;
  static constexpr double kListMsMax = 300;        // the whole member map, one connection
  static constexpr double kKeepAliveStallMs = 40;  // Nagle + delayed ACK, one step

  Latencies posts_8;
  Latencies map_list_1;
  double worst_p99_ms = 0;  // over the POST and GET-one-member phases

  void Add(Latencies l) { worst_p99_ms = std::max(worst_p99_ms, l.Percentile(0.99)); }

  void Print(size_t members) {
    const auto verdict = [](bool met) { return met ? "met" : "NOT met"; };
    const double rate = posts_8.Rate();
    const double p99 = posts_8.Percentile(0.99);
    std::printf("target: POST authorize over 8 connections >= %.0f/s with p99 < %.0f ms: "
                "%.0f/s, p99 %.3f ms: %s\n",
                kPostsPerSecondMin, kPostP99MsMax, rate, p99,
                verdict(rate >= kPostsPerSecondMin && p99 < kPostP99MsMax));
    std::printf("target: no keep-alive stall (every POST and GET-one-member phase's p99 under "
                "%.0f ms): worst p99 %.3f ms: %s\n",
                kKeepAliveStallMs, worst_p99_ms, verdict(worst_p99_ms < kKeepAliveStallMs));
    const double list_ms = map_list_1.Percentile(1.0);
    std::printf("target: the %zu-member list (ZeroTier's map) under %.0f ms: slowest %.3f ms: "
                "%s\n",
                members, kListMsMax, list_ms, verdict(list_ms < kListMsMax));
  }
};

// Almanac's 8-connection POSTs against the floor of its own thread structure
// (FloorKind::kThreadPerRequest), in args.rounds pairs of back-to-back phases, order
// alternating, each on an idle journal: the disk's rate drifts by half within a minute
// here, so a floor measured a minute away from the POSTs makes the share swing. Prints
// the share of the mean rates and the range of the rounds. False when the floor fails.
bool PairWithFloor(const Args& args, const std::string& dir, int port, size_t answer_bytes,
                   const journal::Journal& journal, const RequestFn& posts,
                   const RequestFn& floor_posts, const StagesFn& sequencer_stages) {
  absl::StatusOr<std::unique_ptr<FloorServer>> floor =
      FloorServer::Start(FloorKind::kThreadPerRequest, dir, answer_bytes);
  if (!floor.ok()) {
    std::fprintf(stderr, "floor: %s\n", floor.status().ToString().c_str());
    return false;
  }
  FloorServer* floor_server = floor->get();
  const StagesFn floor_stages = [floor_server] { return floor_server->stage_times(); };
  // Each side's stage times summed over its rounds.
  ctl::SequencerStageTimes almanac_total, floor_total;
  const auto phase = [&](int port_of_phase, const RequestFn& request, const StagesFn& stages,
                         ctl::SequencerStageTimes* total) {
    journal::WaitForIdleJournalOrExit(journal);
    const Latencies l = RunPhase(port_of_phase, args.raw_clients, 8, kPairedPhaseSeconds,
                                 UINT64_MAX, request, stages);
    *total += l.stages;
    return l.Rate();
  };
  const journal::PairedRates paired = journal::MeasurePaired(
      args.rounds, [&] { return phase(port, posts, sequencer_stages, &almanac_total); },
      [&] { return phase(floor_server->port(), floor_posts, floor_stages, &floor_total); });
  std::printf("8-connection POSTs vs the thread-per-request floor, %d paired rounds: %.0f vs "
              "%.0f /s = %.0f%% (rounds %.0f%% to %.0f%%)\n",
              args.rounds, paired.first, paired.second, 100 * paired.ratio(),
              100 * paired.lowest, 100 * paired.highest);
  std::printf("  sequencer:         %s\n  floor's committer: %s\n",
              StagesPerBatch(almanac_total).c_str(), StagesPerBatch(floor_total).c_str());
  std::fflush(stdout);
  return true;
}

int Bench(const Args& args, const std::string& dir) {
  journal::JournalOptions journal_options;
  // As almanacd opens it (ctl::ControllerOptions' default), unless --zeroed-logs=false.
  if (args.zeroed_logs) {
    journal_options.zeroed_log_bytes =
        journal::ZeroedLogBytesFor(journal_options.memtable_bytes);
  }
  absl::StatusOr<std::unique_ptr<journal::Journal>> journal =
      journal::Journal::Open(dir + "/journal", journal_options);
  if (!journal.ok()) {
    std::fprintf(stderr, "journal: %s\n", journal.status().ToString().c_str());
    return 1;
  }
  ctl::Sequencer sequencer(journal->get(), state::State{}, ctl::SequencerOptions{});
  const StagesFn sequencer_stages = [&sequencer] { return sequencer.stage_times(); };
  ctl::Telemetry telemetry;
  ApiServerOptions options;
  options.listen_port = 0;
  options.auth_token = kBenchToken;
  options.controller_address = kBenchController;
  options.controller_identity_public = "949cb95e9d:0:bench";
  absl::StatusOr<std::unique_ptr<ApiServer>> server =
      ApiServer::Start(options, &sequencer, &telemetry);
  if (!server.ok()) {
    std::fprintf(stderr, "api: %s\n", server.status().ToString().c_str());
    return 1;
  }
  const int port = (*server)->port();

  auto outcome = std::make_shared<commands::NetworkOutcome>();
  const ctl::Actor actor{schema::ActorKind::AdminToken, "bench", "almanac-bench"};
  if (!sequencer.Submit(commands::CreateNetworkCommand(actor, kBenchController,
                                                       MakeNetworkEdit(NetworkPatch{}), outcome))
           .ok()) {
    return 1;
  }
  const std::string nwid = state::NetworkIdHex(outcome->nwid);
  const Clock::time_point fill_start = Clock::now();
  if (!CreateMembers(&sequencer, outcome->nwid, args.members)) return 1;
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  std::printf("almanac-bench api: network %s with %zu members (created through the sequencer "
              "in %.2f s), journal in %s (zeroed logs %s), %s clients\n\n",
              nwid.c_str(), args.members, fill_s, dir.c_str(),
              args.zeroed_logs ? "on" : "off", args.raw_clients ? "raw-socket" : "cpp-httplib");
  std::printf("%-28s %5s %12s %9s %9s %9s %7s\n", "request", "conns", "per second", "p50 ms",
              "p99 ms", "max ms", "errors");

  const std::string member_base = "/controller/network/" + nwid + "/member/";
  const std::string bodies[2] = {R"({"authorized":false})", R"({"authorized":true})"};
  std::vector<char> authorized(args.members, 0);
  std::atomic<size_t> answer_bytes{0};  // the body of Almanac's answer to a POST
  // A durable POST costs at least one fsync of the journal's disk, whose rate drifts on a
  // virtual machine (1,500-4,900/s within an hour here): measured next to the POSTs.
  // Each measurement starts with the journal idle (no flush running, the spare made):
  // the raw rate is the disk's own, not what the journal's background writes leave of it.
  journal::WaitForIdleJournalOrExit(**journal);
  const double raw_before = journal::RawFdatasyncPerSecond(dir, kRawFsyncPhase);
  // Authorize/deauthorize POSTs from `connections` clients; each thread flips its own
  // members (m % connections == thread), so every POST is a change.
  const auto authorize_posts = [&](size_t connections) -> RequestFn {
    auto next = std::make_shared<std::vector<size_t>>(connections, 0);
    return [&, next, connections](size_t t, uint64_t, BenchClient& c) {
      size_t m = t + (*next)[t] * connections;
      if (m >= args.members) (*next)[t] = 0, m = t;
      ++(*next)[t];
      authorized[m] ^= 1;
      size_t bytes = 0;
      const bool ok = c.Answer("POST", member_base + state::AddressHex(kFirstMember + m),
                               bodies[static_cast<int>(authorized[m])], &bytes) == 200;
      if (ok) answer_bytes = bytes;
      return ok;
    };
  };
  TargetPhases targets;
  for (size_t connections : {size_t{1}, size_t{8}}) {
    journal::WaitForIdleJournalOrExit(**journal);
    const uint64_t syncs_before = (*journal)->sync_writes();
    const uint64_t seq_before = (*journal)->last_seq();
    Latencies l = RunPhase(port, args.raw_clients, connections, args.seconds, UINT64_MAX,
                           authorize_posts(connections), sequencer_stages);
    const uint64_t syncs = (*journal)->sync_writes() - syncs_before;
    const uint64_t events = (*journal)->last_seq() - seq_before;
    PrintRow("POST authorize (durable)", connections, l,
             absl::StrCat(syncs, " fsyncs, ", syncs ? events / static_cast<double>(syncs) : 0,
                          " events/fsync, CPU ", static_cast<int>(l.CpuMicrosEach()),
                          " us each"));
    std::printf("  sequencer: %s\n", StagesPerBatch(l.stages).c_str());
    targets.Add(l);
    if (connections == 8) targets.posts_8 = l;
  }
  // The same clients and requests against servers that only sync and answer: how much
  // of the gap to this machine's limit is the front end's threads, how much its work.
  const RequestFn floor_posts = [&](size_t t, uint64_t i, BenchClient& c) {
    size_t bytes = 0;
    return c.Answer("POST", member_base + state::AddressHex(kFirstMember + t + 8 * i),
                    bodies[0], &bytes) == 200;
  };
  for (FloorKind kind : {FloorKind::kOneThread, FloorKind::kThreadPerRequest}) {
    // Not beside a flush the POSTs started: that would lower the floor and flatter Almanac.
    journal::WaitForIdleJournalOrExit(**journal);
    absl::StatusOr<std::unique_ptr<FloorServer>> floor =
        FloorServer::Start(kind, dir, answer_bytes.load());
    if (!floor.ok()) {
      std::fprintf(stderr, "floor: %s\n", floor.status().ToString().c_str());
      return 1;
    }
    FloorServer* floor_server = floor->get();
    Latencies l = RunPhase(floor_server->port(), args.raw_clients, 8, args.seconds, UINT64_MAX,
                           floor_posts, [floor_server] { return floor_server->stage_times(); });
    const uint64_t syncs = floor_server->syncs();
    PrintRow(absl::StrCat("floor: ", FloorName(kind)).c_str(), 8, l,
             absl::StrCat(syncs, " fsyncs, ",
                          syncs ? floor_server->answered() / static_cast<double>(syncs) : 0,
                          " requests/fsync, CPU ", static_cast<int>(l.CpuMicrosEach()),
                          " us each"));
    if (l.stages.batches > 0) {
      std::printf("  floor's committer: %s\n", StagesPerBatch(l.stages).c_str());
    }
  }
  if (args.rounds > 0 &&
      !PairWithFloor(args, dir, port, answer_bytes.load(), **journal, authorize_posts(8),
                     floor_posts, sequencer_stages)) {
    return 1;
  }
  journal::WaitForIdleJournalOrExit(**journal);
  const double raw_after = journal::RawFdatasyncPerSecond(dir, kRawFsyncPhase);
  std::printf("%-28s %5s %12.0f  (before the POSTs %.0f, after %.0f: the disk's own rate)\n",
              "raw write+fdatasync, 256 B", "-", (raw_before + raw_after) / 2, raw_before,
              raw_after);
  for (size_t connections : {size_t{1}, size_t{8}}) {
    Latencies l = RunPhase(port, args.raw_clients, connections, args.seconds, UINT64_MAX,
                           [&](size_t t, uint64_t i, BenchClient& c) {
      const size_t m = (t * 7919 + i * 104729) % args.members;
      size_t bytes = 0;
      return c.Answer("GET", member_base + state::AddressHex(kFirstMember + m), "", &bytes) ==
             200;
    });
    PrintRow("GET one member", connections, l, "");
    targets.Add(l);
  }
  const std::string lists[2] = {"/controller/network/" + nwid + "/member",
                                "/unstable/controller/network/" + nwid + "/member"};
  for (const std::string& path : lists) {
    for (size_t connections : {size_t{1}, size_t{8}}) {
      size_t bytes = 0;
      Latencies l = RunPhase(port, args.raw_clients, connections, args.seconds, 5,
                             [&](size_t, uint64_t, BenchClient& c) {
        return c.Answer("GET", path, "", &bytes) == 200;
      });
      PrintRow(path[1] == 'u' ? "GET /unstable/.../member" : "GET .../member (map)",
               connections, l, absl::StrCat(bytes, " bytes"));
      if (path[1] != 'u' && connections == 1) targets.map_list_1 = l;
    }
  }
  targets.Print(args.members);
  return 0;
}

}  // namespace

int RunApiBench(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr, "usage: almanac-bench api [--dir=D] [--members=N] [--seconds=S] "
                         "[--rounds=N] [--client=raw|httplib] [--zeroed-logs=true|false]\n");
    return 2;
  }
  std::string dir = (args.dir.empty() ? std::string("/var/tmp") : args.dir) +
                    "/almanac-api-bench-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const int rc = Bench(args, dir);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return rc;
}

}  // namespace almanac::api
