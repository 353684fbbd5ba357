#include "dnc/contacts/cache.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

#include <sys/mman.h>

namespace stopgate::dnc::contacts {
namespace {

using redis::reply;

// The value of each lowercase hex digit; -1 for every other byte.
constexpr std::array<std::int8_t, 256> hex_values = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = 0; c < 10; ++c) t[std::size_t('0' + c)] = std::int8_t(c);
  for (int c = 0; c < 6; ++c) t[std::size_t('a' + c)] = std::int8_t(10 + c);
  return t;
}();

bool hex64(std::string_view s, std::uint64_t& out) noexcept {
  out = 0;
  int bad = 0;
  for (char c : s) {
    const int v = hex_values[static_cast<unsigned char>(c)];
    bad |= v;  // negative once any digit is not hex
    out = out << 4 | std::uint64_t(v & 15);
  }
  return bad >= 0;
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

// A stream entry id "MS-SEQ" as a pair that orders like Redis orders ids.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_stream_id(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::pair<std::uint64_t, std::uint64_t> out;
  const char* end = id.data() + id.size();
  auto [p1, e1] = std::from_chars(id.data(), id.data() + dash, out.first);
  auto [p2, e2] = std::from_chars(id.data() + dash + 1, end, out.second);
  if (e1 != std::errc() || p1 != id.data() + dash || e2 != std::errc() || p2 != end)
    return std::nullopt;
  return out;
}

}  // namespace

void* allocate_huge(std::size_t bytes) {
  void* p = std::aligned_alloc(huge_page_allocator<char>::huge, bytes);
  if (!p) throw std::bad_alloc();
  // Advice only: without transparent huge pages the table works on small pages.
  ::madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

void deallocate_huge(void* p, std::size_t) noexcept {
  std::free(p);
}

std::optional<cache_key> cache_key::from_hash_key(std::string_view k) noexcept {
  if (k.size() != 36 || !k.starts_with("{c:") || k.back() != '}') return std::nullopt;
  cache_key out;
  if (!hex64(k.substr(3, 16), out.hi) || !hex64(k.substr(19, 16), out.lo)) return std::nullopt;
  return out;
}

const model::number_facts contact_cache::no_facts;

contact_cache::contact_cache(contact_cache_options o) : opts_(o) {
  // The marker at the loss is "none": any rebuild marker clears it.
  if (opts_.start_lost) {
    data_lost_ = true;
    data_losses_ = 1;
  }
}

std::size_t contact_cache::position(const cache_key& k) const noexcept {
  if (slots_.empty()) return 0;
  const std::size_t mask = slots_.size() - 1;
  // At most three quarters full: the probe meets a free slot.
  for (std::size_t i = home(k);; i = (i + 1) & mask) {
    const slot& s = slots_[i];
    if (is_free(s)) return slots_.size();
    if (s.key == k) return i;
  }
}

const model::number_facts* contact_cache::find(const cache_key& k) const noexcept {
  const std::size_t i = position(k);
  return i == slots_.size() ? nullptr : slots_[i].facts.get();
}

std::size_t contact_cache::cost(const entry& e) noexcept {
  // About two slots of the table (it is kept between 3/8 and 3/4 full), plus the facts
  // object, its vectors and strings when there are any.
  std::size_t n = 2 * sizeof(slot);
  if (!e || e.get() == &no_facts) return n;
  const model::number_facts& f = *e;
  n += sizeof(model::number_facts) + 16;
  n += f.optouts.capacity() * sizeof(model::optout_fact) +
       f.consents.capacity() * sizeof(model::consent_fact);
  for (const model::optout_fact& o : f.optouts)
    n += str_cost(o.sender) + str_cost(o.source) + str_cost(o.evidence_id);
  for (const model::consent_fact& c : f.consents)
    n += str_cost(c.id) + str_cost(c.sender) + str_cost(c.evidence_id);
  return n;
}

void contact_cache::grow() {
  std::vector<slot, huge_page_allocator<slot>> old(std::max<std::size_t>(64, slots_.size() * 2));
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (slot& s : old) {
    if (is_free(s)) continue;
    std::size_t i = home(s.key);
    while (!is_free(slots_[i])) i = (i + 1) & mask;
    slots_[i] = std::move(s);
  }
}

void contact_cache::insert(const cache_key& k, const model::number_facts& f) {
  if (!positioned_ || opts_.max_bytes == 0 || !f.available) return;
  if (f.optouts.size() + f.consents.size() > opts_.max_facts_per_number) return;
  entry e(&no_facts);
  if (!f.optouts.empty() || !f.consents.empty()) {
    auto copy = std::make_unique<model::number_facts>();
    copy->optouts = f.optouts;
    copy->consents = f.consents;
    e.reset(copy.release());
  }
  const std::size_t c = cost(e);
  if (c > opts_.max_bytes) return;
  std::size_t i = position(k);
  if (i != slots_.size()) {
    // Re-read (a hit whose fetch bypassed the cache): replace in place.
    bytes_ -= cost(slots_[i].facts);
    ++erasures_;
  } else {
    if ((used_ + 1) * 4 > slots_.size() * 3) grow();
    const std::size_t mask = slots_.size() - 1;
    for (i = home(k); !is_free(slots_[i]); i = (i + 1) & mask) {
    }
    slots_[i].key = k;
    ++used_;
  }
  slots_[i].facts = std::move(e);
  bytes_ += c;
  if (bytes_ <= opts_.max_bytes) return;
  // Full: drop an arbitrary eighth (the table's first slots) rather than keep recency lists
  // on the hot path. The entry just added is kept. An erasure shifts a later entry into
  // slot j, so j is looked at again; each pass either erases or moves on, so this ends.
  ++erasures_;
  const std::size_t target = opts_.max_bytes - opts_.max_bytes / 8;
  for (std::size_t j = 0; j < slots_.size() && bytes_ > target;) {
    if (is_free(slots_[j]) || slots_[j].key == k) {
      ++j;
      continue;
    }
    erase_at(j);
  }
}

void contact_cache::erase_at(std::size_t i) noexcept {
  bytes_ -= cost(slots_[i].facts);
  slots_[i] = slot{};
  --used_;
  const std::size_t mask = slots_.size() - 1;
  // Backward shift: an entry later in the run moves into the hole when the hole lies
  // between its home slot and where it sits.
  for (std::size_t j = (i + 1) & mask; !is_free(slots_[j]); j = (j + 1) & mask) {
    const std::size_t h = home(slots_[j].key);
    if (((j - h) & mask) >= ((j - i) & mask)) {
      slots_[i] = std::move(slots_[j]);
      slots_[j] = slot{};
      i = j;
    }
  }
}

bool contact_cache::erase(const cache_key& k) noexcept {
  const std::size_t i = position(k);
  if (i == slots_.size()) return false;
  erase_at(i);
  ++erasures_;
  return true;
}

void contact_cache::clear() noexcept {
  if (used_ > 0) {
    ++erasures_;
    for (slot& s : slots_) s = slot{};
  }
  used_ = 0;
  bytes_ = 0;
}

void contact_cache::reset() noexcept {
  if (used_ > 0) ++drops_;
  clear();
  positioned_ = false;
  last_seq_ = 0;
  last_id_.clear();
}

bool contact_cache::apply_poll(const reply& r) {
  if (r.kind != reply::type::array || r.elements.size() != 4 ||
      r.elements[0].kind != reply::type::integer ||
      (r.elements[1].kind != reply::type::string && !r.elements[1].is_nil()) ||
      r.elements[2].kind != reply::type::array || r.elements[3].kind != reply::type::string) {
    reset();
    return false;
  }
  const std::int64_t seq = r.elements[0].integer;
  const std::string& top = r.elements[1].str;
  const auto& entries = r.elements[2].elements;
  const std::string& marker = r.elements[3].str;
  // A counter below one already read: Redis lost the changes counted in between.
  bool lost = seq < high_water_;
  // The changes since the last applied poll are complete when the entries past it carry
  // the numbers last+1, last+2, ..., seq in order. Entries at or below it were applied by
  // an earlier poll (two pipelines in flight read from the same position).
  bool complete = positioned_ && seq >= last_seq_;
  std::int64_t next = last_seq_ + 1;
  // Every change up to last_seq_ was in the stream, at or below last_id_, when the last poll
  // read them together. An entry above last_id_ with such a number therefore cannot come
  // from the Redis this cache followed: that Redis lost its data and counted again (restart
  // without persistence, FLUSHALL, failover), and the changes it renumbered were never
  // applied here.
  const auto seen_up_to = parse_stream_id(last_id_);
  for (std::size_t i = 0; complete && i < entries.size(); ++i) {
    std::int64_t s = 0;
    std::optional<cache_key> k;
    if (!parse_entry(entries[i], s, k) || !k) {
      complete = false;
    } else if (s >= next) {
      if (s != next) complete = false;
      ++next;
      if (erase(*k)) ++invalidations_;
    } else {
      const auto id = parse_stream_id(entries[i].elements[0].str);
      if (!id || !seen_up_to || *id > *seen_up_to) {
        complete = false;
        lost = lost || (id && seen_up_to);  // renumbered: see above
      }
    }
  }
  complete = complete && next == seq + 1;
  if (!complete) {
    if (used_ > 0) ++drops_;
    clear();
  }
  if (lost) {
    if (!data_lost_) marker_at_loss_ = marker;
    data_lost_ = true;
    ++data_losses_;
  } else if (data_lost_ && marker != marker_at_loss_) {
    data_lost_ = false;  // rebuilt from the evidence log since
  }
  high_water_ = lost ? seq : std::max(high_water_, seq);
  positioned_ = true;
  last_seq_ = seq;
  // An empty stream (never written, or deleted) is read from its start next time.
  last_id_ = top.empty() ? "0-0" : top;
  return true;
}

}  // namespace stopgate::dnc::contacts
