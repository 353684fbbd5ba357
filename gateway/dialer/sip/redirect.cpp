#include "gateway/dialer/sip/redirect.hpp"

#include "gateway/dialer/sip/uri.hpp"

#include <algorithm>

namespace stopgate::gateway::dialer::sip {
namespace {

bool source_matches(const config::dialer_sip_sender& row, const boost::asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return std::any_of(row.sources.begin(), row.sources.end(),
                       [&](const config::ip_network& n) { return n.contains(b.data(), true); });
  }
  auto b = a.to_v6().to_bytes();
  return std::any_of(row.sources.begin(), row.sources.end(),
                     [&](const config::ip_network& n) { return n.contains(b.data(), false); });
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out.push_back(',');
    out.append(s);
  }
  return out;
}

}  // namespace

std::string reason_value(int status, std::string_view text) {
  std::string out = "SIP;cause=" + std::to_string(status) + ";text=\"";
  for (char c : text) {
    // A quoted-string: escape what would end it; drop what a header cannot carry.
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\r' || c == '\n') continue;
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::variant<invite_plan, refusal> plan_invite(const message& invite, const peer& from,
                                               const config::dialer_sip_settings& s) {
  if (scheme_of(invite.uri()) == uri_scheme::other) return refusal{416, "", ""};
  if (auto mf = invite.max_forwards(); mf && *mf == 0) return refusal{483, "", ""};
  // The gate implements no extension: every option tag an INVITE requires is unsupported.
  std::string unsupported;
  for (const auto& h : invite.headers()) {
    if (h.id != header_id::require || h.value.empty()) continue;
    if (!unsupported.empty()) unsupported.append(", ");
    unsupported.append(h.value);
  }
  if (!unsupported.empty()) return refusal{420, "", std::move(unsupported)};

  // The sender: named by the configured header, else the first row whose sources match.
  const config::dialer_sip_sender* row = nullptr;
  std::string_view named =
      s.sender_header.empty() ? std::string_view{} : trim(invite.header_value(s.sender_header));
  if (!named.empty()) {
    row = s.sender(named);
    if (!row) return refusal{403, "unknown_sender", ""};
    if (!row->sources.empty() && !source_matches(*row, from.addr))
      return refusal{403, "source_not_allowed", ""};
  } else {
    for (const auto& r : s.senders)
      if (!r.sources.empty() && source_matches(r, from.addr)) {
        row = &r;
        break;
      }
    if (!row) return refusal{403, "unknown_sender", ""};
  }

  dialed d = dialed_number(invite.uri(), s.strip_prefixes);
  if (d.number.empty()) return refusal{484, "no_number", ""};

  invite_plan p;
  p.check.to = std::move(d.number);
  p.check.sender = row->name;
  std::string_view campaign =
      s.campaign_header.empty() ? std::string_view{} : trim(invite.header_value(s.campaign_header));
  p.check.campaign = campaign.empty() ? row->campaign : std::string(campaign);
  p.check.call_purpose = row->call_purpose;
  p.check.tech = row->tech;
  p.check.ref = std::string(invite.call_id());
  p.check.source = check_source::sip;
  p.trunk = row->trunk;
  p.number = row->number;
  p.dialed_user = std::string(d.user);
  return p;
}

final_response map_answer(const voice_answer& a, const invite_plan& plan,
                          const config::dialer_sip_settings& s,
                          std::chrono::system_clock::time_point now) {
  final_response r;
  if (a.outcome == decision::allow && !a.fail_closed) {
    r.status = 302;
    std::string_view user = plan.dialed_user;
    if (plan.number == config::dialer_sip_sender::contact_number::e164 && a.to.starts_with('+'))
      user = a.to;
    // trunk is "sip:HOST..." or "sips:HOST...": the user goes between the scheme and the host.
    std::size_t colon = plan.trunk.find(':');
    r.contact.reserve(plan.trunk.size() + user.size() + 4);
    r.contact.append("<").append(plan.trunk, 0, colon + 1).append(user).append("@");
    r.contact.append(plan.trunk, colon + 1).append(">");
    return r;
  }
  if (a.outcome == decision::defer && !a.fail_closed) {
    r.status = 480;
    std::uint32_t secs = s.retry_after_default_s;
    if (a.retry_at) {
      auto left = std::chrono::ceil<std::chrono::seconds>(*a.retry_at - now).count();
      secs = std::uint32_t(std::clamp<long long>(left, 1, s.retry_after_max_s));
    }
    r.retry_after = std::min(secs, s.retry_after_max_s);
    r.reason = reason_value(480, join(a.reasons));
    return r;
  }
  r.status = s.deny_status;
  r.reason = reason_value(r.status, join(a.reasons));
  return r;
}

}  // namespace stopgate::gateway::dialer::sip
