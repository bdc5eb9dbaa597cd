#include "ctl/api/metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/check.h"
#include "ctl/api/limits.h"

namespace almanac::api {
namespace {

constexpr char kOverflowName[] = "almanac_metrics_overflow_total";

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string LabelText(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    ALMANAC_CHECK(IsValidMetricName(labels[i].first));
    if (i > 0) out += ",";
    absl::StrAppend(&out, labels[i].first, "=\"", EscapeLabelValue(labels[i].second), "\"");
  }
  return out + "}";
}

}  // namespace

bool IsValidMetricName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

MetricsRegistry::MetricsRegistry() {
  absl::MutexLock lock(&mu_);
  Family& family = families_[kOverflowName];
  family.help = "Counter increments folded together because the series limit was reached.";
  auto counter = std::make_unique<Counter>();
  overflow_ = counter.get();
  family.series.emplace("", std::move(counter));
  series_ = 1;
}

Counter* MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const MetricLabels& labels) {
  ALMANAC_CHECK_MSG(IsValidMetricName(name), name.c_str());
  const std::string label_text = LabelText(labels);
  absl::MutexLock lock(&mu_);
  Family& family = families_[name];
  ALMANAC_CHECK_MSG(!family.gauge, "a metric name is either a counter or a gauge");
  if (family.help.empty()) family.help = help;
  auto it = family.series.find(label_text);
  if (it != family.series.end()) return it->second.get();
  if (series_ >= kMetricSeriesMax) return overflow_;
  ++series_;
  auto counter = std::make_unique<Counter>();
  Counter* raw = counter.get();
  family.series.emplace(label_text, std::move(counter));
  return raw;
}

void MetricsRegistry::SetGauge(const std::string& name, const std::string& help,
                               std::function<double()> value) {
  ALMANAC_CHECK_MSG(IsValidMetricName(name), name.c_str());
  absl::MutexLock lock(&mu_);
  Family& family = families_[name];
  ALMANAC_CHECK_MSG(family.series.empty(), "a metric name is either a counter or a gauge");
  family.gauge = true;
  family.help = help;
  family.value_functions[""] = std::move(value);
}

void MetricsRegistry::SetCounterFunction(const std::string& name, const std::string& help,
                                         std::function<double()> value,
                                         const MetricLabels& labels) {
  ALMANAC_CHECK_MSG(IsValidMetricName(name), name.c_str());
  const std::string label_text = LabelText(labels);
  absl::MutexLock lock(&mu_);
  Family& family = families_[name];
  ALMANAC_CHECK_MSG(family.series.empty(), "a metric name is either a counter or a gauge");
  family.gauge = true;
  family.function_counter = true;
  family.help = help;
  family.value_functions[label_text] = std::move(value);
}

std::string MetricsRegistry::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ", family.help, "\n");
    const bool gauge_type = family.gauge && !family.function_counter;
    absl::StrAppend(&out, "# TYPE ", name, gauge_type ? " gauge\n" : " counter\n");
    if (family.gauge) {
      for (const auto& [labels, value] : family.value_functions) {
        const double v = value ? value() : 0;
        if (v == std::floor(v) && std::fabs(v) < 1e15) {
          absl::StrAppend(&out, name, labels, " ", static_cast<int64_t>(v), "\n");
        } else {
          absl::StrAppend(&out, name, labels, " ", absl::StrFormat("%.17g", v), "\n");
        }
      }
      continue;
    }
    for (const auto& [labels, counter] : family.series) {
      absl::StrAppend(&out, name, labels, " ", counter->value(), "\n");
    }
  }
  return out;
}

size_t MetricsRegistry::series() const {
  absl::MutexLock lock(&mu_);
  return series_;
}

}  // namespace almanac::api
