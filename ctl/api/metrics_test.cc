// Goal: the registry renders Prometheus text for counters, gauges and counter functions
// (one series per label set), keeps one counter per (name, labels), escapes label values,
// and folds series past its bound into the overflow counter instead of growing.
#include "ctl/api/metrics.h"

#include <string>

#include "ctl/api/limits.h"
#include "gtest/gtest.h"

namespace almanac::api {
namespace {

TEST(MetricsTest, CountersAndGaugesRender) {
  MetricsRegistry registry;
  Counter* ok = registry.GetCounter("almanac_http_requests_total", "Requests.",
                                    {{"endpoint", "/controller"}, {"status", "200"}});
  ok->Add();
  ok->Add(2);
  EXPECT_EQ(registry.GetCounter("almanac_http_requests_total", "",
                                {{"endpoint", "/controller"}, {"status", "200"}}),
            ok);
  registry.GetCounter("almanac_http_requests_total", "", {{"endpoint", "a\"b\\c\n"}})->Add();
  registry.SetGauge("almanac_networks", "Networks.", [] { return 4.0; });
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE almanac_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# HELP almanac_http_requests_total Requests.\n"), std::string::npos);
  EXPECT_NE(text.find("almanac_http_requests_total{endpoint=\"/controller\",status=\"200\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("almanac_http_requests_total{endpoint=\"a\\\"b\\\\c\\n\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE almanac_networks gauge\nalmanac_networks 4\n"), std::string::npos);
}

TEST(MetricsTest, CounterFunctionsRenderOneSeriesPerLabelSet) {
  MetricsRegistry registry;
  registry.SetCounterFunction("almanac_sequencer_seconds_total", "Time by stage.",
                              [] { return 1.5; }, {{"stage", "writing"}});
  registry.SetCounterFunction("almanac_sequencer_seconds_total", "Time by stage.",
                              [] { return 2.0; }, {{"stage", "holding"}});
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE almanac_sequencer_seconds_total counter\n"
                      "almanac_sequencer_seconds_total{stage=\"holding\"} 2\n"
                      "almanac_sequencer_seconds_total{stage=\"writing\"} 1.5\n"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, SeriesAreBounded) {
  MetricsRegistry registry;
  for (size_t i = 0; i < kMetricSeriesMax + 10; ++i) {
    registry.GetCounter("x_total", "", {{"i", std::to_string(i)}})->Add();
  }
  EXPECT_EQ(registry.series(), kMetricSeriesMax);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("almanac_metrics_overflow_total 11\n"), std::string::npos)
      << text.substr(0, 300);
}

TEST(MetricsTest, NameValidation) {
  EXPECT_TRUE(IsValidMetricName("almanac_a:b_1"));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName(""));
}

}  // namespace
}  // namespace almanac::api
