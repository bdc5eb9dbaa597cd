// Text and JSON forms of almanac-replay's answers (log lines, states, diffs).
//
// Log line: "<UTC time> #<seq> <actor> <what happened>", e.g.
//   2026-11-27 21:14:03 #812 token:admin@127.0.0.1 member 8056c2e21c of 8056c2e21c000001:
//   authorized false -> true
// (one line). The actor is "<kind>:<id>@<source host>" with kind one of system, token,
// cli, node, import; the source's port is left out. Field changes are the rendered API
// fields that differ, except bookkeeping fields that change with every event (revision,
// creation and authorization times, credential type): `history` and `diff` show those.
//
// Thread safety: pure functions.
#ifndef ALMANAC_REPLAY_RENDER_H_
#define ALMANAC_REPLAY_RENDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ctl/state/state.h"
#include "nlohmann/json.hpp"
#include "replay/timeline.h"

namespace almanac::replay {

// "2026-11-27 21:14:03" (UTC).
std::string TimeText(int64_t time_ms);
// "token:admin@127.0.0.1"; "system" for an empty system actor.
std::string ActorText(const schema::Actor* actor);
// "MemberAuthorized".
std::string EventName(const schema::Record& record);

// The one-line log form and the JSON object form of an event (`log --json` prints one
// object per line): {seq, time, timeMs, actor{kind,id,source}, event, network, member,
// changes[{field, old, new}]}. full: include the bookkeeping fields too.
std::string LogLine(const AuditEvent& event, bool full);
nlohmann::json EventJson(const AuditEvent& event, bool full);

// Every network and member as the admin API renders them:
// {"seq": N, "time": "...", "networks": {"<nwid>": {...}},
//  "members": {"<nwid>": {"<address>": {...}}}}. Members carry no telemetry
// (lastSeen 0, physicalAddress null: telemetry is not in the journal).
nlohmann::json StateJson(const state::State& state, int64_t time_ms);

// What changed from `from` to `to`: one entry per network or member created, deleted or
// changed (all rendered fields), networks first, then members, each in id order.
struct ObjectDiff {
  Subject subject;
  std::string change;  // "created", "deleted", "changed"
  std::vector<commands::FieldChange> fields;
};
std::vector<ObjectDiff> DiffStates(const state::State& from, const state::State& to);
std::string DiffLine(const ObjectDiff& diff);
nlohmann::json DiffJson(const ObjectDiff& diff);

// "network 8056c2e21c000001" or "member 8056c2e21c of 8056c2e21c000001".
std::string SubjectText(const Subject& subject);

}  // namespace almanac::replay

#endif  // ALMANAC_REPLAY_RENDER_H_
