#include "replay/timeline.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ctl/api/member_json.h"
#include "ctl/api/network_json.h"
#include "ctl/events/event_json.h"
#include "ctl/state/projector.h"

namespace almanac::replay {
namespace {

// Stops a ScanChain walk at the requested point; never leaves this file.
absl::Status PointReached() { return absl::CancelledError("almanac-replay: point reached"); }

bool IsPointReached(const absl::Status& s) {
  return absl::IsCancelled(s) && s.message() == "almanac-replay: point reached";
}

}  // namespace

absl::StatusOr<Point> ParsePoint(std::string_view text) {
  const std::string t(absl::StripAsciiWhitespace(std::string(text)));
  Point point;
  if (t == "now" || t == "end") {
    point.seq = journal::kSeqMax;
    return point;
  }
  if (!t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (!absl::SimpleAtoi(t, &point.seq)) return absl::InvalidArgumentError("seq out of range");
    return point;
  }
  static const char* const kFormats[] = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ",
                                         "%Y-%m-%dT%H:%M:%S%Ez", "%Y-%m-%d %H:%M",
                                         "%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%d"};
  for (const char* format : kFormats) {
    absl::Time time;
    std::string error;
    if (absl::ParseTime(format, t, absl::UTCTimeZone(), &time, &error)) {
      point.is_time = true;
      point.time_ms = absl::ToUnixMillis(time);
      return point;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", t, "' is neither a sequence number nor a time like \"2026-11-27 21:14:03\""));
}

Subject SubjectOf(const schema::Record& record) {
  const events::EventObject o = events::ObjectOf(record);  // shared with GET /events
  return Subject{o.kind, o.nwid, o.address};
}

nlohmann::json RenderSubject(const state::State& state, const Subject& subject) {
  if (subject.kind == "network") {
    const state::Network* n = state.FindNetwork(subject.nwid);
    return n == nullptr ? nlohmann::json() : api::RenderNetwork(*n);
  }
  if (subject.kind == "member") {
    const state::Member* m = state.FindMember(subject.nwid, subject.address);
    return m == nullptr ? nlohmann::json() : api::RenderMember(*m);
  }
  return nlohmann::json();
}

std::vector<commands::FieldChange> DiffRendered(const nlohmann::json& before,
                                                const nlohmann::json& after) {
  std::set<std::string> keys;
  if (before.is_object()) for (const auto& [k, v] : before.items()) keys.insert(k);
  if (after.is_object()) for (const auto& [k, v] : after.items()) keys.insert(k);
  std::vector<commands::FieldChange> out;
  for (const std::string& k : keys) {
    const std::string old_json =
        before.is_object() && before.contains(k) ? before[k].dump() : "null";
    const std::string new_json = after.is_object() && after.contains(k) ? after[k].dump() : "null";
    if (old_json != new_json) out.push_back({k, old_json, new_json});
  }
  return out;
}

absl::Status Replayer::Advance(const Point& point, const Watch& watch,
                               const std::function<absl::Status(const AuditEvent&)>& on_event) {
  const journal::ChainTip start{state_.last_seq(), state_.chain_hash()};
  const uint64_t seq_last = point.is_time ? view_->last_seq() : point.seq;
  absl::StatusOr<journal::ChainTip> tip = view_->Scan(
      start, seq_last, [&](const journal::VerifiedRecord& r) -> absl::Status {
        const schema::Record& record = *r.record;
        if (point.is_time && record.time_ms() > point.time_ms) return PointReached();
        const bool wanted = !watch.want || watch.want(record);
        AuditEvent event;
        if (wanted) {
          event.seq = r.seq;
          event.time_ms = record.time_ms();
          event.record = &record;
          event.subject = SubjectOf(record);
          event.rendered = watch.focus.has_value() ? *watch.focus : event.subject;
          event.before = RenderSubject(state_, event.rendered);
        }
        if (absl::Status s = state::Apply(state_, record, r.chain_hash); !s.ok()) {
          return absl::DataLossError(
              absl::StrCat("record ", r.seq, ": the projector refuses it: ", s.message()));
        }
        last_time_ms_ = record.time_ms();
        if (!wanted) return absl::OkStatus();
        event.after = RenderSubject(state_, event.rendered);
        event.changes = DiffRendered(event.before, event.after);
        return on_event(event);
      });
  if (!tip.ok() && !IsPointReached(tip.status())) return tip.status();
  return absl::OkStatus();
}

}  // namespace almanac::replay
