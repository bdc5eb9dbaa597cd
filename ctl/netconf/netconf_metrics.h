// The netconf responder's counters (ResponderCounters) on the admin API's /metrics.
//
// Each field becomes a Prometheus counter named almanac_netconf_<field>_total, read from
// `counters` at every render, so the responder keeps counting on its own hot path and
// /metrics costs it one locked copy per series rendered.
//
// Thread safety: `counters` runs on the API's threads during Render; it must be cheap and
// thread-safe (UdpServer::counters and Responder::counters are), and whatever it reads
// must outlive the registry's renders (almanacd stops the API before the UDP server).
#ifndef ALMANAC_CTL_NETCONF_NETCONF_METRICS_H_
#define ALMANAC_CTL_NETCONF_NETCONF_METRICS_H_

#include <functional>

#include "ctl/api/metrics.h"
#include "ctl/netconf/responder.h"

namespace almanac::netconf {

// Registers one counter function per ResponderCounters field in `registry` (not owned).
// Registering again replaces the functions (MetricsRegistry::SetCounterFunction).
void RegisterNetconfMetrics(api::MetricsRegistry* registry,
                            std::function<ResponderCounters()> counters);

}  // namespace almanac::netconf

#endif  // ALMANAC_CTL_NETCONF_NETCONF_METRICS_H_
