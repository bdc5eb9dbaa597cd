#include "ctl/api/api_bench_floors.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/thread_name.h"
#include "journal/commit_queue.h"
#include "journal/group_hold.h"
#include "journal/journal_bench.h"

namespace almanac::api {
namespace {

// What each request adds to its batch's synced write: about one journal record.
constexpr size_t kRecordBytes = 256;
// The zeroed file the batches overwrite (wrapping): a batch is at most a few KiB.
constexpr size_t kSyncFileBytes = size_t{8} << 20;
// How long a send may wait for room in the socket buffer before the connection is dropped.
constexpr int kSendWaitMs = 1000;

constexpr size_t kIncomplete = 0;
constexpr size_t kBroken = std::string_view::npos;

// The length of the first whole request (head and Content-Length body) at the start of
// `in`; kIncomplete while more must arrive; kBroken when it cannot be one (too long, or
// a Content-Length that is not a number).
size_t WholeRequestBytes(std::string_view in) {
  const size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    return in.size() > kFloorRequestBytesMax ? kBroken : kIncomplete;
  }
  const std::string head = absl::AsciiStrToLower(std::string(in.substr(0, head_end)));
  size_t body = 0;
  constexpr std::string_view kLength = "\r\ncontent-length:";
  if (const size_t at = head.find(kLength); at != std::string::npos) {
    const size_t from = at + kLength.size();
    const size_t to = std::min(head.find('\r', from), head.size());
    if (!absl::SimpleAtoi(head.substr(from, to - from), &body)) {
      return kBroken;
    }
  }
  const size_t whole = head_end + 4 + std::min(body, kFloorRequestBytesMax);
  if (whole > kFloorRequestBytesMax) return kBroken;
  return in.size() >= whole ? whole : kIncomplete;
}

// "HTTP/1.1 200 OK" with `body_bytes` of filler as its body.
std::string FixedResponse(size_t body_bytes) {
  return absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ",
                      body_bytes, "\r\n\r\n", std::string(body_bytes, 'x'));
}

// Sends all of `data`, waiting up to kSendWaitMs at a time for room. False when the
// connection failed.
bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, kSendWaitMs) <= 0) return false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

// A listening socket on 127.0.0.1 with an ephemeral port; *port receives it.
absl::StatusOr<int> ListenOnLoopback(bool non_blocking, int* port) {
  const int fd =
      socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, static_cast<int>(kFloorConnectionsMax)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("listen on 127.0.0.1: ", strerror(error)));
  }
  *port = ntohs(address.sin_port);
  return fd;
}

void NoDelay(int fd) {
  const int yes = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
}

// --- kOneThread -------------------------------------------------------------------------

class OneThreadFloor : public FloorServer {
 public:
  OneThreadFloor(int listen_fd, int port, const std::string& dir, size_t body_bytes)
      : FloorServer(port),
        listen_fd_(listen_fd),
        file_(dir + "/floor-one-thread.bin", kSyncFileBytes),
        response_(FixedResponse(body_bytes)) {}

  absl::Status Begin() {
    if (!file_.ok()) return absl::InternalError("the floor's sync file failed");
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || stop_fd_ < 0 || !Watch(listen_fd_) || !Watch(stop_fd_)) {
      return absl::InternalError(absl::StrCat("epoll: ", strerror(errno)));
    }
    thread_ = std::thread([this] {
      NameThisThread("floor-loop");
      Run();
    });
    return absl::OkStatus();
  }

  ~OneThreadFloor() override {
    if (thread_.joinable()) {
      const uint64_t one = 1;
      if (write(stop_fd_, &one, sizeof(one)) != sizeof(one)) std::perror("floor stop");
      thread_.join();
    }
    for (const auto& [fd, connection] : connections_) close(fd);
    for (const int fd : {epoll_fd_, stop_fd_, listen_fd_}) {
      if (fd >= 0) close(fd);
    }
  }

 private:
  struct Connection {
    std::string in;       // bytes of requests not yet whole
    size_t waiting = 0;   // whole requests read, not yet answered
  };

  bool Watch(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0;
  }

  void Drop(int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    connections_.erase(fd);
    close(fd);
  }

  void AcceptAll() {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (connections_.size() >= kFloorConnectionsMax || !Watch(fd)) {
        close(fd);
        continue;
      }
      NoDelay(fd);
      connections_[fd];
    }
  }

  // Reads what `fd` has; counts its whole requests. False when it must be dropped.
  bool ReadAll(int fd, Connection* c) {
    char buffer[16384];
    for (;;) {
      const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n == 0) return false;
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
        break;
      }
      c->in.append(buffer, static_cast<size_t>(n));
    }
    for (;;) {
      const size_t whole = WholeRequestBytes(c->in);
      if (whole == kBroken) return false;
      if (whole == kIncomplete) return true;
      c->in.erase(0, whole);
      ++c->waiting;
    }
  }

  void Run() {
    epoll_event events[kFloorConnectionsMax + 2];
    std::vector<int> ready;
    for (;;) {
      const int n = epoll_wait(epoll_fd_, events, static_cast<int>(std::size(events)), -1);
      if (n < 0 && errno != EINTR) return;
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == stop_fd_) return;
        if (fd == listen_fd_) {
          AcceptAll();
          continue;
        }
        const auto it = connections_.find(fd);
        if (it == connections_.end()) continue;
        const size_t before = it->second.waiting;
        if (!ReadAll(fd, &it->second)) {
          Drop(fd);
        } else if (before == 0 && it->second.waiting > 0) {
          ready.push_back(fd);
        }
      }
      size_t requests = 0;
      for (const int fd : ready) requests += connections_[fd].waiting;
      if (requests == 0) continue;
      // Everything that arrived is made durable at once, then answered.
      const bool synced = file_.WriteAndSync(requests * kRecordBytes);
      syncs_.fetch_add(1);
      // Counted before the answers go out, so a client that has its answer sees it.
      if (synced) answered_.fetch_add(requests);
      for (const int fd : ready) {
        Connection& c = connections_[fd];
        bool sent = synced;
        for (; sent && c.waiting > 0; --c.waiting) sent = SendAll(fd, response_);
        if (!sent) Drop(fd);
      }
      ready.clear();
    }
  }

  const int listen_fd_;
  journal::ZeroedSyncFile file_;
  const std::string response_;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
  std::unordered_map<int, Connection> connections_;  // the serving thread's
};

// --- kThreadPerRequest ------------------------------------------------------------------

class ThreadPerRequestFloor : public FloorServer {
 public:
  ThreadPerRequestFloor(int listen_fd, int port, const std::string& dir,
                        size_t body_bytes)
      : FloorServer(port),
        listen_fd_(listen_fd),
        file_(dir + "/floor-thread-per-request.bin", kSyncFileBytes),
        response_(FixedResponse(body_bytes)) {}

  absl::Status Begin() {
    if (!file_.ok()) return absl::InternalError("the floor's sync file failed");
    stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd_ < 0) return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));
    committer_ = std::thread([this] {
      NameThisThread("floor-commit");
      Commit();
    });
    acceptor_ = std::thread([this] { Accept(); });
    return absl::OkStatus();
  }

  ~ThreadPerRequestFloor() override {
    // Readers first (the committer answers what they still wait for), then the committer.
    if (acceptor_.joinable()) {
      const uint64_t one = 1;
      if (write(stop_fd_, &one, sizeof(one)) != sizeof(one)) std::perror("floor stop");
      acceptor_.join();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const int fd : fds_) shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& reader : readers_) reader.join();
    if (committer_.joinable()) {
      stop_committer_ = true;
      queue_.Wake();
      committer_.join();
    }
    for (const int fd : fds_) close(fd);
    for (const int fd : {stop_fd_, listen_fd_}) {
      if (fd >= 0) close(fd);
    }
  }

 private:
  // One request handed to the committer; lives on its reader's stack.
  struct Item {
    Item* queue_next = nullptr;         // CommitQueue's link
    uint64_t queue_ticket = 0;
    std::atomic<bool> answered{false};  // CommitQueue's answer
    std::thread::id caller;             // for the group hold
    bool synced = false;                // set by the committer before answering
  };

  void Accept() {
    for (;;) {
      pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (poll(p, 2, -1) < 0 && errno != EINTR) return;
      if (p[1].revents != 0) return;
      if (p[0].revents == 0) continue;
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      if (readers_.size() >= kFloorConnectionsMax) {
        close(fd);
        continue;
      }
      NoDelay(fd);
      {
        std::lock_guard<std::mutex> lock(mu_);
        fds_.push_back(fd);
      }
      readers_.emplace_back([this, fd] {
        NameThisThread("floor-reader");
        Read(fd);
      });
    }
  }

  // A connection's thread: read a request, wait until its batch is durable, answer.
  void Read(int fd) {
    std::string in;
    char buffer[16384];
    for (;;) {
      const size_t whole = WholeRequestBytes(in);
      if (whole == kBroken) break;
      if (whole == kIncomplete) {
        const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        in.append(buffer, static_cast<size_t>(n));
        continue;
      }
      in.erase(0, whole);
      Item item;
      item.caller = std::this_thread::get_id();
      queue_.Push(&item);
      queue_.AwaitAnswer(&item);
      if (!item.synced || !SendAll(fd, response_)) break;
    }
    shutdown(fd, SHUT_RDWR);  // closed by the destructor, after every thread is joined
  }

  // The committing thread: the journal's writer loop (journal/journal.cc) with a plain
  // synced overwrite in place of RocksDB.
  void Commit() {
    std::vector<Item*> waiting;
    size_t last_group = 0;
    absl::Time last_answered = absl::Now();
    absl::Duration last_answering;
    const auto take_queued = [&] {
      const size_t first = waiting.size();
      queue_.TakeAll(&waiting);
      for (size_t i = first; i < waiting.size(); ++i) hold_.Returned(waiting[i]->caller);
    };
    for (;;) {
      take_queued();
      absl::Time hold_start = absl::Now();
      if (stop_committer_.load()) {
        if (waiting.empty()) return;
      } else if (waiting.empty() && (last_group <= 1 || hold_.AllReturned())) {
        queue_.WaitForMore(1, absl::InfiniteFuture());
        continue;
      } else {
        hold_.Hold(queue_, journal::GroupHold::kAllReturns, take_queued,
                   [&] { return !stop_committer_.load(); });
        if (waiting.empty()) continue;
      }
      const absl::Time start = absl::Now();
      const bool synced = file_.WriteAndSync(waiting.size() * kRecordBytes);
      const absl::Time written = absl::Now();
      hold_.set_last_write(written - start);
      ctl::SequencerStageTimes stages;  // as the sequencer counts them (ctl/sequencer.cc)
      stages.batches = 1;
      stages.waiting = hold_start - last_answered;
      stages.holding = start - hold_start;
      stages.writing = written - start;
      stages.answering = last_answering;
      AddStageTimes(stages);
      syncs_.fetch_add(1);
      if (synced) answered_.fetch_add(waiting.size());
      for (Item* item : waiting) {
        item->synced = synced;
        hold_.Answered(item->caller);
      }
      last_group = waiting.size();
      std::vector<Item*> group;
      group.swap(waiting);
      queue_.AnswerAll(group);  // last: a reader may return (and free its item) at once
      last_answered = absl::Now();
      last_answering = last_answered - written;
    }
  }

  const int listen_fd_;
  journal::ZeroedSyncFile file_;  // the committer's
  const std::string response_;
  int stop_fd_ = -1;
  std::thread acceptor_;
  std::vector<std::thread> readers_;  // the acceptor's until it is joined
  std::mutex mu_;
  std::vector<int> fds_;  // guarded by mu_
  std::thread committer_;
  std::atomic<bool> stop_committer_{false};
  journal::CommitQueue<Item> queue_;
  journal::GroupHold hold_;  // the committer's
};

}  // namespace

void FloorServer::AddStageTimes(const ctl::SequencerStageTimes& batch) {
  std::lock_guard<std::mutex> lock(stages_mu_);
  stages_ += batch;
}

const char* FloorName(FloorKind kind) {
  return kind == FloorKind::kOneThread ? "one thread (epoll)" : "thread per request";
}

absl::StatusOr<std::unique_ptr<FloorServer>> FloorServer::Start(FloorKind kind,
                                                                const std::string& dir,
                                                                size_t body_bytes) {
  int port = 0;
  absl::StatusOr<int> listen_fd = ListenOnLoopback(kind == FloorKind::kOneThread, &port);
  if (!listen_fd.ok()) return listen_fd.status();
  if (kind == FloorKind::kOneThread) {
    auto server = std::make_unique<OneThreadFloor>(*listen_fd, port, dir, body_bytes);
    if (absl::Status s = server->Begin(); !s.ok()) return s;
    return server;
  }
  auto server = std::make_unique<ThreadPerRequestFloor>(*listen_fd, port, dir, body_bytes);
  if (absl::Status s = server->Begin(); !s.ok()) return s;
  return server;
}

}  // namespace almanac::api
