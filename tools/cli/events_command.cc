// almanac events tail (see events_command.h).
#include "tools/cli/events_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "base/sync_directory.h"
#include "tools/cli/api_client.h"
#include "tools/cli/cli_args.h"
#include "tools/cli/limits.h"

namespace almanac::cli {
namespace {

constexpr char kEventsUsage[] =
    "Usage: almanac events tail [options]\n"
    "Reads the controller's journal as a stream of events (GET /events).\n"
    "Run 'almanac events tail --help' for the options.\n";

constexpr char kTailUsage[] =
    "Usage: almanac events tail [--after N] [--follow] [--type T[,T...]] [--network NWID]\n"
    "                           [--checkpoint FILE [--output OUT]] [--json]\n"
    "Prints the journal's records after sequence number N (default 0), one line each:\n"
    "  <UTC time> #<seq> <actor> <type> [network <nwid>] [member <address>]\n"
    "or, with --json, the record as the API's JSON object (seq, time, epoch, actor, type,\n"
    "network, member, body). Without --follow it stops at the journal's end; with\n"
    "--follow it waits for new records, and reconnects from where it stopped when the\n"
    "connection drops. --type keeps only those record types (e.g. MemberAuthorized,\n"
    "NetworkCreated); --network only records about that network and its members.\n"
    "\n"
    "Resuming: --checkpoint FILE\n"
    "  At start the position is read from FILE (--after counts only while FILE does not\n"
    "  exist). After each batch of printed records (all the records of one read from the\n"
    "  controller) FILE is replaced atomically (temporary file, fsync, rename, fsync of\n"
    "  the directory) with the last seq printed or skipped by the filters. Batches are\n"
    "  printed first and checkpointed second, never the other way round, so no record is\n"
    "  ever lost. What a kill between the two means depends on where the lines go:\n"
    "  --output OUT (exactly once): lines are appended to OUT, OUT is fsynced, and FILE\n"
    "    records the seq and OUT's length. A restart reads OUT past that length: whole\n"
    "    lines there were printed after the last checkpoint and count as done (the tail\n"
    "    goes on after their seq), a torn last line is cut off. OUT then holds every\n"
    "    record exactly once, in order, whatever moment the tail is killed at (SIGKILL or\n"
    "    power loss included). Only this tail may write OUT, and OUT must not be\n"
    "    truncated while FILE refers to it (a restart refuses a shorter OUT).\n"
    "  standard output (at least once): the last batch may be printed again after a\n"
    "    restart (the one printed when the tail died, at most one batch). Every line\n"
    "    carries its seq, in increasing order: a reader that drops lines whose seq is not\n"
    "    above the last one it kept sees each record exactly once.\n"
    "\n"
    "  FILE also keeps the chain hash of that record, and each request sends it: a\n"
    "  controller whose record at that seq differs (a failover cut off records this\n"
    "  consumer had seen) refuses, and the tail stops instead of going on in another\n"
    "  history.\n"
    "\n"
    "Exit codes as below; 1 also when the position is past the controller's journal or\n"
    "its record has another chain hash (the checkpoint belongs to another history), or\n"
    "the stream breaks its own order.\n";

// Compact JSON; invalid UTF-8 (a hash the controller sent is hex) is replaced, not thrown.
std::string DumpCompact(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Writes all of data, retrying short writes and EINTR.
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Where printed lines go: standard output (the stream given) or an --output file.
class Sink {
 public:
  virtual ~Sink() = default;
  // Appends text; for a file, durable once Sync returned.
  virtual absl::Status Append(const std::string& text) = 0;
  virtual absl::Status Sync() = 0;
  // Bytes in the file (0 for a stream).
  virtual uint64_t bytes() const = 0;
};

class StreamSink : public Sink {
 public:
  explicit StreamSink(std::ostream& out) : out_(out) {}
  absl::Status Append(const std::string& text) override {
    out_.write(text.data(), static_cast<std::streamsize>(text.size()));
    out_.flush();  // printed before the checkpoint moves past it
    if (!out_) return absl::InternalError("cannot write to standard output");
    return absl::OkStatus();
  }
  absl::Status Sync() override { return absl::OkStatus(); }
  uint64_t bytes() const override { return 0; }

 private:
  std::ostream& out_;
};

class FileSink : public Sink {
 public:
  FileSink(int fd, std::string path, uint64_t bytes)
      : fd_(fd), path_(std::move(path)), bytes_(bytes) {}
  ~FileSink() override { ::close(fd_); }
  absl::Status Append(const std::string& text) override {
    if (!WriteAll(fd_, text.data(), text.size())) return ErrnoError("cannot write", path_);
    bytes_ += text.size();
    return absl::OkStatus();
  }
  absl::Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoError("cannot sync", path_);
    return absl::OkStatus();
  }
  uint64_t bytes() const override { return bytes_; }

 private:
  int fd_;
  std::string path_;
  uint64_t bytes_;
};

// Opens --output and reconciles it with the checkpoint (see kTailUsage): on return
// *resume is where the tail goes on (seq, and OUT's length after any torn line is cut).
absl::StatusOr<std::unique_ptr<FileSink>> OpenOutput(
    const std::string& path, const std::optional<EventsCheckpoint>& checkpoint,
    uint64_t after, EventsCheckpoint* resume) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open", path);
  auto sink_fd = std::unique_ptr<int, void (*)(int*)>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError("cannot stat", path);
  const uint64_t length = static_cast<uint64_t>(st.st_size);
  if (!checkpoint) {
    if (length > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is not empty but there is no checkpoint: cannot tell which records it "
                "holds (start with an empty --output, or keep its checkpoint)"));
    }
    *resume = EventsCheckpoint{after, 0, ""};
  } else {
    const uint64_t kept = checkpoint->output_bytes;
    if (length < kept) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is ", length, " bytes but the checkpoint says ", kept,
          ": it was truncated or replaced, so the checkpoint no longer describes it"));
    }
    *resume = *checkpoint;
    if (length > kept) {
      if (length - kept > kEventsRecoveryBytesMax) {
        return absl::FailedPreconditionError(absl::StrCat(
            path, " has ", length - kept, " bytes past its checkpoint (more than one batch: "
                  "was it written by something else?)"));
      }
      std::string tail(length - kept, '\0');
      size_t got = 0;
      while (got < tail.size()) {
        const ssize_t n = ::pread(fd, &tail[got], tail.size() - got,
                                  static_cast<off_t>(kept + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return ErrnoError("cannot read", path);
        got += static_cast<size_t>(n);
      }
      // Whole lines past the checkpoint were printed by the run that died before it
      // could checkpoint them: they are done. A torn last line is not.
      const size_t whole = tail.rfind('\n') == std::string::npos ? 0 : tail.rfind('\n') + 1;
      uint64_t seq = checkpoint->seq;
      std::string hash = checkpoint->chain_hash;
      for (absl::string_view line : absl::StrSplit(tail.substr(0, whole), '\n',
                                                   absl::SkipEmpty())) {
        std::optional<uint64_t> s = SeqOfPrintedLine(std::string(line));
        if (!s || *s <= seq) {
          return absl::DataLossError(absl::StrCat(
              path, ": a line past the checkpoint is not the next event line (",
              std::string(line.substr(0, 80)), ")"));
        }
        seq = *s;
        // JSON lines carry their chain hash; a text line does not, and then the next
        // request goes without the history check.
        const nlohmann::json j =
            nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        hash = j.is_object() && j.contains("chainHash") && j["chainHash"].is_string()
                   ? j["chainHash"].get<std::string>()
                   : "";
      }
      if (whole < tail.size()) {
        if (::ftruncate(fd, static_cast<off_t>(kept + whole)) != 0 || ::fdatasync(fd) != 0) {
          return ErrnoError("cannot cut the torn last line of", path);
        }
      }
      *resume = EventsCheckpoint{seq, kept + whole, hash};
    }
  }
  sink_fd.release();
  return std::make_unique<FileSink>(fd, path, resume->output_bytes);
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// "<time> #<seq> <actor> <type> [network N] [member A]".
std::string TextLine(const nlohmann::json& e) {
  std::string actor = "unknown";
  if (auto a = e.find("actor"); a != e.end() && a->is_object()) {
    actor = Str(*a, "kind");
    if (!Str(*a, "id").empty()) absl::StrAppend(&actor, ":", Str(*a, "id"));
    if (!Str(*a, "source").empty()) absl::StrAppend(&actor, "@", Str(*a, "source"));
  }
  std::string line = absl::StrCat(Str(e, "time"), " #", e["seq"].get<uint64_t>(), " ",
                                  actor, " ", Str(e, "type"));
  if (!Str(e, "network").empty()) absl::StrAppend(&line, " network ", Str(e, "network"));
  if (!Str(e, "member").empty()) absl::StrAppend(&line, " member ", Str(e, "member"));
  return line;
}

struct TailOptions {
  bool follow = false;
  bool json = false;
  bool filtered = false;
  std::string filter_query;  // "&type=..&network=.."
  std::string checkpoint_path;
};

// The consumer's position and what it does with each batch of lines.
class Tail {
 public:
  Tail(TailOptions options, std::unique_ptr<Sink> sink, EventsCheckpoint start)
      : options_(std::move(options)), sink_(std::move(sink)), saved_(start),
        pos_(start.seq), hash_(start.chain_hash) {}

  uint64_t pos() const { return pos_; }
  // "&after=N" and, when the position's chain hash is known, "&after_hash=H".
  std::string PositionQuery() const {
    std::string q = absl::StrCat("&after=", pos_);
    if (pos_ > 0 && hash_.size() == 64 &&
        hash_.find_first_not_of("0123456789abcdef") == std::string::npos) {
      absl::StrAppend(&q, "&after_hash=", hash_);
    }
    return q;
  }
  bool reached_end() const { return reached_end_; }

  // Handles the complete lines of one read: prints the events (one write, synced for a
  // file), then checkpoints. DataLoss when the stream breaks its order.
  absl::Status Deliver(const std::vector<std::string>& lines) {
    std::string batch;
    uint64_t last = pos_;
    uint64_t scanned = pos_;
    std::string last_hash = hash_;
    std::string scanned_hash = hash_;
    for (const std::string& text : lines) {
      const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) return absl::DataLossError("the event stream sent a non-JSON line");
      if (j.contains("heartbeat")) {
        auto s = j.find("scanned");
        auto l = j.find("lastSeq");
        if (s == j.end() || !s->is_number_unsigned() || l == j.end() ||
            !l->is_number_unsigned()) {
          return absl::DataLossError("the event stream sent a malformed heartbeat");
        }
        if (s->get<uint64_t>() > scanned) {
          scanned = s->get<uint64_t>();
          scanned_hash = Str(j, "scannedHash");
        }
        reached_end_ = s->get<uint64_t>() >= l->get<uint64_t>();
        continue;
      }
      auto s = j.find("seq");
      if (s == j.end() || !s->is_number_unsigned()) {
        return absl::DataLossError("the event stream sent an event without a seq");
      }
      const uint64_t seq = s->get<uint64_t>();
      if (seq <= last || (!options_.filtered && seq != last + 1)) {
        return absl::DataLossError(absl::StrCat("the event stream sent record ", seq,
                                                " after ", last, ": out of order"));
      }
      batch += options_.json ? text : TextLine(j);
      batch.push_back('\n');
      last = seq;
      last_hash = Str(j, "chainHash");
      reached_end_ = false;
    }
    if (!batch.empty()) {
      if (absl::Status s = sink_->Append(batch); !s.ok()) return s;
      if (absl::Status s = sink_->Sync(); !s.ok()) return s;
    }
    if (scanned > last) {
      pos_ = scanned;
      hash_ = scanned_hash;
    } else {
      pos_ = last;
      hash_ = last_hash;
    }
    return Save();
  }

  // Writes the checkpoint when the position moved since the last one.
  absl::Status Save() {
    if (options_.checkpoint_path.empty()) return absl::OkStatus();
    const EventsCheckpoint now{pos_, sink_->bytes(), hash_};
    if (now.seq == saved_.seq && now.output_bytes == saved_.output_bytes) {
      return absl::OkStatus();
    }
    if (absl::Status s = WriteEventsCheckpoint(options_.checkpoint_path, now); !s.ok()) {
      return s;
    }
    saved_ = now;
    return absl::OkStatus();
  }

 private:
  const TailOptions options_;
  std::unique_ptr<Sink> sink_;
  EventsCheckpoint saved_;
  uint64_t pos_;
  std::string hash_;  // chain hash of record pos_ ("" when unknown)
  bool reached_end_ = false;
};

// Splits off the complete lines at the front of *buffer.
std::vector<std::string> TakeLines(std::string* buffer) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl = buffer->find('\n'); nl != std::string::npos;
       nl = buffer->find('\n', start)) {
    if (nl > start) lines.push_back(buffer->substr(start, nl - start));
    start = nl + 1;
  }
  buffer->erase(0, start);
  return lines;
}

std::unique_ptr<httplib::Client> MakeClient(const ApiEndpoint& endpoint, int64_t read_ms) {
  auto c = std::make_unique<httplib::Client>(endpoint.host, endpoint.port);
  c->set_connection_timeout(std::chrono::milliseconds(kApiConnectTimeoutMs));
  c->set_read_timeout(std::chrono::milliseconds(read_ms));
  c->set_write_timeout(std::chrono::milliseconds(kApiConnectTimeoutMs));
  c->set_default_headers({{"X-ZT1-Auth", endpoint.token}});
  return c;
}

absl::Status Unreachable(const ApiEndpoint& endpoint, httplib::Error error) {
  return absl::UnavailableError(absl::StrCat("cannot reach the controller at ",
                                             endpoint.display, ": ",
                                             httplib::to_string(error)));
}

absl::Status RefusedStatus(int http_status, const std::string& body,
                           const ApiEndpoint& endpoint) {
  ApiReply reply;
  reply.http_status = http_status;
  reply.raw = body;
  reply.body = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (reply.body.is_discarded()) reply.body = nullptr;
  return CheckReply(reply, endpoint, "the controller has no event stream (GET /events)");
}

absl::Status RunOnce(Tail& tail, const TailOptions& o, const ApiEndpoint& endpoint) {
  std::unique_ptr<httplib::Client> client = MakeClient(endpoint, kApiReadTimeoutMs);
  while (true) {
    const std::string path = absl::StrCat("/events?limit=", kEventsPageRecords,
                                          tail.PositionQuery(), o.filter_query);
    httplib::Result r = client->Get(path.c_str());
    if (!r) return Unreachable(endpoint, r.error());
    if (r->status != 200) return RefusedStatus(r->status, r->body, endpoint);
    std::string body = r->body;
    if (!body.empty() && body.back() != '\n') {
      return absl::DataLossError("the event stream's answer ends in the middle of a line");
    }
    if (absl::Status s = tail.Deliver(TakeLines(&body)); !s.ok()) return s;
    if (tail.reached_end()) return absl::OkStatus();
  }
}

absl::Status RunFollow(Tail& tail, const TailOptions& o, const ApiEndpoint& endpoint,
                       std::ostream& err) {
  std::unique_ptr<httplib::Client> client = MakeClient(endpoint, kEventsFollowReadTimeoutMs);
  int64_t delay_ms = kEventsReconnectDelayMs;
  while (true) {
    const std::string path =
        absl::StrCat("/events?follow=1&heartbeat=", kEventsHeartbeatSeconds,
                     tail.PositionQuery(), o.filter_query);
    int status = 0;
    std::string buffer;
    std::string error_body;
    absl::Status failure;
    httplib::Result r = client->Get(
        path.c_str(), httplib::Headers{},
        [&status](const httplib::Response& res) {
          status = res.status;
          return true;
        },
        [&](const char* data, size_t size) {
          if (status != 200) {
            error_body.append(data, std::min(size, size_t{4096}));
            return error_body.size() < 4096;
          }
          buffer.append(data, size);
          if (buffer.size() > kEventsLineBytesMax) {
            failure = absl::DataLossError("the event stream sent a line that is too long");
            return false;
          }
          failure = tail.Deliver(TakeLines(&buffer));
          if (failure.ok()) delay_ms = kEventsReconnectDelayMs;
          return failure.ok();
        });
    if (!failure.ok()) return failure;
    if (status != 0 && status != 200) {
      absl::Status refused = RefusedStatus(status, error_body, endpoint);
      // Too many streams (429) and a controller still starting up (503) pass; the rest
      // (bad position, token, filters) will not change by retrying.
      if (status != 429 && status != 503) return refused;
      err << "almanac: " << refused.message() << "; retrying\n";
    } else if (!r) {
      err << "almanac: event stream interrupted (" << httplib::to_string(r.error())
          << "); reconnecting after seq " << tail.pos() << "\n";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    delay_ms = std::min(delay_ms * 2, kEventsReconnectDelayMsMax);
  }
}

int RunTail(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> value_flags = kConnectionValueFlags;
  for (const char* f : {"--after", "--type", "--network", "--checkpoint", "--output"}) {
    value_flags.push_back(f);
  }
  std::vector<std::string> switches = kCommonSwitches;
  switches.push_back("--follow");
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, value_flags, switches);
  auto usage = [&err](const std::string& problem) {
    return Fail(absl::InvalidArgumentError(
                    absl::StrCat(problem, " (see 'almanac events tail --help')")),
                err);
  };
  if (!parsed.ok()) return usage(std::string(parsed.status().message()));
  const ParsedArgs& a = *parsed;
  if (a.Has("--help") || a.Has("-h")) {
    out << kTailUsage << "\n" << kConnectionHelp;
    return kExitOk;
  }
  if (a.positional.size() != 1) return usage("unexpected arguments");

  TailOptions o;
  o.follow = a.Has("--follow");
  o.json = a.Has("--json");
  o.checkpoint_path = a.Value("--checkpoint", "");
  uint64_t after = 0;
  if (a.values.count("--after") &&
      (!absl::SimpleAtoi(a.Value("--after", ""), &after) ||
       a.Value("--after", "").find_first_not_of("0123456789") != std::string::npos)) {
    return usage("--after: expected a sequence number");
  }
  if (a.values.count("--type")) {
    const std::string types = a.Value("--type", "");
    if (types.empty() || types.find_first_not_of(
                             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,") !=
                             std::string::npos) {
      return usage("--type: expected record type names like MemberAuthorized,NetworkCreated");
    }
    absl::StrAppend(&o.filter_query, "&type=", types);
    o.filtered = true;
  }
  if (a.values.count("--network")) {
    const std::string nwid = a.Value("--network", "");
    if (!IsNetworkId(nwid)) return usage("--network: expected a network id (16 hex digits)");
    absl::StrAppend(&o.filter_query, "&network=", nwid);
    o.filtered = true;
  }
  const bool to_file = a.values.count("--output") > 0;
  if (to_file && o.checkpoint_path.empty()) {
    return usage("--output needs --checkpoint (the pair is what makes the output exact)");
  }

  absl::StatusOr<ApiEndpoint> endpoint = ResolveEndpoint(a);
  if (!endpoint.ok()) return Fail(endpoint.status(), err);

  std::optional<EventsCheckpoint> checkpoint;
  if (!o.checkpoint_path.empty()) {
    absl::StatusOr<std::optional<EventsCheckpoint>> read =
        ReadEventsCheckpoint(o.checkpoint_path);
    if (!read.ok()) return Fail(read.status(), err);
    checkpoint = *read;
  }
  EventsCheckpoint start{checkpoint ? checkpoint->seq : after, 0,
                         checkpoint ? checkpoint->chain_hash : ""};
  std::unique_ptr<Sink> sink;
  if (to_file) {
    absl::StatusOr<std::unique_ptr<FileSink>> file =
        OpenOutput(a.Value("--output", ""), checkpoint, after, &start);
    if (!file.ok()) return Fail(file.status(), err);
    sink = std::move(*file);
  } else {
    sink = std::make_unique<StreamSink>(out);
  }
  // The checkpoint on disk must say where this run starts before anything is printed:
  // a first one when there was none (else a kill after the first batch would leave an
  // --output with no checkpoint), a moved one after recovering a tail of --output.
  absl::Status s = absl::OkStatus();
  if (!o.checkpoint_path.empty() &&
      (!checkpoint || start.seq != checkpoint->seq ||
       start.output_bytes != checkpoint->output_bytes ||
       start.chain_hash != checkpoint->chain_hash)) {
    s = WriteEventsCheckpoint(o.checkpoint_path, start);
  }
  if (s.ok()) {
    Tail tail(o, std::move(sink), start);
    s = o.follow ? RunFollow(tail, o, *endpoint, err) : RunOnce(tail, o, *endpoint);
  }
  if (!s.ok()) return Fail(s, err);
  return kExitOk;
}

}  // namespace

absl::StatusOr<std::optional<EventsCheckpoint>> ReadEventsCheckpoint(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<EventsCheckpoint>();
    return ErrnoError("cannot open the checkpoint", path);
  }
  std::string text(kCheckpointBytesMax + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, &text[got], text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return ErrnoError("cannot read the checkpoint", path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  if (got > kCheckpointBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not an events checkpoint (over ",
                                                   kCheckpointBytesMax, " bytes)"));
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto seq = j.is_object() ? j.find("seq") : j.end();
  auto bytes = j.is_object() ? j.find("outputBytes") : j.end();
  if (!j.is_object() || seq == j.end() || !seq->is_number_unsigned() || bytes == j.end() ||
      !bytes->is_number_unsigned()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not an events checkpoint (expected {\"seq\":N,\"outputBytes\":B})"));
  }
  std::string hash;
  if (auto h = j.find("chainHash"); h != j.end()) {
    if (!h->is_string() ||
        (!h->get<std::string>().empty() && h->get<std::string>().size() != 64)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " is not an events checkpoint (chainHash: 64 hex digits or \"\")"));
    }
    hash = h->get<std::string>();
  }
  return std::optional<EventsCheckpoint>(
      EventsCheckpoint{seq->get<uint64_t>(), bytes->get<uint64_t>(), hash});
}

absl::Status WriteEventsCheckpoint(const std::string& path, const EventsCheckpoint& c) {
  const std::string text =
      DumpCompact(nlohmann::json{{"seq", c.seq}, {"outputBytes", c.output_bytes},
                                 {"chainHash", c.chain_hash}}) + "\n";
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", temp);
  const bool written = WriteAll(fd, text.data(), text.size()) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  errno = saved_errno;
  if (!written) return ErrnoError("cannot write", temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) return ErrnoError("cannot rename", temp);
  return SyncDirectory(DirName(path));
}

std::optional<uint64_t> SeqOfPrintedLine(const std::string& line) {
  if (!line.empty() && line.front() == '{') {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_unsigned()) return std::nullopt;
    return seq->get<uint64_t>();
  }
  const size_t hash = line.find(" #");
  if (hash == std::string::npos) return std::nullopt;
  const size_t end = line.find(' ', hash + 2);
  uint64_t seq = 0;
  const std::string digits = line.substr(hash + 2, end == std::string::npos
                                                        ? std::string::npos
                                                        : end - hash - 2);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(digits, &seq)) {
    return std::nullopt;
  }
  return seq;
}

int RunEventsCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  if (args.empty()) {
    err << kEventsUsage;
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    out << kEventsUsage;
    return kExitOk;
  }
  if (args[0] != "tail") {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
                    "unknown subcommand '", args[0], "' (see 'almanac events --help')")),
                err);
  }
  return RunTail(args, out, err);
}

}  // namespace almanac::cli
