#include "ctl/netconf/netconf_metrics.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "base/check.h"

namespace almanac::netconf {
namespace {

struct Series {
  const char* field;  // the metric is almanac_netconf_<field>_total
  const char* help;
  uint64_t ResponderCounters::*value;
};

// Every field of ResponderCounters, in its order; a new field needs a line here.
constexpr Series kSeries[] = {
    {"datagrams", "UDP datagrams received by the netconf responder",
     &ResponderCounters::datagrams},
    {"runts", "datagrams shorter than a fragment or packet", &ResponderCounters::runts},
    {"fragments_dropped", "fragments dropped by reassembly (other than runts)",
     &ResponderCounters::fragments_dropped},
    {"malformed", "packets that did not parse (bad LZ4, wrong identity in HELLO, ...)",
     &ResponderCounters::malformed},
    {"bad_mac", "packets whose MAC did not verify", &ResponderCounters::bad_mac},
    {"replayed", "packets dropped as replays", &ResponderCounters::replayed},
    {"not_for_us", "packets addressed to another node", &ResponderCounters::not_for_us},
    {"unsupported_cipher", "packets with cipher suite 2 or 3",
     &ResponderCounters::unsupported_cipher},
    {"identity_invalid", "identities that failed the address derivation check",
     &ResponderCounters::identity_invalid},
    {"validate_queued", "new identities handed to the identity checker",
     &ResponderCounters::validate_queued},
    {"validate_throttled", "identity checks refused (queue full or source at its bound)",
     &ResponderCounters::validate_throttled},
    {"whois_queued", "WHOIS lookups sent to the roots", &ResponderCounters::whois_queued},
    {"whois_dropped", "WHOIS lookups dropped (queue full or no answer in time)",
     &ResponderCounters::whois_dropped},
    {"rate_limited", "requests refused by the per-member rate limit",
     &ResponderCounters::rate_limited},
    {"requests", "network config requests received", &ResponderCounters::requests},
    {"answered_direct", "config requests answered without the sequencer",
     &ResponderCounters::answered_direct},
    {"joins_queued", "joins handed to a join worker", &ResponderCounters::joins_queued},
    {"joins_dropped", "joins dropped (too many in flight, or peer gone)",
     &ResponderCounters::joins_dropped},
    {"echo_acks", "OK(ECHO) acknowledgements of pushes", &ResponderCounters::echo_acks},
    {"answered_config", "config requests answered with a config",
     &ResponderCounters::answered_config},
    {"answered_denied", "config requests answered with access denied",
     &ResponderCounters::answered_denied},
    {"answered_not_found", "config requests answered with network not found",
     &ResponderCounters::answered_not_found},
    {"pushes", "configs pushed to members after a change", &ResponderCounters::pushes},
    {"internal_errors", "configs that could not be built or commands refused",
     &ResponderCounters::internal_errors},
};

}  // namespace

void RegisterNetconfMetrics(api::MetricsRegistry* registry,
                            std::function<ResponderCounters()> counters) {
  ALMANAC_CHECK(registry != nullptr && counters != nullptr);
  auto shared = std::make_shared<std::function<ResponderCounters()>>(std::move(counters));
  for (const Series& s : kSeries) {
    const uint64_t ResponderCounters::*value = s.value;
    registry->SetCounterFunction(std::string("almanac_netconf_") + s.field + "_total", s.help,
                                 [shared, value] {
                                   return static_cast<double>((*shared)().*value);
                                 });
  }
}

}  // namespace almanac::netconf
