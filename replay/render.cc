#include "replay/render.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "ctl/api/member_json.h"
#include "ctl/api/network_json.h"
#include "ctl/events/event_json.h"
#include "journal/record_format.h"

namespace almanac::replay {
namespace {

// Fields that change with every event or follow from another change: left out of log
// lines (they would drown the one change an admin made), shown by history and diff.
bool IsBookkeeping(const std::string& field) {
  static const std::set<std::string> kFields = {
      "revision", "creationTime", "lastAuthorizedTime", "lastDeauthorizedTime",
      "lastAuthorizedCredentialType"};
  return kFields.count(field) > 0;
}

nlohmann::json ChangesJson(const std::vector<commands::FieldChange>& changes, bool full) {
  nlohmann::json list = nlohmann::json::array();
  for (const commands::FieldChange& c : changes) {
    if (!full && IsBookkeeping(c.field)) continue;
    list.push_back(events::FieldChangeJson(c.field, c.old_json, c.new_json));
  }
  return list;
}

std::string ChangesText(const std::vector<commands::FieldChange>& changes, bool full) {
  std::vector<std::string> parts;
  for (const commands::FieldChange& c : changes) {
    if (!full && IsBookkeeping(c.field)) continue;
    parts.push_back(absl::StrCat(c.field, " ", c.old_json, " -> ", c.new_json));
  }
  return parts.empty() ? "no visible change" : absl::StrJoin(parts, ", ");
}

}  // namespace

// The record-level pieces are shared with GET /events (ctl/events/event_json.h).
std::string TimeText(int64_t time_ms) { return events::TimeText(time_ms); }

std::string ActorText(const schema::Actor* actor) { return events::ActorText(actor); }

std::string EventName(const schema::Record& record) {
  return events::TypeName(record.body_type());
}

std::string SubjectText(const Subject& s) {
  if (s.kind == "network") return "network " + state::NetworkIdHex(s.nwid);
  if (s.kind == "member") {
    return absl::StrCat("member ", state::AddressHex(s.address), " of ",
                        state::NetworkIdHex(s.nwid));
  }
  return "controller";
}

std::string LogLine(const AuditEvent& e, bool full) {
  const schema::Record& r = *e.record;
  std::string what;
  switch (r.body_type()) {
    case schema::Body::ControllerInitialized: {
      const auto* b = r.body_as_ControllerInitialized();
      what = absl::StrCat("controller ",
                          b->identity() ? b->identity()->str().substr(0, 10) : "?",
                          " initialized");
      break;
    }
    case schema::Body::EpochStarted:
      what = absl::StrCat("epoch ", r.body_as_EpochStarted()->epoch(), " started");
      break;
    case schema::Body::Seal: {
      const auto* b = r.body_as_Seal();
      journal::ChainHash h{};
      if (b->sealed_hash() && b->sealed_hash()->size() == h.size()) {
        std::copy(b->sealed_hash()->begin(), b->sealed_hash()->end(), h.begin());
      }
      what = absl::StrCat("seal of record ", b->sealed_seq(), " (chain hash ",
                          journal::HashHex(h).substr(0, 16), ")");
      break;
    }
    default:
      what = SubjectText(e.rendered) + ": ";
      if (e.before.is_null() && !e.after.is_null()) {
        what += r.body_type() == schema::Body::MemberJoined ? "joined" : "created";
      } else if (!e.before.is_null() && e.after.is_null()) {
        what += "deleted";
      } else {
        what += ChangesText(e.changes, full);
      }
  }
  return absl::StrCat(TimeText(e.time_ms), " #", e.seq, " ", ActorText(r.actor()), " ", what);
}

nlohmann::json EventJson(const AuditEvent& e, bool full) {
  const schema::Record& r = *e.record;
  nlohmann::json j;
  j["seq"] = e.seq;
  j["time"] = TimeText(e.time_ms);
  j["timeMs"] = e.time_ms;
  const schema::Actor* a = r.actor();
  j["actor"] = {{"kind", a ? events::ActorKindText(a->kind()) : "unknown"},
                {"id", a && a->id() ? a->id()->str() : ""},
                {"source", a && a->source() ? a->source()->str() : ""}};
  j["event"] = EventName(r);
  j["object"] = e.rendered.kind;
  if (e.rendered.kind != "controller") j["network"] = state::NetworkIdHex(e.rendered.nwid);
  if (e.rendered.kind == "member") j["member"] = state::AddressHex(e.rendered.address);
  j["line"] = LogLine(e, full);
  j["changes"] = ChangesJson(e.changes, full);
  return j;
}

nlohmann::json StateJson(const state::State& state, int64_t time_ms) {
  nlohmann::json j;
  j["seq"] = state.last_seq();
  j["time"] = time_ms > 0 ? TimeText(time_ms) : "";
  j["chainHash"] = journal::HashHex(state.chain_hash());
  nlohmann::json networks = nlohmann::json::object();
  nlohmann::json members = nlohmann::json::object();
  for (uint64_t nwid : state.NetworkIdsSorted()) {
    const std::string id = state::NetworkIdHex(nwid);
    networks[id] = api::RenderNetwork(*state.FindNetwork(nwid));
    nlohmann::json of_network = nlohmann::json::object();
    for (const state::Member* m : state.MembersSorted(nwid)) {
      of_network[state::AddressHex(m->address)] = api::RenderMember(*m);
    }
    members[id] = std::move(of_network);
  }
  j["networks"] = std::move(networks);
  j["members"] = std::move(members);
  return j;
}

std::vector<ObjectDiff> DiffStates(const state::State& from, const state::State& to) {
  std::set<uint64_t> nwids;
  for (const auto& [nwid, n] : from.networks()) nwids.insert(nwid);
  for (const auto& [nwid, n] : to.networks()) nwids.insert(nwid);
  std::vector<ObjectDiff> out;
  auto add = [&](const Subject& s) {
    const nlohmann::json a = RenderSubject(from, s);
    const nlohmann::json b = RenderSubject(to, s);
    if (a == b) return;
    ObjectDiff d{s, a.is_null() ? "created" : b.is_null() ? "deleted" : "changed",
                 DiffRendered(a, b)};
    out.push_back(std::move(d));
  };
  for (uint64_t nwid : nwids) add(Subject{"network", nwid, 0});
  for (uint64_t nwid : nwids) {
    std::set<uint64_t> addresses;
    for (const state::Member* m : from.MembersSorted(nwid)) addresses.insert(m->address);
    for (const state::Member* m : to.MembersSorted(nwid)) addresses.insert(m->address);
    for (uint64_t address : addresses) add(Subject{"member", nwid, address});
  }
  return out;
}

std::string DiffLine(const ObjectDiff& d) {
  if (d.change != "changed") return absl::StrCat(SubjectText(d.subject), ": ", d.change);
  return absl::StrCat(SubjectText(d.subject), ": ", ChangesText(d.fields, /*full=*/true));
}

nlohmann::json DiffJson(const ObjectDiff& d) {
  nlohmann::json j;
  j["object"] = d.subject.kind;
  j["network"] = state::NetworkIdHex(d.subject.nwid);
  if (d.subject.kind == "member") j["member"] = state::AddressHex(d.subject.address);
  j["change"] = d.change;
  j["fields"] = ChangesJson(d.fields, /*full=*/true);
  return j;
}

}  // namespace almanac::replay
