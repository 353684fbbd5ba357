#include "config/settings.hpp"

#include <algorithm>

namespace stopgate::config {
namespace {

/// Binary search in a vector sorted by name.
template <class T>
const T* find_named(const std::vector<T>& v, std::string_view name) {
  auto it = std::lower_bound(v.begin(), v.end(), name,
                             [](const T& x, std::string_view n) { return x.name < n; });
  return it != v.end() && it->name == name ? &*it : nullptr;
}

}  // namespace

std::string_view to_string(carrier_type t) noexcept {
  switch (t) {
    case carrier_type::twilio: return "twilio";
    case carrier_type::telnyx: return "telnyx";
    case carrier_type::bandwidth: return "bandwidth";
    case carrier_type::vonage: return "vonage";
    case carrier_type::plivo: return "plivo";
    case carrier_type::sinch: return "sinch";
    case carrier_type::http: return "http";
    case carrier_type::sandbox: return "sandbox";
  }
  return "unknown";
}

week_windows policy_settings::window_for(std::string_view region, bool canadian) const {
  auto it = regions.find(region);
  if (it != regions.end()) return it->second;
  return canadian ? canada : federal;
}

const sender_settings* settings::sender_for_number(std::string_view e164) const {
  auto it = number_owner.find(e164);
  return it == number_owner.end() ? nullptr : &senders[it->second];
}

const sender_settings* settings::sender(std::string_view name) const {
  return find_named(senders, name);
}

const sender_settings* settings::sole_sender() const {
  return senders.size() == 1 ? &senders.front() : nullptr;
}

const carrier_settings* settings::carrier(std::string_view name) const {
  return find_named(carriers, name);
}

const list_settings* settings::list(std::string_view name) const {
  return find_named(lists, name);
}

std::filesystem::path resolve_path(const settings& s, const std::filesystem::path& rel) {
  if (rel.is_absolute()) return rel.lexically_normal();
  return (s.server.data_dir / rel).lexically_normal();
}

}  // namespace stopgate::config
