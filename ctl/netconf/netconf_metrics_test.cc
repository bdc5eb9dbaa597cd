// Goal: every counter of the netconf responder shows on /metrics under its own name with
// the responder's current value (read at render time, not copied at registration).
// Method: a registry fed by a function over a ResponderCounters the test changes.
#include "ctl/netconf/netconf_metrics.h"

#include <string>

#include "gtest/gtest.h"

namespace almanac::netconf {
namespace {

TEST(NetconfMetricsTest, EveryCounterRendersWithItsCurrentValue) {
  ResponderCounters counters;
  api::MetricsRegistry registry;
  const size_t before = registry.series();
  RegisterNetconfMetrics(&registry, [&counters] { return counters; });
  counters.datagrams = 12;
  counters.answered_config = 7;
  counters.internal_errors = 3;
  counters.validate_throttled = 5;
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE almanac_netconf_datagrams_total counter\n"
                      "almanac_netconf_datagrams_total 12\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nalmanac_netconf_answered_config_total 7\n"), std::string::npos);
  EXPECT_NE(text.find("\nalmanac_netconf_internal_errors_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("\nalmanac_netconf_validate_throttled_total 5\n"), std::string::npos);
  EXPECT_NE(text.find("\nalmanac_netconf_joins_dropped_total 0\n"), std::string::npos);
  // Every counter the responder keeps has its series (24 as of this test; a field added
  // to ResponderCounters needs a line in netconf_metrics.cc).
  size_t families = 0;
  for (size_t at = text.find("# TYPE almanac_netconf_"); at != std::string::npos;
       at = text.find("# TYPE almanac_netconf_", at + 1)) {
    ++families;
  }
  EXPECT_EQ(families, 24u);
  EXPECT_GE(registry.series(), before);

  counters.datagrams = 13;
  EXPECT_NE(registry.Render().find("\nalmanac_netconf_datagrams_total 13\n"),
            std::string::npos);
}

}  // namespace
}  // namespace almanac::netconf
