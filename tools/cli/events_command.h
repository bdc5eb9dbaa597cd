// almanac events: the reference consumer of the controller's event stream (GET /events,
// ctl/api/event_stream.h).
//
//   almanac events tail [--after N] [--follow] [--type T[,T...]] [--network NWID]
//                       [--checkpoint FILE [--output OUT]] [--json] [connection flags]
//
// Prints records after a sequence number, one line each, and with --follow keeps
// printing new ones as they are appended (reconnecting after a dropped connection, from
// where it stopped). With --checkpoint it resumes after a restart where it stopped; what
// "where it stopped" guarantees (exactly once with --output, at least once on stdout) is
// spelled out in the --help text (kEventsTailUsage in events_command.cc).
//
// Returns the CLI exit code of tools/cli/api_client.h. Normal output goes to `out` unless
// --output names a file; errors to `err`.
//
// Thread safety: each call is independent; the streams must not be shared with another
// thread during the call.
#ifndef ALMANAC_TOOLS_CLI_EVENTS_COMMAND_H_
#define ALMANAC_TOOLS_CLI_EVENTS_COMMAND_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace almanac::cli {

int RunEventsCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);

// The consumer's checkpoint file: {"seq": S, "outputBytes": B, "chainHash": H} on one
// line. seq: every record <= S has been printed or filtered out. outputBytes: the --output
// file's length right after the lines up to S were synced (0 without --output).
// chainHash: record S's chain hash as the controller sent it (64 hex digits; "" when not
// known, e.g. S = 0); sent as after_hash so a controller with another history refuses.
struct EventsCheckpoint {
  uint64_t seq = 0;
  uint64_t output_bytes = 0;
  std::string chain_hash;
};

// nullopt when the file does not exist. InvalidArgument for a file that is larger than
// kCheckpointBytesMax or not a checkpoint (chainHash may be missing: ""); Internal for
// other read errors.
absl::StatusOr<std::optional<EventsCheckpoint>> ReadEventsCheckpoint(const std::string& path);

// Replaces the file atomically: writes path + ".tmp", fsyncs it, renames it over path and
// fsyncs the directory, so after a crash the file holds the old or the new checkpoint,
// never a mix. Internal naming the step on failure.
absl::Status WriteEventsCheckpoint(const std::string& path, const EventsCheckpoint& checkpoint);

// The seq a printed line carries: a JSON line's "seq", or the number after the first
// " #" of a text line. nullopt for anything else.
std::optional<uint64_t> SeqOfPrintedLine(const std::string& line);

}  // namespace almanac::cli

#endif  // ALMANAC_TOOLS_CLI_EVENTS_COMMAND_H_
