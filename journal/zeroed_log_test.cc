// Goal: the journal's write-ahead logs start as zeroed spares (journal/zeroed_log.h), the
// spare is replaced after each use, only RocksDB's logs in the journal's own directory
// take one, and a journal whose log has a zero tail (what a crash leaves) reopens with
// every acknowledged record, also when a log outgrew its spare.
// Method: real RocksDB and files under $TEST_TMPDIR; copying a live journal's directory
// is the crash image (nothing closed, the log's zero tail included).
#include "journal/zeroed_log.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/testing.h"
#include "gtest/gtest.h"
#include "journal/journal.h"
#include "journal/journal_testing.h"
#include "rocksdb/file_system.h"

namespace almanac::journal {
namespace {

namespace fs = std::filesystem;

constexpr size_t kSpareBytes = size_t{256} << 10;

std::unique_ptr<ZeroedLogs> StartOrDie(
    const std::string& dir, size_t bytes = kSpareBytes,
    ZeroedLogs::FirstSpare first = ZeroedLogs::FirstSpare::kNow) {
  absl::StatusOr<std::unique_ptr<ZeroedLogs>> logs =
      ZeroedLogs::Start(rocksdb::Env::Default(), dir, bytes, first);
  EXPECT_TRUE(logs.ok()) << logs.status();
  return logs.ok() ? std::move(*logs) : nullptr;
}

// Creates `name` through the file system the journal's RocksDB would use.
std::unique_ptr<rocksdb::FSWritableFile> NewFileOrDie(const ZeroedLogs& logs,
                                                      const std::string& name) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  const rocksdb::IOStatus s =
      logs.env()->GetFileSystem()->NewWritableFile(name, rocksdb::FileOptions(), &file, nullptr);
  EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
  return file;
}

ino_t Inode(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Every byte of `path` from `from` on is zero, and it has at least one byte there.
void ExpectZerosFrom(const std::string& path, size_t from) {
  const std::string bytes = testing::ReadFileOrFail(path);
  ASSERT_GT(bytes.size(), from) << path;
  EXPECT_EQ(bytes.find_first_not_of('\0', from), std::string::npos) << path;
}

std::string LiveLog(const std::string& dir) {
  std::vector<std::string> logs;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") logs.push_back(entry.path().string());
  }
  EXPECT_EQ(logs.size(), 1u) << dir;
  return logs.empty() ? "" : logs.back();
}

// Copies a live journal's directory as a crash would leave it, except the spare files,
// which the background thread may be renaming meanwhile (a start without one makes one).
void CopyCrashImage(const std::string& dir, const std::string& copy) {
  fs::create_directories(copy);
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(ZeroedLogs::kSpareName, 0) == 0) continue;
    fs::copy_file(entry.path(), copy + "/" + name);
  }
}

std::unique_ptr<Journal> OpenOrDie(const std::string& dir, size_t zeroed_log_bytes) {
  JournalOptions options;
  options.zeroed_log_bytes = zeroed_log_bytes;
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir, options);
  EXPECT_TRUE(journal.ok()) << journal.status();
  return journal.ok() ? std::move(*journal) : nullptr;
}

void AppendOrDie(Journal* journal, uint64_t from, uint64_t count) {
  for (uint64_t i = from; i < from + count; ++i) {
    absl::StatusOr<uint64_t> seq = journal->Append(SampleDraft(i, "z" + std::to_string(i)));
    ASSERT_TRUE(seq.ok()) << seq.status();
  }
}

// Reopens `dir` and checks it holds records 1..last, each verified, and takes more.
void ExpectWholeJournal(const std::string& dir, uint64_t last, size_t zeroed_log_bytes) {
  std::unique_ptr<Journal> journal = OpenOrDie(dir, zeroed_log_bytes);
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->last_seq(), last);
  absl::StatusOr<std::vector<StoredRecord>> records = journal->Read(1, last + 10);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), last);
  EXPECT_EQ(records->back().seq, last);
  ASSERT_TRUE(journal->Append(SampleDraft(last + 1, "after")).ok());
}

TEST(ZeroedLogsTest, StartPreparesAWrittenSpareOfZerosAndRejectsBadSizes) {
  const std::string dir = testing::MakeTempDir("zeroed_start");
  EXPECT_EQ(ZeroedLogs::Start(rocksdb::Env::Default(), dir, ZeroedLogs::kSpareBytesMin - 1,
                              ZeroedLogs::FirstSpare::kNow)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ZeroedLogs::Start(rocksdb::Env::Default(), dir, ZeroedLogs::kSpareBytesMax + 1,
                              ZeroedLogs::FirstSpare::kNow)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  // A spare that cannot be made leaves plain logs, not an error: no directory here.
  {
    std::unique_ptr<ZeroedLogs> without = StartOrDie(dir + "/missing");
    ASSERT_NE(without, nullptr);
    EXPECT_FALSE(without->WaitForSpare());
  }

  const std::string spare = dir + "/" + ZeroedLogs::kSpareName;
  // Not a multiple of the 64 KiB grain: rounded up.
  std::unique_ptr<ZeroedLogs> logs = StartOrDie(dir, kSpareBytes - 1000);
  ASSERT_NE(logs, nullptr);
  EXPECT_TRUE(logs->WaitForSpare());
  EXPECT_EQ(fs::file_size(spare), kSpareBytes);
  ExpectZerosFrom(spare, 0);
  struct stat st;
  ASSERT_EQ(stat(spare.c_str(), &st), 0);
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, kSpareBytes);  // written, no holes
  EXPECT_FALSE(fs::exists(dir + "/" + ZeroedLogs::kSpareTempName));

  // A later start finds the finished spare and keeps it.
  const ino_t inode = Inode(spare);
  logs.reset();
  logs = StartOrDie(dir, kSpareBytes);
  EXPECT_EQ(Inode(spare), inode);
  EXPECT_EQ(logs->logs_from_spares(), 0u);
}

TEST(ZeroedLogsTest, ASpareOfTheWrongSizeIsReplaced) {
  const std::string dir = testing::MakeTempDir("zeroed_resize");
  const std::string spare = dir + "/" + ZeroedLogs::kSpareName;
  StartOrDie(dir, kSpareBytes).reset();
  ASSERT_EQ(fs::file_size(spare), kSpareBytes);
  std::unique_ptr<ZeroedLogs> logs = StartOrDie(dir, 2 * kSpareBytes);
  EXPECT_EQ(fs::file_size(spare), 2 * kSpareBytes);
}

TEST(ZeroedLogsTest, ALogInTheDirectoryTakesTheSpareAndANewOneIsPrepared) {
  const std::string dir = testing::MakeTempDir("zeroed_take");
  const std::string spare = dir + "/" + ZeroedLogs::kSpareName;
  std::unique_ptr<ZeroedLogs> logs = StartOrDie(dir);
  ASSERT_NE(logs, nullptr);
  const ino_t spare_inode = Inode(spare);

  const std::string log = dir + "/000007.log";
  std::unique_ptr<rocksdb::FSWritableFile> file = NewFileOrDie(*logs, log);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(logs->logs_from_spares(), 1u);
  EXPECT_EQ(Inode(log), spare_inode);  // the spare itself, renamed
  const std::string records(1000, 'r');
  // As RocksDB writes a log: preallocating ahead of each append.
  file->SetPreallocationBlockSize(size_t{64} << 10);
  file->PrepareWrite(0, records.size(), rocksdb::IOOptions(), nullptr);
  ASSERT_TRUE(file->Append(records, rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Sync(rocksdb::IOOptions(), nullptr).ok());
  // The append overwrote the zeros from offset 0 and did not grow the file.
  EXPECT_EQ(fs::file_size(log), kSpareBytes);
  EXPECT_EQ(testing::ReadFileOrFail(log).substr(0, records.size()), records);
  ExpectZerosFrom(log, records.size());
  // A clean close trims the preallocated log to what was written.
  ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  EXPECT_EQ(fs::file_size(log), records.size());

  // The next spare: a new file under the spare's name.
  EXPECT_TRUE(logs->WaitForSpare());
  EXPECT_NE(Inode(spare), spare_inode);
  EXPECT_EQ(fs::file_size(spare), kSpareBytes);
  ExpectZerosFrom(spare, 0);
}

TEST(ZeroedLogsTest, OtherFilesGetPlainNewFiles) {
  const std::string dir = testing::MakeTempDir("zeroed_other");
  const std::string other_dir = testing::MakeTempDir("zeroed_elsewhere");
  fs::create_directories(dir + "/sub");
  std::unique_ptr<ZeroedLogs> logs = StartOrDie(dir);
  ASSERT_NE(logs, nullptr);
  const ino_t spare_inode = Inode(dir + "/" + ZeroedLogs::kSpareName);
  for (const std::string& name :
       {dir + "/LOG", dir + "/000009.sst", dir + "/MANIFEST-000005", dir + "/sub/000010.log",
        other_dir + "/000011.log", dir + "x/000012.log"}) {
    fs::create_directories(fs::path(name).parent_path());
    ASSERT_NE(NewFileOrDie(*logs, name), nullptr);
    EXPECT_EQ(fs::file_size(name), 0u) << name;
  }
  EXPECT_EQ(logs->logs_from_spares(), 0u);
  EXPECT_EQ(Inode(dir + "/" + ZeroedLogs::kSpareName), spare_inode);
}

// The spare is a speed-up, never a condition: gone from under the wrapper (deleted by
// hand, say), the log is a plain new file and the next spare is prepared.
TEST(ZeroedLogsTest, AMissingSpareGivesAPlainLog) {
  const std::string dir = testing::MakeTempDir("zeroed_missing");
  const std::string spare = dir + "/" + ZeroedLogs::kSpareName;
  std::unique_ptr<ZeroedLogs> logs = StartOrDie(dir);
  ASSERT_NE(logs, nullptr);
  ASSERT_TRUE(fs::remove(spare));
  ASSERT_NE(NewFileOrDie(*logs, dir + "/000021.log"), nullptr);
  EXPECT_EQ(fs::file_size(dir + "/000021.log"), 0u);
  EXPECT_EQ(logs->logs_from_spares(), 0u);
  EXPECT_TRUE(logs->WaitForSpare());
  EXPECT_EQ(fs::file_size(spare), kSpareBytes);
}

// A spare that fails midway (here its rename into place: the spare's name is taken by a
// directory) is removed, so a failure never keeps disk space from the journal.
TEST(ZeroedLogsTest, AFailedSpareIsRemovedAndLogsStayPlain) {
  const std::string dir = testing::MakeTempDir("zeroed_failed");
  ASSERT_TRUE(fs::create_directory(dir + "/" + ZeroedLogs::kSpareName));
  std::unique_ptr<ZeroedLogs> logs = StartOrDie(dir);
  ASSERT_NE(logs, nullptr);
  EXPECT_FALSE(logs->WaitForSpare());
  EXPECT_FALSE(fs::exists(dir + "/" + ZeroedLogs::kSpareTempName));
  ASSERT_NE(NewFileOrDie(*logs, dir + "/000031.log"), nullptr);
  EXPECT_EQ(fs::file_size(dir + "/000031.log"), 0u);
  EXPECT_EQ(logs->logs_from_spares(), 0u);
}

// A crash while a spare was being prepared leaves a temp file: the next start makes a
// complete spare rather than trusting it.
TEST(ZeroedLogsTest, AnUnfinishedSpareIsNotUsed) {
  const std::string dir = testing::MakeTempDir("zeroed_unfinished");
  {
    std::FILE* f = std::fopen((dir + "/" + ZeroedLogs::kSpareTempName).c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("partial", f);
    std::fclose(f);
  }
  std::unique_ptr<ZeroedLogs> logs = StartOrDie(dir);
  ASSERT_NE(logs, nullptr);
  EXPECT_EQ(fs::file_size(dir + "/" + ZeroedLogs::kSpareName), kSpareBytes);
  ExpectZerosFrom(dir + "/" + ZeroedLogs::kSpareName, 0);
  EXPECT_FALSE(fs::exists(dir + "/" + ZeroedLogs::kSpareTempName));
}

TEST(ZeroedLogsTest, InTheBackgroundStartDoesNotWaitForTheFirstSpare) {
  const std::string dir = testing::MakeTempDir("zeroed_background");
  std::unique_ptr<ZeroedLogs> logs =
      StartOrDie(dir, kSpareBytes, ZeroedLogs::FirstSpare::kInBackground);
  ASSERT_NE(logs, nullptr);
  EXPECT_TRUE(logs->WaitForSpare());
  EXPECT_EQ(fs::file_size(dir + "/" + ZeroedLogs::kSpareName), kSpareBytes);
}

TEST(ZeroedLogsTest, AfterStopLogsArePlainAndTheReadySpareStays) {
  const std::string dir = testing::MakeTempDir("zeroed_stop");
  const std::string spare = dir + "/" + ZeroedLogs::kSpareName;
  std::unique_ptr<ZeroedLogs> logs = StartOrDie(dir);
  ASSERT_NE(logs, nullptr);
  const ino_t spare_inode = Inode(spare);
  logs->Stop();
  ASSERT_NE(NewFileOrDie(*logs, dir + "/000013.log"), nullptr);
  EXPECT_EQ(fs::file_size(dir + "/000013.log"), 0u);
  EXPECT_EQ(logs->logs_from_spares(), 0u);
  EXPECT_EQ(Inode(spare), spare_inode);
}

// Waits (up to a minute) until the journal in `dir` has a finished spare: the background
// thread renames it into place only once it is written and synced.
bool WaitForSpareFile(const std::string& dir) {
  const std::string spare = dir + "/" + ZeroedLogs::kSpareName;
  for (int i = 0; i < 6000; ++i) {
    if (fs::exists(spare)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// A clean close flushes the memtable, which opens one more (empty) log: it must not use
// up the spare, so that a restart starts on a zeroed log without waiting for one.
TEST(ZeroedLogsTest, ACleanCloseKeepsTheSpareForTheNextOpen) {
  const std::string dir = testing::MakeTempDir("zeroed_close") + "/journal";
  const std::string spare = dir + "/" + ZeroedLogs::kSpareName;
  std::unique_ptr<Journal> journal = OpenOrDie(dir, kSpareBytes);
  ASSERT_NE(journal, nullptr);
  AppendOrDie(journal.get(), 0, 10);
  ASSERT_TRUE(WaitForSpareFile(dir));
  const ino_t spare_inode = Inode(spare);
  journal.reset();
  EXPECT_EQ(Inode(spare), spare_inode);
  journal = OpenOrDie(dir, kSpareBytes);
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->logs_from_zeroed_spares(), 1u);
  EXPECT_EQ(journal->last_seq(), 10u);
}

TEST(ZeroedLogsTest, AJournalsLogIsTheSpareAndACrashImageReopensWhole) {
  const std::string dir = testing::MakeTempDir("zeroed_journal") + "/journal";
  const std::string copy = testing::MakeTempDir("zeroed_journal_copy") + "/journal";
  std::unique_ptr<Journal> journal = OpenOrDie(dir, kSpareBytes);
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->logs_from_zeroed_spares(), 1u);  // a new journal's first log
  AppendOrDie(journal.get(), 0, 200);

  // The live log is the spare's size and zero past the records.
  const std::string log = LiveLog(dir);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(fs::file_size(log), kSpareBytes);
  const std::string bytes = testing::ReadFileOrFail(log);
  const size_t records_end = bytes.find_last_not_of('\0') + 1;
  EXPECT_GT(records_end, 200u * 200);  // ~200 bytes per record
  EXPECT_LT(records_end, kSpareBytes);

  CopyCrashImage(dir, copy);
  journal.reset();
  ExpectWholeJournal(copy, 200, kSpareBytes);
  ExpectWholeJournal(copy, 201, 0);  // and without zeroed logs
  ExpectWholeJournal(dir, 200, kSpareBytes);
}

TEST(ZeroedLogsTest, ALogThatOutgrowsItsSpareKeepsEveryRecord) {
  const std::string dir = testing::MakeTempDir("zeroed_outgrow") + "/journal";
  const std::string copy = testing::MakeTempDir("zeroed_outgrow_copy") + "/journal";
  std::unique_ptr<Journal> journal = OpenOrDie(dir, ZeroedLogs::kSpareBytesMin);
  ASSERT_NE(journal, nullptr);
  AppendOrDie(journal.get(), 0, 1000);  // ~200 KB of records: past the 64 KiB of zeros
  const std::string log = LiveLog(dir);
  ASSERT_FALSE(log.empty());
  EXPECT_GT(fs::file_size(log), ZeroedLogs::kSpareBytesMin);
  CopyCrashImage(dir, copy);
  journal.reset();
  ExpectWholeJournal(copy, 1000, ZeroedLogs::kSpareBytesMin);
  ExpectWholeJournal(dir, 1000, ZeroedLogs::kSpareBytesMin);
}

}  // namespace
}  // namespace almanac::journal
