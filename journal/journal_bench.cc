// journal_bench: the journal's throughput against the disk's own limit.
//
// Prints, for the disk under --dir:
//   1. raw write + fdatasync rate of one 256-byte record at a time on a plain file;
//   2. durable appends/s through Journal::Append with 1, 16 and 64 concurrent writers
//      (each builds its draft, appends, waits for durability, repeats), with the group
//      commit's records per sync write; then the raw rate again (it drifts); each phase
//      on a new journal, with zeroed log spares as almanacd unless --zeroed_logs=false;
//   2b. the target's ratio, paired: --ratio_rounds rounds of a raw fdatasync phase and a
//      64-writer phase on one journal, back to back, so both see the disk of the same
//      moment (its rate drifts by half within a minute, which makes a ratio of phases
//      seconds apart swing); then the same for the floor under it: 64 sleeping threads
//      woken around a bare write + fdatasync, no journal; for both, the CPU the process
//      spent per append (user and system), the most appends/s that CPU allows on this
//      machine's cores, and the share of the time an fsync was in progress, which say
//      whether the rate is bound by the CPU, by the disk, or by each waiting on the other;
//   2c. zeroed log spares against plain logs, 1 and 64 writers, in --compare_rounds
//      paired rounds (two journals side by side, alternating phases: the disk's drift
//      hits both alike);
//   3. replay speed over --replay_records records: Journal::Open's full chain
//      verification, and Read + verify in kReadRecordsMax pieces.
// Targets (issue): 64 writers >= 20x the raw fdatasync rate; replay >= 1,000,000/s; both
// printed after the replay with their verdicts (the ratio from the paired rounds).
// Build with -c opt. Usage: almanac-bench journal [--dir=/var/tmp/x] [--seconds=3]
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "journal/journal.h"
#include "journal/journal_bench.h"
#include "journal/journal_testing.h"
#include "journal/limits.h"
#include "journal/record.h"

ABSL_FLAG(std::string, dir, "", "scratch directory on the disk to measure (default: "
                                "a fresh directory under /var/tmp, removed afterwards)");
ABSL_FLAG(double, seconds, 3.0, "duration of each timed phase");
ABSL_FLAG(uint64_t, replay_records, 1000000, "records written then replayed");
ABSL_FLAG(bool, zeroed_logs, true,
          "durable appends go to logs made from zeroed spares, as in almanacd "
          "(journal/zeroed_log.h); false measures plain RocksDB logs");
ABSL_FLAG(int, ratio_rounds, 8,
          "paired rounds of 0.5 s raw fdatasync and 1.5 s of 64 writers, back to back, "
          "for the target's ratio, and as many for the floor under it (0: skip)");
ABSL_FLAG(int, compare_rounds, 8,
          "paired rounds of 1.5 s comparing zeroed log spares with plain logs, with 1 and "
          "64 writers (0: skip)");

namespace almanac::journal {

double RawFdatasyncPerSecond(const std::string& dir, absl::Duration duration) {
  const std::string path = dir + "/fdatasync.bin";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    std::perror("open");
    return 0;
  }
  const std::string record(256, 'r');
  uint64_t count = 0;
  const absl::Time start = absl::Now();
  absl::Time now = start;
  while (now - start < duration) {
    if (write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()) ||
        fdatasync(fd) != 0) {
      std::perror("write/fdatasync");
      break;
    }
    ++count;
    now = absl::Now();
  }
  close(fd);
  unlink(path.c_str());
  return count / absl::ToDoubleSeconds(now - start);
}

ZeroedSyncFile::ZeroedSyncFile(std::string path, size_t file_bytes)
    : path_(std::move(path)), file_bytes_(file_bytes) {
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    std::perror(path_.c_str());
    return;
  }
  const std::string zeros(file_bytes_, '\0');
  ok_ = pwrite(fd_, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size()) &&
        fdatasync(fd_) == 0;
  if (!ok_) std::perror(path_.c_str());
}

ZeroedSyncFile::~ZeroedSyncFile() {
  if (fd_ < 0) return;
  close(fd_);
  unlink(path_.c_str());
}

bool ZeroedSyncFile::WriteAndSync(size_t bytes) {
  if (!ok_ || bytes > file_bytes_) return ok_ = false;
  if (at_ + bytes > file_bytes_) at_ = 0;
  if (filler_.size() < bytes) filler_.assign(bytes, 'g');
  ok_ = pwrite(fd_, filler_.data(), bytes, static_cast<off_t>(at_)) ==
            static_cast<ssize_t>(bytes) &&
        fdatasync(fd_) == 0;
  if (!ok_) std::perror(path_.c_str());
  at_ += bytes;
  return ok_;
}

PairedRates MeasurePaired(int rounds, const std::function<double()>& first,
                          const std::function<double()>& second) {
  PairedRates paired;
  for (int round = 0; round < rounds; ++round) {
    double a = 0, b = 0;
    if (round % 2 == 0) {
      a = first();
      b = second();
    } else {
      b = second();
      a = first();
    }
    const double ratio = b > 0 ? a / b : 0;
    paired.lowest = round == 0 ? ratio : std::min(paired.lowest, ratio);
    paired.highest = round == 0 ? ratio : std::max(paired.highest, ratio);
    paired.first += a / rounds;
    paired.second += b / rounds;
  }
  return paired;
}

void WaitForIdleJournalOrExit(const Journal& journal) {
  if (!journal.WaitForBackgroundWork(absl::Seconds(30))) {
    std::fprintf(stderr, "almanac-bench: the journal still writes in the background after 30 s\n");
    std::exit(1);
  }
}

namespace {

std::unique_ptr<Journal> OpenOrDie(const std::string& dir, const JournalOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir, options);
  if (!journal.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), journal.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*journal);
}

JournalOptions BenchOptions(bool zeroed_logs) {
  JournalOptions options;
  if (zeroed_logs) options.zeroed_log_bytes = ZeroedLogBytesFor(options.memtable_bytes);
  return options;
}

// CPU time of every thread of the process (callers, the journal's writer, RocksDB's and
// the spares' background threads), user and system apart.
struct CpuTimes {
  double user = 0, system = 0;
};
CpuTimes ProcessCpuTimes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec * 1e-6; };
  return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}
CpuTimes CpuSince(const CpuTimes& start) {
  const CpuTimes now = ProcessCpuTimes();
  return {now.user - start.user, now.system - start.system};
}

// One timed phase of durable appends, or their sum over phases.
struct Appended {
  uint64_t appends = 0;
  double seconds = 0;
  CpuTimes cpu;             // spent by the process during the phase
  uint64_t syncs = 0;       // fsyncs that made the appends durable
  double sync_seconds = 0;  // the time they took, summed

  double rate() const { return seconds > 0 ? appends / seconds : 0; }
  void Add(const Appended& phase) {
    appends += phase.appends;
    seconds += phase.seconds;
    cpu.user += phase.cpu.user;
    cpu.system += phase.cpu.system;
    syncs += phase.syncs;
    sync_seconds += phase.sync_seconds;
  }
  // CPU per append, and the rate it allows: with `cores` CPUs the process cannot do more
  // than cores / (CPU per append) appends per second, however well its waits for the
  // disk overlap its work.
  double cpu_micros() const { return appends ? (cpu.user + cpu.system) * 1e6 / appends : 0; }
  double user_micros() const { return appends ? cpu.user * 1e6 / appends : 0; }
  double system_micros() const { return appends ? cpu.system * 1e6 / appends : 0; }
  double cpu_ceiling(int cores) const { return cpu_micros() > 0 ? cores * 1e6 / cpu_micros() : 0; }
  // The share of the time an fsync was in progress: near 1, the disk bounds the rate.
  double sync_share() const { return seconds > 0 ? sync_seconds / seconds : 0; }
  double syncs_per_second() const { return seconds > 0 ? syncs / seconds : 0; }
  double micros_per_sync() const { return syncs ? sync_seconds * 1e6 / syncs : 0; }
  double appends_per_sync() const { return syncs ? double(appends) / syncs : 0; }
};

// The CPUs this process may run on.
int UsableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

// Appends through `journal` from `writers` threads, each appending, waiting for
// durability, and repeating, for `duration`.
Appended TimedAppends(Journal* journal, int writers, absl::Duration duration) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> appends{0};
  std::vector<std::thread> threads;
  const uint64_t syncs_start = journal->sync_writes();
  const absl::Duration sync_time_start = journal->sync_time();
  const CpuTimes cpu_start = ProcessCpuTimes();
  const absl::Time start = absl::Now();
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        absl::StatusOr<uint64_t> seq = journal->Append(SampleDraft(i, "bench" + std::to_string(t)));
        if (!seq.ok()) {
          std::fprintf(stderr, "append: %s\n", seq.status().ToString().c_str());
          std::exit(1);
        }
        appends.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  absl::SleepFor(duration);
  stop = true;
  for (std::thread& t : threads) t.join();
  return Appended{appends.load(), absl::ToDoubleSeconds(absl::Now() - start),
                  CpuSince(cpu_start), journal->sync_writes() - syncs_start,
                  absl::ToDoubleSeconds(journal->sync_time() - sync_time_start)};
}

void DurableAppends(const std::string& dir, int writers, absl::Duration duration) {
  const JournalOptions options = BenchOptions(absl::GetFlag(FLAGS_zeroed_logs));
  std::unique_ptr<Journal> journal = OpenOrDie(dir, options);
  const Appended appended = TimedAppends(journal.get(), writers, duration);
  const uint64_t syncs = journal->sync_writes();
  const std::string logs =
      options.zeroed_log_bytes == 0
          ? "zeroed logs off"
          : std::to_string(journal->logs_from_zeroed_spares()) + " logs from zeroed spares";
  std::printf("durable appends, %2d writers: %10.0f /s  (%.1f records per sync write, %s)\n",
              writers, appended.rate(), syncs ? double(appended.appends) / syncs : 0.0,
              logs.c_str());
}

// Zeroed log spares against plain logs, paired: two journals open side by side, phases of
// kComparePhase alternating between them (which goes first alternates too), so both see
// the same disk minute by minute; with 64 writers, their logs switch during the rounds
// and the spares' preparation is part of what is measured.
void CompareZeroedLogs(const std::string& dir, int writers, int rounds) {
  constexpr absl::Duration kComparePhase = absl::Milliseconds(1500);
  std::unique_ptr<Journal> zeroed = OpenOrDie(dir + "/zeroed", BenchOptions(true));
  std::unique_ptr<Journal> plain = OpenOrDie(dir + "/plain", BenchOptions(false));
  double zeroed_sum = 0, plain_sum = 0;
  int zeroed_faster = 0;
  for (int round = 0; round < rounds; ++round) {
    double zeroed_rate, plain_rate;
    if (round % 2 == 0) {
      zeroed_rate = TimedAppends(zeroed.get(), writers, kComparePhase).rate();
      plain_rate = TimedAppends(plain.get(), writers, kComparePhase).rate();
    } else {
      plain_rate = TimedAppends(plain.get(), writers, kComparePhase).rate();
      zeroed_rate = TimedAppends(zeroed.get(), writers, kComparePhase).rate();
    }
    zeroed_sum += zeroed_rate;
    plain_sum += plain_rate;
    zeroed_faster += zeroed_rate > plain_rate;
  }
  std::printf("zeroed log spares vs plain logs, %2d writers, %d paired rounds: %.0f vs %.0f /s "
              "(x%.3f, faster in %d of %d; %llu logs from spares)\n",
              writers, rounds, zeroed_sum / rounds, plain_sum / rounds, zeroed_sum / plain_sum,
              zeroed_faster, rounds,
              static_cast<unsigned long long>(zeroed->logs_from_zeroed_spares()));
  zeroed.reset();
  plain.reset();
  std::filesystem::remove_all(dir + "/zeroed");
  std::filesystem::remove_all(dir + "/plain");
}

long Futex(std::atomic<uint32_t>* word, int op, uint32_t value) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word");
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, nullptr, nullptr, 0);
}

// The floor under the journal's 64-writer rate on this machine: the journal's cycle with
// RocksDB, the records and their hashing taken out. One thread overwrites 16 KiB (what a
// group of 64 records takes in the log) in a file of zeros and fdatasyncs it, then wakes
// `callers` sleeping threads with one FUTEX_WAKE, as CommitQueue::AnswerAll does, and
// sleeps until the last of them is back. Each cycle counts `callers` appends. A journal
// whose callers sleep while they wait cannot beat it here. No appends when the file fails.
Appended SleepingCallersFloor(const std::string& dir, int callers, absl::Duration duration) {
  constexpr size_t kGroupBytes = size_t{16} << 10;
  ZeroedSyncFile file(dir + "/floor.bin", size_t{8} << 20);
  bool ok = file.ok();
  std::atomic<uint32_t> round{0};  // the callers' futex word: cycles answered
  std::atomic<uint32_t> back{0};   // the writer's: callers back from this cycle
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < callers; ++t) {
    threads.emplace_back([&] {
      for (uint32_t seen = 0;;) {
        while (round.load() == seen) Futex(&round, FUTEX_WAIT_PRIVATE, seen);
        seen = round.load();
        if (stop.load()) return;
        if (back.fetch_add(1) + 1 == static_cast<uint32_t>(callers)) {
          Futex(&back, FUTEX_WAKE_PRIVATE, 1);
        }
      }
    });
  }
  uint64_t cycles = 0;
  const CpuTimes cpu_start = ProcessCpuTimes();
  const absl::Time start = absl::Now();
  absl::Time now = start;
  absl::Duration sync_time;
  while (ok && now - start < duration) {
    ok = file.WriteAndSync(kGroupBytes);
    const absl::Time synced = absl::Now();
    sync_time += synced - now;
    back.store(0);
    round.fetch_add(1);
    Futex(&round, FUTEX_WAKE_PRIVATE, std::numeric_limits<int>::max());
    for (uint32_t b; (b = back.load()) < static_cast<uint32_t>(callers);) {
      Futex(&back, FUTEX_WAIT_PRIVATE, b);
    }
    ++cycles;
    now = absl::Now();
  }
  const CpuTimes cpu = CpuSince(cpu_start);
  stop = true;
  round.fetch_add(1);
  Futex(&round, FUTEX_WAKE_PRIVATE, std::numeric_limits<int>::max());
  for (std::thread& t : threads) t.join();
  return Appended{ok ? cycles * callers : 0, absl::ToDoubleSeconds(now - start), cpu, cycles,
                  absl::ToDoubleSeconds(sync_time)};
}

// The targets.
constexpr double kWritersRatioMin = 20;  // 64 writers against the raw fdatasync rate
constexpr double kReplayRateMin = 1000000;  // records/s

constexpr absl::Duration kRawPhase = absl::Milliseconds(500);
constexpr absl::Duration kPairedPhase = absl::Milliseconds(1500);

// `measure` (which runs for kPairedPhase) paired with the raw fdatasync rate over
// kRawPhase (MeasurePaired); `settle` runs before every phase.
PairedRates PairWithRaw(const std::string& dir, int rounds, const std::function<void()>& settle,
                        const std::function<double()>& measure) {
  return MeasurePaired(
      rounds,
      [&] {
        settle();
        return measure();
      },
      [&] {
        settle();
        return RawFdatasyncPerSecond(dir, kRawPhase);
      });
}

// Where the time of `phases` went: the CPU they spent per append and the rate that CPU
// allows on this machine's cores (against `raw`, the raw fdatasync rate of the same
// rounds), and the share of the time an fsync was in progress. When neither the CPU's
// ceiling nor the fsyncs' share is near, the rate is bound by the two waiting on each
// other (the callers on the fsync, the fsync on the callers).
void PrintWhereTimeWent(const char* what, const Appended& phases, double raw) {
  const int cores = UsableCores();
  const double ceiling = phases.cpu_ceiling(cores);
  std::printf("%s: CPU %.1f us per append (user %.1f, system %.1f; all threads): %d cores "
              "allow at most %.0f /s = %.1fx the raw rate, with every core always busy\n",
              what, phases.cpu_micros(), phases.user_micros(), phases.system_micros(), cores,
              ceiling, raw > 0 ? ceiling / raw : 0.0);
  std::printf("%s: an fsync in progress %.0f%% of the time: %.0f /s, %.0f us each, %.1f "
              "appends each\n",
              what, 100 * phases.sync_share(), phases.syncs_per_second(), phases.micros_per_sync(),
              phases.appends_per_sync());
}

// The target's ratio, paired (PairWithRaw), and the floor's beside it, each with where
// its time went (PrintWhereTimeWent).
PairedRates PairedRatios(const std::string& dir, int rounds) {
  constexpr int kWriters = 64;
  std::unique_ptr<Journal> journal =
      OpenOrDie(dir + "/journal", BenchOptions(absl::GetFlag(FLAGS_zeroed_logs)));
  // Each phase starts with the journal idle: the memtable flush a writers phase started,
  // or the next log's spare, would otherwise share the disk with the raw phase after it
  // (in a writers phase they fall into they count, as in almanacd).
  Appended writers_phases;
  const PairedRates writers = PairWithRaw(
      dir, rounds, [&] { WaitForIdleJournalOrExit(*journal); },
      [&] {
        const Appended phase = TimedAppends(journal.get(), kWriters, kPairedPhase);
        writers_phases.Add(phase);
        return phase.rate();
      });
  std::printf("64 writers vs raw fdatasync, %d paired rounds: %.0f vs %.0f /s = %.1fx "
              "(rounds %.1fx to %.1fx; target %.0fx)\n",
              rounds, writers.first, writers.second, writers.ratio(), writers.lowest,
              writers.highest, kWritersRatioMin);
  PrintWhereTimeWent("64 writers", writers_phases, writers.second);
  journal.reset();
  std::filesystem::remove_all(dir + "/journal");
  Appended floor_phases;
  const PairedRates floor = PairWithRaw(dir, rounds, [] {}, [&] {
    const Appended phase = SleepingCallersFloor(dir, kWriters, kPairedPhase);
    floor_phases.Add(phase);
    return phase.rate();
  });
  std::printf("floor: 64 sleeping callers around a bare 16 KiB write + fdatasync, %d paired "
              "rounds: %.0f vs %.0f /s = %.1fx (rounds %.1fx to %.1fx)\n",
              rounds, floor.first, floor.second, floor.ratio(), floor.lowest, floor.highest);
  PrintWhereTimeWent("floor", floor_phases, floor.second);
  return writers;
}

double CpuSeconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
double ThreadCpuSeconds() { return CpuSeconds(CLOCK_THREAD_CPUTIME_ID); }
// Every thread of the process (the scan's helpers too).
double ProcessCpuSeconds() {
  const CpuTimes cpu = ProcessCpuTimes();
  return cpu.user + cpu.system;
}

// Per-record cost of the two CPU checks every read does, to explain the replay figure.
void CheckCosts() {
  std::string record = SampleDraft(1);
  PatchDraft(&record, 1, kZeroChainHash);
  constexpr int kRounds = 1000000;
  ChainHash hash = kZeroChainHash;
  absl::Time start = absl::Now();
  for (int i = 0; i < kRounds; ++i) hash = ComputeChainHash(hash, record);
  const double hash_ns = absl::ToDoubleNanoseconds(absl::Now() - start) / kRounds;
  start = absl::Now();
  size_t ok = 0;
  for (int i = 0; i < kRounds; ++i) ok += VerifyRecord(record).ok();
  const double verify_ns = absl::ToDoubleNanoseconds(absl::Now() - start) / kRounds;
  std::printf("per record (%zu B): BLAKE2b chain hash %.0f ns, FlatBuffers verify %.0f ns "
              "(%zu ok, hash byte %d)\n",
              record.size(), hash_ns, verify_ns, ok, hash[0]);
}

// Returns the Read + verify rate (records/s, wall time).
double Replay(const std::string& dir, uint64_t records) {
  {
    std::unique_ptr<Journal> journal = OpenOrDie(dir);
    for (uint64_t done = 0; done < records;) {
      std::vector<std::string> drafts;
      const uint64_t n = std::min<uint64_t>(kBatchRecordsMax, records - done);
      for (uint64_t i = 0; i < n; ++i) drafts.push_back(SampleDraft(done + i));
      if (!journal->AppendBatch(std::move(drafts)).ok()) std::exit(1);
      done += n;
    }
  }
  absl::Time start = absl::Now();
  double process_cpu_start = ProcessCpuSeconds();
  std::unique_ptr<Journal> journal = OpenOrDie(dir);
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("replay, Open verifying the chain: %10.0f records/s (%llu records in %.2f s; "
              "%.0f records per CPU-second of all threads)\n",
              records / seconds, static_cast<unsigned long long>(records), seconds,
              records / (ProcessCpuSeconds() - process_cpu_start));
  start = absl::Now();
  process_cpu_start = ProcessCpuSeconds();
  const double cpu_start = ThreadCpuSeconds();
  uint64_t read = 0;
  size_t bytes = 0;
  for (uint64_t from = 1; from <= journal->last_seq();) {
    absl::StatusOr<std::vector<StoredRecord>> batch = journal->Read(from, kReadRecordsMax);
    if (!batch.ok() || batch->empty()) {
      std::fprintf(stderr, "read: %s\n", batch.status().ToString().c_str());
      std::exit(1);
    }
    read += batch->size();
    from += batch->size();
    bytes += batch->front().bytes.size();
  }
  seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu_seconds = ThreadCpuSeconds() - cpu_start;
  const double process_cpu_seconds = ProcessCpuSeconds() - process_cpu_start;
  std::printf("replay, Read + verify:            %10.0f records/s (%llu records of ~%zu "
              "bytes in %.2f s)\n",
              read / seconds, static_cast<unsigned long long>(read),
              bytes / ((read + kReadRecordsMax - 1) / kReadRecordsMax), seconds);
  // On a shared machine the wall figure includes time other processes held the CPU.
  std::printf("replay, Read + verify per CPU-second of the reading thread: %10.0f records/s\n",
              read / cpu_seconds);
  // CPU per record whatever else runs: on an idle machine with C cores the scan reaches
  // about C times this (the reads overlap the checks, journal/chain.cc).
  std::printf("replay, Read + verify per CPU-second of all threads:     %10.0f records/s\n",
              read / process_cpu_seconds);
  return read / seconds;
}

}  // namespace

int RunJournalBench(int argc, char** argv,
                    const std::function<int(const std::string& dir)>& more) {
  // --help lists the flags of this file (absl's default looks for the binary's name).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "journal/journal_bench.cc");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "almanac-bench journal: the disk's raw fdatasync rate, durable appends/s with 1, 16 "
      "and 64 writers, 64 writers paired with the raw rate, zeroed against plain logs, "
      "replay speed (see journal_bench.cc)");
  absl::ParseCommandLine(argc, argv);
  std::string dir = absl::GetFlag(FLAGS_dir);
  const bool owned = dir.empty();
  if (owned) dir = "/var/tmp/almanac-journal-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  // The disk's fsync rate drifts by half between runs a minute apart on a shared virtual
  // disk, so it is measured before and after the append phases and the target uses the
  // mean of the two.
  const double raw_before = RawFdatasyncPerSecond(dir, duration);
  std::printf("raw write+fdatasync, 256 B each:  %10.0f /s\n", raw_before);
  for (int writers : {1, 16, 64}) {
    DurableAppends(dir + "/appends" + std::to_string(writers), writers, duration);
  }
  const double raw_after = RawFdatasyncPerSecond(dir, duration);
  const double raw = (raw_before + raw_after) / 2;
  std::printf("raw write+fdatasync, again:       %10.0f /s (mean of both %.0f /s)\n",
              raw_after, raw);
  std::printf("%.0fx the mean raw rate: %.0f /s (the target is judged on the paired rounds)\n",
              kWritersRatioMin, kWritersRatioMin * raw);
  std::optional<PairedRates> paired;
  if (const int rounds = absl::GetFlag(FLAGS_ratio_rounds); rounds > 0) {
    std::filesystem::create_directories(dir + "/ratio");
    paired = PairedRatios(dir + "/ratio", rounds);
  }
  if (const int rounds = absl::GetFlag(FLAGS_compare_rounds); rounds > 0) {
    for (int writers : {1, 64}) CompareZeroedLogs(dir + "/compare", writers, rounds);
  }
  CheckCosts();
  const double replay_rate = Replay(dir + "/replay", absl::GetFlag(FLAGS_replay_records));
  // The targets: the ratio is judged on the paired rounds (both rates from the
  // same moments of the disk), not on the single phases above.
  if (paired.has_value()) {
    std::printf("target: 64 writers >= %.0fx the raw fdatasync rate (paired rounds): %.1fx: %s\n",
                kWritersRatioMin, paired->ratio(),
                paired->ratio() >= kWritersRatioMin ? "met" : "NOT met");
  }
  std::printf("target: replay (Read + verify) >= %.0f records/s: %.0f: %s\n", kReplayRateMin,
              replay_rate, replay_rate >= kReplayRateMin ? "met" : "NOT met");
  std::fflush(stdout);
  // The replay journal is no longer needed: free its disk space before `more` runs.
  std::filesystem::remove_all(dir + "/replay");
  const int code = more ? more(dir) : 0;
  if (owned) std::filesystem::remove_all(dir);
  return code;
}

}  // namespace almanac::journal
