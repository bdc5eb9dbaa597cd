// Walking the journal through the daemon's projector, one record at a time, and telling
// what each record did to the object it is about, as the admin API renders that object.
//
// A Replayer holds a State (ctl/state/state.h) and advances it over verified records of
// a JournalView (replay/source.h) with state::Apply, the projector almanacd runs. For
// each record the caller wants, it renders the object before and after (a network with
// api::RenderNetwork, a member with api::RenderMember and no telemetry) and lists the
// fields whose JSON differs. This is what log, history, diff and state --at are built on.
//
// Thread safety: a Replayer is used by one thread at a time.
#ifndef ALMANAC_REPLAY_TIMELINE_H_
#define ALMANAC_REPLAY_TIMELINE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/commands/field_change.h"
#include "ctl/state/state.h"
#include "nlohmann/json.hpp"
#include "replay/source.h"
#include "schemas/events_generated.h"

namespace almanac::replay {

// A point in history: after record `seq`, or after the last record at or before `time_ms`.
struct Point {
  bool is_time = false;
  uint64_t seq = 0;
  int64_t time_ms = 0;
};

// "812" is a seq; "2026-11-27 21:14:03", "2026-11-27T21:14:03Z" or RFC 3339 with an
// offset are times (UTC unless an offset is given; seconds may be omitted); "now" and
// "end" mean the end of the journal. InvalidArgument otherwise.
absl::StatusOr<Point> ParsePoint(std::string_view text);

// The object a record is about. kind: "controller", "network" or "member".
struct Subject {
  std::string kind = "controller";
  uint64_t nwid = 0;
  uint64_t address = 0;
};
Subject SubjectOf(const schema::Record& record);

// One applied record, described.
struct AuditEvent {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  const schema::Record* record = nullptr;  // valid only during the callback
  Subject subject;                          // what the record is about
  Subject rendered;                         // what before/after show (subject or focus)
  nlohmann::json before;                    // null when absent
  nlohmann::json after;
  std::vector<commands::FieldChange> changes;  // every rendered field that differs
};

// Which records get described, and the object rendered for them.
struct Watch {
  // Called before applying each record; false: apply it silently.
  std::function<bool(const schema::Record&)> want;
  // When set, every wanted record renders this object (address 0: the network) instead
  // of the record's own subject (history follows one object through network deletes).
  std::optional<Subject> focus;
};

class Replayer {
 public:
  explicit Replayer(const JournalView* view) : view_(view) {}

  // Applies records after state().last_seq() up to `point` (the journal's end at most),
  // calling on_event for each record `watch` wants. Returns OK when the point or the end
  // was reached; DataLoss for a bad record or one the projector refuses (naming the seq);
  // on_event's own error. REQUIRES: view outlives the Replayer.
  absl::Status Advance(const Point& point, const Watch& watch,
                       const std::function<absl::Status(const AuditEvent&)>& on_event);

  const state::State& state() const { return state_; }
  // Time of the last applied record (0 before any).
  int64_t last_time_ms() const { return last_time_ms_; }
  void set_view(const JournalView* view) { view_ = view; }

 private:
  const JournalView* view_;
  state::State state_;
  int64_t last_time_ms_ = 0;
};

// The object rendered as the admin API would (null when absent).
nlohmann::json RenderSubject(const state::State& state, const Subject& subject);

// Field-by-field differences of two rendered objects (keys in order; null for absent).
std::vector<commands::FieldChange> DiffRendered(const nlohmann::json& before,
                                                const nlohmann::json& after);

}  // namespace almanac::replay

#endif  // ALMANAC_REPLAY_TIMELINE_H_
