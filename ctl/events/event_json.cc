#include "ctl/events/event_json.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ctl/api/member_json.h"
#include "ctl/api/network_json.h"
#include "ctl/state/convert.h"
#include "ctl/state/state.h"

namespace almanac::events {
namespace {

std::string Str(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }

std::string Hex(const flatbuffers::Vector<uint8_t>* bytes) {
  if (bytes == nullptr) return "";
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
}

// "127.0.0.1:53412" -> "127.0.0.1"; "[::1]:80" -> "::1"; anything else unchanged.
std::string SourceHost(const std::string& source) {
  const size_t colon = source.rfind(':');
  if (colon == std::string::npos) return source;
  const std::string port = source.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) return source;
  std::string host = source.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  // A bare IPv6 address ends in ":hex" too; only strip when the host is IPv4 or a name.
  return host.find(':') == std::string::npos ? host : source;
}

nlohmann::json ChangesJson(
    const flatbuffers::Vector<flatbuffers::Offset<schema::FieldChange>>* changes) {
  nlohmann::json list = nlohmann::json::array();
  if (changes == nullptr) return list;
  for (const schema::FieldChange* c : *changes) {
    list.push_back(FieldChangeJson(Str(c->field()), Str(c->old_json()), Str(c->new_json())));
  }
  return list;
}

}  // namespace

EventObject ObjectOf(const schema::Record& record) {
  EventObject o;
  auto network = [&o](uint64_t nwid) {
    o.kind = "network";
    o.nwid = nwid;
  };
  auto member = [&o](uint64_t nwid, uint64_t address) {
    o.kind = "member";
    o.nwid = nwid;
    o.address = address;
  };
  using schema::Body;
  switch (record.body_type()) {
    case Body::NetworkCreated: network(record.body_as_NetworkCreated()->nwid()); break;
    case Body::NetworkChanged: network(record.body_as_NetworkChanged()->nwid()); break;
    case Body::NetworkDeleted: network(record.body_as_NetworkDeleted()->nwid()); break;
#define ALMANAC_MEMBER_BODY(T)            \
  case Body::T: {                         \
    const auto* b = record.body_as_##T(); \
    member(b->nwid(), b->address());      \
    break;                                \
  }
    ALMANAC_MEMBER_BODY(MemberJoined)
    ALMANAC_MEMBER_BODY(MemberCreated)
    ALMANAC_MEMBER_BODY(MemberAuthorized)
    ALMANAC_MEMBER_BODY(MemberDeauthorized)
    ALMANAC_MEMBER_BODY(MemberChanged)
    ALMANAC_MEMBER_BODY(MemberDeleted)
    ALMANAC_MEMBER_BODY(IpAssigned)
    ALMANAC_MEMBER_BODY(IpReleased)
#undef ALMANAC_MEMBER_BODY
    default: break;
  }
  return o;
}

std::string TimeText(int64_t time_ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(time_ms),
                          absl::UTCTimeZone());
}

const char* ActorKindText(schema::ActorKind kind) {
  switch (kind) {
    case schema::ActorKind::System: return "system";
    case schema::ActorKind::AdminToken: return "token";
    case schema::ActorKind::Cli: return "cli";
    case schema::ActorKind::Node: return "node";
    case schema::ActorKind::Import: return "import";
  }
  return "unknown";
}

std::string ActorText(const schema::Actor* actor) {
  if (actor == nullptr) return "unknown";
  std::string out = ActorKindText(actor->kind());
  if (actor->id() != nullptr && actor->id()->size() > 0) {
    absl::StrAppend(&out, ":", actor->id()->str());
  }
  if (actor->source() != nullptr && actor->source()->size() > 0) {
    absl::StrAppend(&out, "@", SourceHost(actor->source()->str()));
  }
  return out;
}

std::string TypeName(schema::Body type) { return schema::EnumNameBody(type); }

std::optional<schema::Body> TypeFromName(absl::string_view name) {
  const auto& values = schema::EnumValuesBody();
  for (schema::Body type : values) {
    if (type != schema::Body::NONE && name == schema::EnumNameBody(type)) return type;
  }
  return std::nullopt;
}

nlohmann::json FieldChangeJson(const std::string& field, const std::string& old_json,
                               const std::string& new_json) {
  auto parsed = [](const std::string& text) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    return j.is_discarded() ? nlohmann::json(text) : j;
  };
  return {{"field", field}, {"old", parsed(old_json)}, {"new", parsed(new_json)}};
}

nlohmann::json BodyJson(const schema::Record& r) {
  nlohmann::json b = nlohmann::json::object();
  using schema::Body;
  switch (r.body_type()) {
    case Body::ControllerInitialized:
      b["identity"] = Str(r.body_as_ControllerInitialized()->identity());
      break;
    case Body::EpochStarted:
      b["epoch"] = r.body_as_EpochStarted()->epoch();
      break;
    case Body::Seal: {
      const auto* s = r.body_as_Seal();
      b["sealedSeq"] = s->sealed_seq();
      b["sealedHash"] = Hex(s->sealed_hash());
      b["signature"] = Hex(s->signature());
      break;
    }
    case Body::NetworkCreated:
      b["config"] = api::RenderNetworkConfig(
          state::NetworkConfigFromFlat(r.body_as_NetworkCreated()->config()));
      break;
    case Body::NetworkChanged:
      b["changes"] = ChangesJson(r.body_as_NetworkChanged()->changes());
      break;
    case Body::MemberJoined: {
      const auto* j = r.body_as_MemberJoined();
      b["identity"] = Str(j->identity());
      nlohmann::json m = nlohmann::json::object();
      if (const schema::RequestMetadata* md = j->metadata(); md != nullptr) {
        m["protocolVersion"] = md->protocol_version();
        m["versionMajor"] = md->version_major();
        m["versionMinor"] = md->version_minor();
        m["versionRevision"] = md->version_revision();
        m["osArch"] = Str(md->os_arch());
        m["physicalAddress"] = Str(md->physical_address());
      }
      b["metadata"] = std::move(m);
      break;
    }
    case Body::MemberCreated:
      b["config"] = api::RenderMemberConfig(
          state::MemberConfigFromFlat(r.body_as_MemberCreated()->config()));
      break;
    case Body::MemberAuthorized:
      b["credentialType"] = Str(r.body_as_MemberAuthorized()->credential_type());
      break;
    case Body::MemberChanged:
      b["changes"] = ChangesJson(r.body_as_MemberChanged()->changes());
      break;
    case Body::IpAssigned:
      b["ip"] = Str(r.body_as_IpAssigned()->ip());
      break;
    case Body::IpReleased:
      b["ip"] = Str(r.body_as_IpReleased()->ip());
      break;
    default:
      break;  // deletes and deauthorizations carry only the ids, already in the record
  }
  return b;
}

nlohmann::json RecordJson(const schema::Record& r) {
  nlohmann::json j;
  j["seq"] = r.seq();
  j["time"] = TimeText(r.time_ms());
  j["timeMs"] = r.time_ms();
  j["epoch"] = r.epoch();
  const schema::Actor* a = r.actor();
  j["actor"] = {{"kind", a != nullptr ? ActorKindText(a->kind()) : "unknown"},
                {"id", a != nullptr ? Str(a->id()) : ""},
                {"source", a != nullptr ? Str(a->source()) : ""}};
  j["type"] = TypeName(r.body_type());
  const EventObject o = ObjectOf(r);
  if (o.kind != "controller") j["network"] = state::NetworkIdHex(o.nwid);
  if (o.kind == "member") j["member"] = state::AddressHex(o.address);
  j["body"] = BodyJson(r);
  return j;
}

}  // namespace almanac::events
