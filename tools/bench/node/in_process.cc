#include "tools/bench/node/in_process.h"

#include <utility>

#include "ctl/state/convert.h"
#include "schemas/events_generated.h"

namespace almanac::bench {
namespace {

using Build = std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>;

absl::Status SubmitEvents(ctl::Sequencer* sequencer, uint64_t nwid,
                          std::vector<std::pair<schema::Body, Build>> events) {
  ctl::Command command;
  command.writes = {ctl::ObjectKey::Controller(), ctl::ObjectKey::Network(nwid),
                    ctl::ObjectKey::NetworkIps(nwid)};
  command.actor.kind = schema::ActorKind::AdminToken;
  command.actor.id = "almanac-bench";
  command.decide = [events = std::move(events)](const state::State&,
                                                ctl::CommandContext& context) {
    for (const auto& [type, build] : events) context.Emit(type, build);
    return absl::OkStatus();
  };
  return sequencer->Submit(std::move(command)).status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<InProcessController>> InProcessController::Start(
    const std::string& home, std::function<absl::Time()> clock) {
  std::unique_ptr<InProcessController> c(new InProcessController());
  ctl::ControllerOptions options;
  options.home = home;
  options.snapshot_interval_records = 0;  // a benchmark home is thrown away
  auto controller = ctl::Controller::Open(options);
  if (!controller.ok()) return controller.status();
  c->controller_ = *std::move(controller);
  netconf::NetconfOptions netconf;
  netconf.listen = "127.0.0.1:0";
  netconf.clock = std::move(clock);
  auto server = netconf::StartNetconf(netconf, c->controller_->sequencer(),
                                      c->controller_->identity());
  if (!server.ok()) return server.status();
  c->server_ = *std::move(server);
  return c;
}

zt::InetAddress InProcessController::address() const {
  return zt::InetAddress::Ipv4(127, 0, 0, 1, server_->port());
}

uint64_t InProcessController::NetworkId(uint32_t number) const {
  return (identity().address() << 24) | (number & 0xffffff);
}

absl::Status InProcessController::CreateNetwork(uint64_t nwid,
                                                const state::NetworkConfig& config) {
  return SubmitEvents(sequencer(), nwid,
                      {{schema::Body::NetworkCreated, [nwid, config](auto& b) {
                          return schema::CreateNetworkCreated(
                                     b, nwid, state::BuildNetworkConfig(b, config))
                              .Union();
                        }}});
}

absl::Status InProcessController::AddMembers(uint64_t nwid,
                                             const std::vector<NewMember>& members) {
  std::vector<std::pair<schema::Body, Build>> events;
  for (size_t i = 0; i < members.size(); ++i) {
    const NewMember& m = members[i];
    state::MemberConfig config;
    config.authorized = m.authorized;
    if (!m.ip.empty()) config.ip_assignments = {m.ip};
    events.emplace_back(schema::Body::MemberCreated, [nwid, m, config](auto& b) {
      return schema::CreateMemberCreated(b, nwid, m.address, state::BuildMemberConfig(b, config))
          .Union();
    });
    if (m.identity != nullptr) {
      std::string text = m.identity->ToString(/*include_secret=*/false);
      events.emplace_back(schema::Body::MemberJoined, [nwid, m, text](auto& b) {
        return schema::CreateMemberJoinedDirect(b, nwid, m.address, text.c_str()).Union();
      });
    }
    if (events.size() + 2 > kInProcessEventsPerCommandMax || i + 1 == members.size()) {
      if (absl::Status s = SubmitEvents(sequencer(), nwid, std::move(events)); !s.ok()) {
        return s;
      }
      events.clear();
    }
  }
  return absl::OkStatus();
}

}  // namespace almanac::bench
