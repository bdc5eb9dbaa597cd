// Goal: the pieces of `almanac events tail` that decide where a restart resumes: the
// checkpoint file (atomic replace, strict parse, bounded size) and the seq a printed line
// carries. Method: files under $TEST_TMPDIR; the whole-process behaviour (SIGKILL and
// restart, exactly once) is tests/events_tail_test.py.
#include "tools/cli/events_command.h"

#include <fstream>
#include <string>

#include "base/testing.h"
#include "gtest/gtest.h"
#include "tools/cli/limits.h"

namespace almanac::cli {
namespace {

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(EventsCheckpointTest, RoundTripsAndReplacesAtomically) {
  const std::string dir = testing::MakeTempDir("checkpoint");
  const std::string path = dir + "/cp";
  absl::StatusOr<std::optional<EventsCheckpoint>> missing = ReadEventsCheckpoint(path);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());

  const std::string hash(64, 'a');
  ASSERT_TRUE(WriteEventsCheckpoint(path, {812, 4096, ""}).ok());
  ASSERT_TRUE(WriteEventsCheckpoint(path, {813, 5000, hash}).ok());
  absl::StatusOr<std::optional<EventsCheckpoint>> read = ReadEventsCheckpoint(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->seq, 813u);
  EXPECT_EQ((*read)->output_bytes, 5000u);
  EXPECT_EQ((*read)->chain_hash, hash);
  EXPECT_EQ(testing::ReadFileOrFail(path),
            "{\"chainHash\":\"" + hash + "\",\"outputBytes\":5000,\"seq\":813}\n");
  // Written before the hash was kept: read with an unknown hash.
  WriteFile(path, "{\"seq\":7,\"outputBytes\":0}");
  EXPECT_EQ((*ReadEventsCheckpoint(path))->chain_hash, "");
  ASSERT_TRUE(WriteEventsCheckpoint(path, {813, 5000, hash}).ok());

  // A leftover temporary file from a run killed mid-write changes nothing.
  WriteFile(path + ".tmp", "{\"seq\":9");
  read = ReadEventsCheckpoint(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)->seq, 813u);
  ASSERT_TRUE(WriteEventsCheckpoint(path, {814, 0, ""}).ok());
  EXPECT_EQ((*ReadEventsCheckpoint(path))->seq, 814u);
}

TEST(EventsCheckpointTest, RefusesWhatIsNotACheckpoint) {
  const std::string path = testing::MakeTempDir("checkpoint") + "/cp";
  for (const std::string& text :
       {std::string(""), std::string("812"), std::string("{\"seq\":-1,\"outputBytes\":0}"),
        std::string("{\"seq\":1}"), std::string("{\"seq\":\"1\",\"outputBytes\":0}"),
        std::string("[1,2]"), std::string(kCheckpointBytesMax + 1, ' '),
        std::string("{\"seq\":1,\"outputBytes\":0,\"chainHash\":\"abc\"}"),
        std::string("{\"seq\":1,\"outputBytes\":0,\"chainHash\":5}")}) {
    WriteFile(path, text);
    absl::StatusOr<std::optional<EventsCheckpoint>> read = ReadEventsCheckpoint(path);
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument) << text.substr(0, 40);
  }
  EXPECT_FALSE(WriteEventsCheckpoint("/nonexistent-dir/cp", {1, 0, ""}).ok());
}

TEST(EventsCheckpointTest, SeqOfPrintedLine) {
  EXPECT_EQ(SeqOfPrintedLine(R"({"seq":812,"type":"MemberAuthorized"})"), 812u);
  EXPECT_EQ(SeqOfPrintedLine("2026-11-27 21:14:03 #812 token:admin@127.0.0.1:5 NetworkCreated"),
            812u);
  EXPECT_EQ(SeqOfPrintedLine("2026-11-27 21:14:03 #7"), 7u);
  EXPECT_EQ(SeqOfPrintedLine(R"({"heartbeat":true,"scanned":5})"), std::nullopt);
  EXPECT_EQ(SeqOfPrintedLine(R"({"seq":"812"})"), std::nullopt);
  EXPECT_EQ(SeqOfPrintedLine(R"({"seq":81)"), std::nullopt);
  EXPECT_EQ(SeqOfPrintedLine("2026-11-27 21:14:03 #x12 token"), std::nullopt);
  EXPECT_EQ(SeqOfPrintedLine("no seq here"), std::nullopt);
  EXPECT_EQ(SeqOfPrintedLine("a # b"), std::nullopt);
}

}  // namespace
}  // namespace almanac::cli
