#include "dnc/contact_cache.hpp"

#include <charconv>

namespace stopgate::dnc {
namespace {

using redis::reply;

bool hex64(std::string_view s, std::uint64_t& out) noexcept {
  out = 0;
  for (char c : s) {
    unsigned v;
    if (c >= '0' && c <= '9')
      v = unsigned(c - '0');
    else if (c >= 'a' && c <= 'f')
      v = unsigned(c - 'a' + 10);
    else
      return false;
    out = out << 4 | v;
  }
  return true;
}

std::size_t str_cost(const std::string& s) noexcept {
  // Short strings live inside the object (SSO); longer ones take a heap block.
  return s.capacity() > 15 ? s.capacity() + 16 : 0;
}

// One stream entry [id, [field, value, ...]]: its change number and the hash key it names.
bool parse_entry(const reply& e, std::int64_t& seq, std::optional<cache_key>& key) {
  if (e.kind != reply::type::array || e.elements.size() != 2) return false;
  const reply& fields = e.elements[1];
  if (fields.kind != reply::type::array || fields.elements.size() % 2 != 0) return false;
  bool have_seq = false;
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& f = fields.elements[i].str;
    const std::string& v = fields.elements[i + 1].str;
    if (f == "s") {
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seq);
      have_seq = ec == std::errc() && p == v.data() + v.size();
    } else if (f == "k") {
      key = cache_key::from_hash_key(v);
    }
  }
  return have_seq;
}

}  // namespace

std::optional<cache_key> cache_key::from_hash_key(std::string_view k) noexcept {
  if (k.size() != 36 || !k.starts_with("{c:") || k.back() != '}') return std::nullopt;
  cache_key out;
  if (!hex64(k.substr(3, 16), out.hi) || !hex64(k.substr(19, 16), out.lo)) return std::nullopt;
  return out;
}

contact_cache::contact_cache(contact_cache_options o) : opts_(o) {}

const number_facts* contact_cache::find(const cache_key& k) const noexcept {
  static const number_facts nothing;
  auto it = map_.find(k);
  if (it == map_.end()) return nullptr;
  return it->second ? it->second.get() : &nothing;
}

std::size_t contact_cache::cost(const entry& e) noexcept {
  // A node of the table (key, pointer, next pointer, malloc header) and its bucket, plus
  // the facts object, its vectors and strings when there are any.
  std::size_t n = sizeof(cache_key) + 3 * sizeof(void*) + 16;
  if (!e) return n;
  const number_facts& f = *e;
  n += sizeof(number_facts) + 16;
  n += f.optouts.capacity() * sizeof(optout_fact) + f.consents.capacity() * sizeof(consent_fact);
  for (const optout_fact& o : f.optouts) n += str_cost(o.sender) + str_cost(o.source) + str_cost(o.evidence_id);
  for (const consent_fact& c : f.consents) n += str_cost(c.id) + str_cost(c.sender) + str_cost(c.evidence_id);
  return n;
}

void contact_cache::insert(const cache_key& k, const number_facts& f) {
  if (!positioned_ || opts_.max_bytes == 0 || !f.available) return;
  if (f.optouts.size() + f.consents.size() > opts_.max_facts_per_number) return;
  entry e;
  if (!f.optouts.empty() || !f.consents.empty()) {
    auto copy = std::make_unique<number_facts>();
    copy->optouts = f.optouts;
    copy->consents = f.consents;
    e = std::move(copy);
  }
  const std::size_t c = cost(e);
  if (c > opts_.max_bytes) return;
  auto [it, added] = map_.try_emplace(k);
  if (!added) {
    // Re-read (a hit whose fetch bypassed the cache): replace in place.
    bytes_ -= cost(it->second);
    ++erasures_;
  }
  it->second = std::move(e);
  bytes_ += c;
  if (bytes_ <= opts_.max_bytes) return;
  // Full: drop an arbitrary eighth (the table's first nodes; O(1) each) rather than keep
  // recency lists on the hot path. The entry just added is kept.
  ++erasures_;
  const std::size_t target = opts_.max_bytes - opts_.max_bytes / 8;
  for (auto v = map_.begin(); v != map_.end() && bytes_ > target;) {
    if (v == it) {
      ++v;
      continue;
    }
    bytes_ -= cost(v->second);
    v = map_.erase(v);
  }
}

void contact_cache::erase(const cache_key& k) noexcept {
  auto it = map_.find(k);
  if (it == map_.end()) return;
  bytes_ -= cost(it->second);
  map_.erase(it);
  ++erasures_;
}

void contact_cache::clear() noexcept {
  if (!map_.empty()) ++erasures_;
  map_.clear();
  bytes_ = 0;
}

void contact_cache::reset() noexcept {
  if (!map_.empty()) ++drops_;
  clear();
  positioned_ = false;
  last_seq_ = 0;
  last_id_.clear();
}

bool contact_cache::apply_poll(const reply& r) {
  if (r.kind != reply::type::array || r.elements.size() != 3 ||
      r.elements[0].kind != reply::type::integer ||
      (r.elements[1].kind != reply::type::string && !r.elements[1].is_nil()) ||
      r.elements[2].kind != reply::type::array) {
    reset();
    return false;
  }
  const std::int64_t seq = r.elements[0].integer;
  const std::string& top = r.elements[1].str;
  const auto& entries = r.elements[2].elements;
  // The changes since the last applied poll are complete when the entries past it carry
  // the numbers last+1, last+2, ..., seq in order. Entries at or below it were applied by
  // an earlier poll (two pipelines in flight read from the same position).
  bool complete = positioned_ && seq >= last_seq_;
  std::int64_t next = last_seq_ + 1;
  for (std::size_t i = 0; complete && i < entries.size(); ++i) {
    std::int64_t s = 0;
    std::optional<cache_key> k;
    if (!parse_entry(entries[i], s, k) || !k) {
      complete = false;
    } else if (s >= next) {
      if (s != next) complete = false;
      ++next;
      if (map_.contains(*k)) ++invalidations_;
      erase(*k);
    }
  }
  complete = complete && next == seq + 1;
  if (!complete) {
    if (!map_.empty()) ++drops_;
    clear();
  }
  positioned_ = true;
  last_seq_ = seq;
  // An empty stream (never written, or deleted) is read from its start next time.
  last_id_ = top.empty() ? "0-0" : top;
  return true;
}

}  // namespace stopgate::dnc
