// The contact store's administrative reads and erasure: lookup and forget.
#include "dnc/contacts/codec.hpp"
#include "dnc/contacts/scripts.hpp"
#include "dnc/contacts/store.hpp"

#include <charconv>
#include <unordered_map>

namespace stopgate::dnc::contacts {
namespace {

namespace asio = boost::asio;
using boost::system::result;
using contact_codec::to_decimal;
using contact_codec::to_us;

// Concurrent commits may add a campaign between forget's two round trips; retry this often.
constexpr int forget_attempts = 3;

constexpr std::string_view forget_why =
    "Opt-outs are kept so that the number stays suppressed as the request requires; they are "
    "stored under a keyed pseudonym of the number and hold only sender, time, source and "
    "evidence id. The number, every consent with its source details, the frequency counters "
    "and the evidence index are erased; a consent whose proof is erased cannot justify a "
    "contact, so forgetting also withdraws consent. Evidence log records follow the log's "
    "own retention.";

const redis::script& forget_script() {
  static const redis::script s(contact_scripts::forget);
  return s;
}

bool is_array(const redis::reply& r) {
  return r.kind == redis::reply::type::array;
}

std::vector<std::string> strings_of(const redis::reply& r) {
  std::vector<std::string> out;
  out.reserve(r.elements.size());
  for (const redis::reply& e : r.elements) out.push_back(e.str);
  return out;
}

// Fills the record from the number's hash and its consent-details hash.
bool parse_record(const redis::reply& h, const redis::reply& details, contact_record& rec) {
  if (!is_array(h) || h.elements.size() % 2 != 0 || !is_array(details) ||
      details.elements.size() % 2 != 0)
    return false;
  std::unordered_map<std::string_view, std::string_view> by_id;
  for (std::size_t i = 0; i < details.elements.size(); i += 2)
    by_id.emplace(details.elements[i].str, details.elements[i + 1].str);
  for (std::size_t i = 0; i < h.elements.size(); i += 2) {
    const std::string_view field = h.elements[i].str, value = h.elements[i + 1].str;
    if (field == contact_keys::number_field) {
      rec.number.assign(value);
    } else if (field == contact_keys::forgotten_field) {
      std::int64_t us = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), us);
      if (ec != std::errc() || p != value.data() + value.size()) return false;
      rec.forgotten_at = model::sys_time(std::chrono::microseconds(us));
    } else if (field.starts_with("o:")) {
      model::optout_fact& o = rec.optouts.emplace_back();
      o.sender.assign(field.substr(2));
      if (!contact_codec::decode_optout(value, o)) return false;
    } else if (field.starts_with("c:")) {
      consent_record& c = rec.consents.emplace_back();
      c.fact.id.assign(field.substr(2));
      if (!contact_codec::decode_consent(value, c.fact)) return false;
      if (auto d = by_id.find(c.fact.id);
          d != by_id.end() && !contact_codec::decode_details(d->second, c.source))
        return false;
    }
  }
  return true;
}

}  // namespace

asio::awaitable<result<contact_record>> contact_store::async_lookup(model::phone_number n) {
  const contact_keys::number_keys k(keys_, n);
  const std::string details = k.details(), ev = k.evidence(), caps = k.caps();
  const auto changes = contact_keys::changes_for(k.hash(), opts_.per_slot_changes);
  redis::pipeline p;
  p.add({"HGETALL", k.hash()});
  p.add({"HGETALL", details});
  p.add({"LRANGE", ev, "0", "-1"});
  p.add({"ZRANGE", caps, "0", "-1"});
  auto r = co_await exec(p);
  if (!r) co_return r.error();
  if (r->size() != 4 || !is_array((*r)[2]) || !is_array((*r)[3]))
    co_return make_error_code(contact_errc::bad_data);

  contact_record rec;
  if (!parse_record((*r)[0], (*r)[1], rec)) co_return make_error_code(contact_errc::bad_data);
  rec.evidence_ids = strings_of((*r)[2]);
  const std::vector<std::string> campaigns = strings_of((*r)[3]);
  if (campaigns.empty()) co_return rec;

  // The counters of each campaign the index names (oldest first: ZRANGE is by score).
  p.clear();
  std::vector<std::string> keys;
  keys.reserve(campaigns.size());
  for (const std::string& c : campaigns) {
    keys.push_back(k.counter(c));
    p.add({"ZRANGE", keys.back(), "0", "-1"});
  }
  auto z = co_await exec(p);
  if (!z) co_return z.error();
  if (z->size() != campaigns.size()) co_return make_error_code(contact_errc::bad_data);
  for (std::size_t i = 0; i < campaigns.size(); ++i) {
    campaign_contacts cc{.campaign = campaigns[i], .contacts = {}};
    if (!contact_codec::parse_contact_members((*z)[i], cc.contacts))
      co_return make_error_code(contact_errc::bad_data);
    // An indexed counter that already expired holds nothing worth reporting.
    if (!cc.contacts.empty()) rec.counters.push_back(std::move(cc));
  }
  co_return rec;
}

asio::awaitable<result<forget_report>> contact_store::async_forget(model::phone_number n,
                                                                   model::sys_time at) {
  const contact_keys::number_keys k(keys_, n);
  const std::string details = k.details(), ev = k.evidence(), caps = k.caps();
  const auto changes = contact_keys::changes_for(k.hash(), opts_.per_slot_changes);
  char at_buf[24], len_buf[24];
  const std::string_view at_s = to_decimal(to_us(at), at_buf);
  const std::string_view len_s = to_decimal(std::int64_t(opts_.change_stream_length), len_buf);
  for (int attempt = 0; attempt < forget_attempts; ++attempt) {
    // Counter keys are named by campaign: read the index so the script can declare them.
    ++round_trips_;
    auto idx = co_await redis_.async_exec({"ZRANGE", caps, "0", "-1"});
    if (!idx) co_return idx.error();
    if (!is_array(*idx)) co_return make_error_code(contact_errc::redis_error);
    const std::vector<std::string> campaigns = strings_of(*idx);
    std::vector<std::string> counter_keys;
    counter_keys.reserve(campaigns.size());
    for (const std::string& c : campaigns) counter_keys.push_back(k.counter(c));

    std::vector<std::string_view> keys = {k.hash(), details, ev, caps, changes.stream, changes.counter};
    keys.insert(keys.end(), counter_keys.begin(), counter_keys.end());
    std::vector<std::string_view> args = {at_s, len_s};
    args.insert(args.end(), campaigns.begin(), campaigns.end());
    auto r = co_await eval(forget_script(), keys, args);
    if (!r) co_return r.error();
    if (r->kind == redis::reply::type::integer && r->integer == -1) continue;
    if (!is_array(*r) || r->elements.size() != 2 || !is_array(r->elements[0]) ||
        !is_array(r->elements[1]))
      co_return make_error_code(contact_errc::bad_data);
    co_return forget_report{.erased = strings_of(r->elements[0]),
                            .kept = strings_of(r->elements[1]),
                            .why = std::string(forget_why)};
  }
  co_return make_error_code(contact_errc::busy);
}

}  // namespace stopgate::dnc::contacts
