// One journal record as consumers see it: the JSON object of GET /events (one per line)
// and the small text pieces almanac-replay's log lines are made of. Shared by the admin
// API (ctl/api) and almanac-replay (replay/render.h), so a record has one rendering.
//
// A record's JSON (keys in this order are not promised; nlohmann sorts them):
//   {"seq": 812, "time": "2026-11-27 21:14:03", "timeMs": 1795818843000, "epoch": 1,
//    "actor": {"kind": "token", "id": "admin", "source": "127.0.0.1:53412"},
//    "type": "MemberAuthorized", "network": "8056c2e21c000001", "member": "8056c2e21c",
//    "body": {"credentialType": "api"}}
// "network" is present for network and member records, "member" for member records.
// The body is rendered from the record alone (no state): configs as the admin API renders
// them (api::RenderNetworkConfig / RenderMemberConfig), changes as [{field, old, new}]
// with old/new parsed back from the JSON texts the record carries. Per type:
//   ControllerInitialized {identity}      EpochStarted {epoch}
//   Seal {sealedSeq, sealedHash, signature} (hex)
//   NetworkCreated {config}  NetworkChanged {changes}  NetworkDeleted {}
//   MemberJoined {identity, metadata{protocolVersion, versionMajor, versionMinor,
//                 versionRevision, osArch, physicalAddress}}
//   MemberCreated {config}  MemberAuthorized {credentialType}  MemberDeauthorized {}
//   MemberChanged {changes}  MemberDeleted {}  IpAssigned {ip}  IpReleased {ip}
//
// Thread safety: pure functions. Records must have passed the journal's verifier
// (journal/record.h VerifyRecord; Journal::Read does it), so every table read is in bounds.
#ifndef ALMANAC_CTL_EVENTS_EVENT_JSON_H_
#define ALMANAC_CTL_EVENTS_EVENT_JSON_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "schemas/events_generated.h"

namespace almanac::events {

// What a record is about. kind: "controller" (initialization, epochs, seals), "network"
// or "member".
struct EventObject {
  std::string kind = "controller";
  uint64_t nwid = 0;
  uint64_t address = 0;
};
EventObject ObjectOf(const schema::Record& record);

// "2026-11-27 21:14:03" (UTC).
std::string TimeText(int64_t time_ms);
// "system", "token", "cli", "node", "import" ("unknown" for a value this build lacks).
const char* ActorKindText(schema::ActorKind kind);
// "token:admin@127.0.0.1"; the source's port is left out. "unknown" for null.
std::string ActorText(const schema::Actor* actor);
// The body type's schema name: "MemberAuthorized" ("NONE" for a record without body).
std::string TypeName(schema::Body type);
// The body type named `name` exactly as TypeName spells it; nullopt for anything else
// (including "NONE").
std::optional<schema::Body> TypeFromName(absl::string_view name);

// {"field": f, "old": v, "new": v}: the JSON texts parsed back (a text that does not
// parse, which a verified record should never hold, stays a string).
nlohmann::json FieldChangeJson(const std::string& field, const std::string& old_json,
                               const std::string& new_json);

// The body alone, and the whole record (see the top of this file).
nlohmann::json BodyJson(const schema::Record& record);
nlohmann::json RecordJson(const schema::Record& record);

}  // namespace almanac::events

#endif  // ALMANAC_CTL_EVENTS_EVENT_JSON_H_
