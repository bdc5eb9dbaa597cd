// A small metrics registry rendered as Prometheus text (GET /metrics).
//
// Modules register named counters (monotonic, optionally labelled) and gauges (a function
// read at render time). A counter handle stays valid for the registry's lifetime, and
// Add on it is a lock-free atomic, so hot paths look a counter up once and keep it.
// Names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*); label values are escaped.
//
// Bounded: at most kMetricSeriesMax series (ctl/api/limits.h). Past that, GetCounter
// returns one shared overflow counter (almanac_metrics_overflow_total), so callers never
// check for null and a label fed by outside input cannot grow memory.
//
// Thread safety: every method may be called from any thread. Gauge functions run under
// the registry's lock during Render and must not call back into the registry.
#ifndef ALMANAC_CTL_API_METRICS_H_
#define ALMANAC_CTL_API_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace almanac::api {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The counter named `name` with exactly these labels (in this order), created at zero
  // on first use. `help` is kept from the first registration of the name. Never null.
  // REQUIRES: name is a valid Prometheus metric name.
  Counter* GetCounter(const std::string& name, const std::string& help,
                      const MetricLabels& labels = {});

  // Registers a gauge whose value is read by `value` at each render. Registering a name
  // again replaces the function.
  // REQUIRES: name is a valid Prometheus metric name.
  void SetGauge(const std::string& name, const std::string& help,
                std::function<double()> value);

  // Registers a counter whose value is read by `value` at each render (for counters
  // another module already keeps, such as the sequencer's batches). Same rules as
  // SetGauge; a name may have several such series, one per set of labels.
  void SetCounterFunction(const std::string& name, const std::string& help,
                          std::function<double()> value, const MetricLabels& labels = {});

  // Prometheus text exposition format 0.0.4: HELP and TYPE lines, then one line per
  // series, metrics in name order.
  std::string Render() const;

  size_t series() const;

 private:
  struct Family {
    std::string help;
    bool gauge = false;            // values read from value_functions at render time
    bool function_counter = false;  // ...and rendered with TYPE counter
    std::map<std::string, std::function<double()>> value_functions;  // by label text
    std::map<std::string, std::unique_ptr<Counter>> series;  // by rendered label text
  };

  mutable absl::Mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
  size_t series_ ABSL_GUARDED_BY(mu_) = 0;
  Counter* overflow_ = nullptr;  // owned by families_; set once in the constructor
};

// True when `name` is a valid Prometheus metric or label name.
bool IsValidMetricName(const std::string& name);

}  // namespace almanac::api

#endif  // ALMANAC_CTL_API_METRICS_H_
