#include "gateway/http/metrics_json.hpp"

#include <boost/json/array.hpp>

namespace stopgate::gateway::http {
namespace {

std::string_view type_name(metric_type t) {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "gauge";
}

}  // namespace

boost::json::object metrics_to_json(const std::vector<metric_family>& families) {
  boost::json::object out;
  for (const auto& f : families) {
    auto& entry = out[f.name];
    if (!entry.is_object())
      entry = boost::json::object{{"type", type_name(f.type)}, {"help", f.help}, {"samples", boost::json::array{}}};
    auto& samples = entry.as_object()["samples"].as_array();
    for (const auto& s : f.samples) {
      boost::json::object labels;
      for (const auto& l : s.labels) labels[l.name] = l.value;
      samples.push_back(boost::json::object{{"name", f.name + s.suffix}, {"labels", std::move(labels)}, {"value", s.value}});
    }
  }
  return out;
}

}  // namespace stopgate::gateway::http
