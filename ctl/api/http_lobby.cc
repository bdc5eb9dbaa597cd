#include "ctl/api/http_lobby.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/thread_name.h"

namespace almanac::api {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kHeadEnd[] = "\r\n\r\n";
constexpr size_t kHeadEndBytes = 4;
// Epoll events handled per wake-up; more simply wait for the next epoll_wait.
constexpr int kEventsPerWakeMax = 256;
// Bytes of a refused head read and dropped before the 431 answer, so that closing the
// socket does not reset the connection over unread data (which may destroy the answer).
constexpr size_t kDiscardBytesMax = size_t{64} << 10;

// epoll_event.data: the descriptor in the low half, the entry's generation in the high
// half (0 for the listening socket and the eventfd, which are never entries).
uint64_t EventData(int fd, uint32_t generation) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd);
}

// Not retried on EINTR: Linux has released the descriptor by then.
void CloseFd(int fd) { close(fd); }

// Best effort: the client gets the answer unless its socket buffer is full, which for a
// client that just sent 16 KiB of head means it is not reading anyway.
void AnswerHeadTooLarge(int fd, size_t head_bytes_max) {
  char scratch[4096];
  for (size_t dropped = 0; dropped < kDiscardBytesMax;) {
    const ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
    if (n <= 0) break;
    dropped += static_cast<size_t>(n);
  }
  const std::string body =
      absl::StrCat("{\"error\":\"request head: larger than ", head_bytes_max, " bytes\"}");
  const std::string answer = absl::StrCat(
      "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
      "Content-Length: ",
      body.size(), "\r\nConnection: close\r\n\r\n", body);
  if (send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) return;
  shutdown(fd, SHUT_WR);
}

}  // namespace

absl::StatusOr<size_t> PeekHeadEnd(int fd, size_t head_bytes_max) {
  ALMANAC_CHECK(head_bytes_max >= kHeadEndBytes);
  // Sized once per thread: the lobby thread and each worker.
  thread_local std::string buffer;
  if (buffer.size() < head_bytes_max) buffer.resize(head_bytes_max);
  ssize_t n;
  do {
    n = recv(fd, buffer.data(), head_bytes_max, MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return absl::UnavailableError("the client closed the connection");
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return absl::UnavailableError(absl::StrCat("recv: ", strerror(errno)));
  }
  const absl::string_view seen(buffer.data(), static_cast<size_t>(n));
  const size_t at = seen.find(absl::string_view(kHeadEnd, kHeadEndBytes));
  if (at != absl::string_view::npos) return at + kHeadEndBytes;
  if (seen.size() >= head_bytes_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat("request head: no end in ", head_bytes_max, " bytes"));
  }
  return 0;
}

absl::StatusOr<std::unique_ptr<HttpLobby>> HttpLobby::Start(int listen_fd,
                                                            const LobbyOptions& options,
                                                            const LobbyCounters& counters) {
  ALMANAC_CHECK(listen_fd >= 0);
  ALMANAC_CHECK(options.connections_max > 0 && options.head_bytes_max >= kHeadEndBytes);
  ALMANAC_CHECK(options.head_deadline > absl::ZeroDuration());
  ALMANAC_CHECK(options.keep_alive_timeout > absl::ZeroDuration());
  ALMANAC_CHECK(options.accepts_per_wake_max > 0);
  ALMANAC_CHECK(counters.accepted != nullptr && counters.header_timeouts != nullptr &&
                counters.keep_alive_timeouts != nullptr &&
                counters.headers_too_large != nullptr && counters.evicted != nullptr &&
                counters.refused != nullptr && counters.waited != nullptr);
  std::unique_ptr<HttpLobby> lobby(new HttpLobby(listen_fd, options, counters));
  lobby->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  lobby->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  lobby->spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (lobby->epoll_fd_ < 0 || lobby->wake_fd_ < 0) {
    const std::string error = strerror(errno);
    CloseFd(listen_fd);
    return absl::InternalError("cannot create the HTTP lobby's epoll: " + error);
  }
  for (int fd : {listen_fd, lobby->wake_fd_}) {
    epoll_event event{};
    event.events = EPOLLIN;  // level-triggered: whatever is left is seen next time
    event.data.u64 = EventData(fd, 0);
    if (epoll_ctl(lobby->epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      const std::string error = strerror(errno);
      CloseFd(listen_fd);
      return absl::InternalError("cannot watch the HTTP listening socket: " + error);
    }
  }
  HttpLobby* self = lobby.get();
  lobby->thread_ = std::thread([self] {
    NameThisThread("api-lobby");
    self->Run();
  });
  return lobby;
}

HttpLobby::HttpLobby(int listen_fd, const LobbyOptions& options,
                     const LobbyCounters& counters)
    : options_(options), counters_(counters), listen_fd_(listen_fd) {}

HttpLobby::~HttpLobby() {
  Stop();
  if (epoll_fd_ >= 0) CloseFd(epoll_fd_);
  if (wake_fd_ >= 0) CloseFd(wake_fd_);
  if (spare_fd_ >= 0) CloseFd(spare_fd_);
}

void HttpLobby::Stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_cv_.notify_all();
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof(one)) < 0) {
      // The counter is far from full; the thread also sees stopping_ within a second.
    }
    thread_.join();
  }
}

std::optional<LobbyConnection> HttpLobby::Take() {
  std::unique_lock<std::mutex> lock(mu_);
  ++takers_waiting_;
  ready_cv_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
  --takers_waiting_;
  if (stopping_) return std::nullopt;  // the lobby thread closes what is still ready
  LobbyConnection connection = ready_.front();
  ready_.pop_front();
  ready_count_.store(ready_.size(), std::memory_order_relaxed);
  connections_.fetch_sub(1, std::memory_order_relaxed);
  return connection;
}

void HttpLobby::Return(LobbyConnection connection) {
  ALMANAC_CHECK(connection.fd >= 0);
  connection.head_bytes = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      returned_.push_back(connection);
      connection.fd = -1;
    }
  }
  if (connection.fd >= 0) {
    CloseFd(connection.fd);
    return;
  }
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    // Only fails when the counter is near 2^64: the lobby is already awake.
  }
}

void HttpLobby::Run() {
  epoll_event events[kEventsPerWakeMax];
  while (true) {
    const int n = epoll_wait(epoll_fd_, events, kEventsPerWakeMax, WaitTimeoutMs(Clock::now()));
    ALMANAC_CHECK(n >= 0 || errno == EINTR);
    for (int i = 0; i < n; ++i) {
      const int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
      const uint32_t generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
      if (generation == 0 && fd == listen_fd_) {
        Accept();
      } else if (generation == 0 && fd == wake_fd_) {
        uint64_t count;
        if (read(wake_fd_, &count, sizeof(count)) < 0) {
          // EAGAIN: another wake-up already consumed it.
        }
      } else if (static_cast<size_t>(fd) < by_fd_.size() && by_fd_[fd] != nullptr &&
                 by_fd_[fd]->generation == generation) {
        OnReadable(by_fd_[fd], events[i].events);
      }  // else: closed earlier in this batch
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    TakeReturned();
    ExpireDue(Clock::now());
  }
  // Stopping: nothing is served any more.
  while (!heads_.empty()) Close(&heads_.front());
  while (!kept_.empty()) Close(&kept_.front());
  std::deque<LobbyConnection> ready;
  std::vector<LobbyConnection> returned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready.swap(ready_);
    returned.swap(returned_);
  }
  for (const LobbyConnection& c : ready) CloseFd(c.fd);
  for (const LobbyConnection& c : returned) CloseFd(c.fd);
  connections_.store(0, std::memory_order_relaxed);
  CloseFd(listen_fd_);
}

void HttpLobby::Accept() {
  for (size_t i = 0; i < options_.accepts_per_wake_max; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        RefuseOne();
      }
      return;  // EAGAIN: none left
    }
    counters_.accepted->Add();
    const int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    Admit(fd, Wait::kHead, 0);
  }
}

void HttpLobby::RefuseOne() {
  // The listening socket stays readable while a connection waits, so without this the
  // lobby would spin. The spare descriptor makes room for one accept, closed at once.
  if (spare_fd_ >= 0) {
    CloseFd(spare_fd_);
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      CloseFd(fd);
      counters_.refused->Add();
    }
    spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  if (spare_fd_ < 0) {
    // No spare either (the whole system is out of descriptors): wait a little rather
    // than spin on the listening socket.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HttpLobby::Admit(int fd, Wait wait, size_t requests_served) {
  if (connections_.load(std::memory_order_relaxed) >= options_.connections_max &&
      !EvictOldest()) {
    CloseFd(fd);
    counters_.refused->Add();
    return;
  }
  std::list<Entry>& list = ListFor(wait);
  const Clock::time_point now = Clock::now();
  const absl::Duration hold =
      wait == Wait::kHead ? options_.head_deadline : options_.keep_alive_timeout;
  Entry& entry = list.emplace_back();
  entry.fd = fd;
  entry.requests_served = requests_served;
  entry.entered = now;
  entry.deadline = now + absl::ToChronoMilliseconds(hold);
  entry.wait = wait;
  if (++generation_ == 0) ++generation_;  // 0 marks the listening socket and the eventfd
  entry.generation = generation_;
  entry.self = std::prev(list.end());
  epoll_event event{};
  // Edge-triggered: the head is only peeked at, so it stays readable; each new arrival
  // of bytes wakes the lobby once. Adding reports data that is already there.
  event.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  event.data.u64 = EventData(fd, entry.generation);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    // Out of kernel memory for watches: refuse rather than hold what is never looked at.
    list.erase(entry.self);
    CloseFd(fd);
    counters_.refused->Add();
    return;
  }
  if (by_fd_.size() <= static_cast<size_t>(fd)) by_fd_.resize(static_cast<size_t>(fd) + 1);
  by_fd_[fd] = &entry;
  connections_.fetch_add(1, std::memory_order_relaxed);
}

void HttpLobby::OnReadable(Entry* entry, uint32_t events) {
  const absl::StatusOr<size_t> end = PeekHeadEnd(entry->fd, options_.head_bytes_max);
  if (!end.ok()) {
    if (absl::IsResourceExhausted(end.status())) {
      counters_.headers_too_large->Add();
      AnswerHeadTooLarge(entry->fd, options_.head_bytes_max);
    }
    Close(entry);
    return;
  }
  if (*end == 0) {
    // A partial head whose client shut its side (or failed) can never complete.
    if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) Close(entry);
    return;
  }
  const LobbyConnection ready{entry->fd, *end, entry->requests_served};
  Remove(entry);  // still counted in connections_ until a worker takes it
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (takers_waiting_ == 0) counters_.waited->Add();
    ready_.push_back(ready);
    ready_count_.store(ready_.size(), std::memory_order_relaxed);
  }
  ready_cv_.notify_one();
}

void HttpLobby::TakeReturned() {
  std::vector<LobbyConnection> returned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    returned.swap(returned_);
  }
  for (const LobbyConnection& c : returned) Admit(c.fd, Wait::kNextRequest, c.requests_served);
}

void HttpLobby::ExpireDue(Clock::time_point now) {
  while (!heads_.empty() && heads_.front().deadline <= now) {
    counters_.header_timeouts->Add();
    Close(&heads_.front());
  }
  while (!kept_.empty() && kept_.front().deadline <= now) {
    counters_.keep_alive_timeouts->Add();
    Close(&kept_.front());
  }
}

int HttpLobby::WaitTimeoutMs(Clock::time_point now) const {
  std::optional<Clock::time_point> next;
  if (!heads_.empty()) next = heads_.front().deadline;
  if (!kept_.empty() && (!next || kept_.front().deadline < *next)) next = kept_.front().deadline;
  if (!next) return -1;
  if (*next <= now) return 0;
  // Rounded up, so the wake-up is never before the deadline (no busy wake-ups).
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
  return static_cast<int>(std::min<int64_t>(wait, 1000 * 60));
}

bool HttpLobby::EvictOldest() {
  Entry* oldest = nullptr;
  if (!heads_.empty()) oldest = &heads_.front();
  if (!kept_.empty() && (oldest == nullptr || kept_.front().entered < oldest->entered)) {
    oldest = &kept_.front();
  }
  if (oldest == nullptr) return false;
  counters_.evicted->Add();
  Close(oldest);
  return true;
}

void HttpLobby::Remove(Entry* entry) {
  const int fd = entry->fd;
  // Cannot fail for a descriptor that is watched; a failure would leave a stale watch that
  // the generation check ignores.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ALMANAC_CHECK(static_cast<size_t>(fd) < by_fd_.size() && by_fd_[fd] == entry);
  by_fd_[fd] = nullptr;
  ListFor(entry->wait).erase(entry->self);
}

void HttpLobby::Close(Entry* entry) {
  const int fd = entry->fd;
  Remove(entry);
  CloseFd(fd);
  connections_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace almanac::api
