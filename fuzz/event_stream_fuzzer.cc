// Fuzzes what GET /events consumers and the server parse (ctl/api/event_stream.h) and the
// record renderer every stream line goes through (ctl/events/event_json.h).
// Input: the first byte chooses the target, the rest is its input:
//   even: a received flatbuffers stream: TakeEventFrame until it needs more bytes or
//         refuses; each record payload that passes journal::VerifyRecord is filtered and
//         rendered to JSON (the renderer trusts a verified layout, not its values);
//   odd:  a query string "a=b&c=d..." split into parameters for ParseEventQuery.
// Properties: no crash; a frame never claims more bytes than were taken; a heartbeat
// written by AppendHeartbeat reads back the same; a parsed query is within its limits.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/str_split.h"
#include "ctl/api/event_stream.h"
#include "ctl/api/json_fields.h"
#include "ctl/api/limits.h"
#include "ctl/events/event_json.h"
#include "fuzz/fuzz_check.h"
#include "journal/limits.h"
#include "journal/record.h"

namespace {

void FuzzFrames(const std::string& input) {
  std::string buffer = input;
  while (true) {
    const size_t before = buffer.size();
    auto frame = almanac::api::TakeEventFrame(&buffer);
    if (!frame.ok() || !frame->has_value()) break;
    const almanac::api::EventFrame& f = **frame;
    FUZZ_ASSERT(buffer.size() + almanac::api::kFrameHeaderBytes + f.payload.size() == before);
    if (f.kind == almanac::api::kFrameHeartbeat) {
      std::string again;
      almanac::api::AppendHeartbeat(almanac::api::EventFormat::kFlatBuffers, f.scanned, {},
                                    f.last_seq, &again);
      auto back = almanac::api::TakeEventFrame(&again);
      FUZZ_ASSERT(back.ok() && back->has_value() && (*back)->scanned == f.scanned &&
                  (*back)->last_seq == f.last_seq && again.empty());
      continue;
    }
    FUZZ_ASSERT(!f.payload.empty() && f.payload.size() <= almanac::journal::kRecordBytesMax);
    const std::string bytes = f.payload;  // own copy: 8-byte aligned for the verifier
    auto record = almanac::journal::VerifyRecord(bytes);
    if (!record.ok()) continue;
    almanac::api::EventQuery query;
    query.nwid = (*record)->seq();
    (void)almanac::api::EventMatches(query, **record);
    const std::string line = almanac::api::DumpJson(almanac::events::RecordJson(**record));
    FUZZ_ASSERT(!line.empty() && line.find('\n') == std::string::npos);
  }
}

void FuzzQuery(const std::string& input) {
  std::multimap<std::string, std::string> params;
  for (absl::string_view pair : absl::StrSplit(input, '&')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    params.emplace(std::move(kv.first), std::move(kv.second));
  }
  auto query = almanac::api::ParseEventQuery(params);
  if (!query.ok()) return;
  FUZZ_ASSERT(query->limit >= 1 && query->limit <= almanac::api::kEventResponseRecordsMax);
  FUZZ_ASSERT(query->wait <= absl::Seconds(almanac::api::kEventWaitSecondsMax));
  FUZZ_ASSERT(query->heartbeat >= absl::Seconds(1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    FuzzFrames(input);
  } else {
    FuzzQuery(input);
  }
  return 0;
}
