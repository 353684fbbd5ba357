#include "dnc/lists/store.hpp"

#include "dnc/lists/keys.hpp"

#include <boost/asio/this_coro.hpp>

#include <charconv>
#include <chrono>
#include <random>
#include <optional>
#include <unordered_set>

namespace stopgate::dnc::lists {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;

class list_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.list"; }
  std::string message(int ev) const override {
    switch (static_cast<list_errc>(ev)) {
      case list_errc::bad_name:
        return "list names use letters, digits, ':', '_' and '-' (1-64)";
      case list_errc::locked:
        return "another load of this list is in progress";
      case list_errc::no_such_list:
        return "the list has no current generation";
      case list_errc::vanished:
        return "the generation was replaced while being read";
      case list_errc::redis_error:
        return "Redis answered with an error";
      case list_errc::bad_data:
        return "unexpected data in the list store";
      case list_errc::changed:
        return "the list was reloaded while the change list was read; run the apply again";
    }
    return "unknown list error";
  }
};

// Bitmaps go out a few at a time: each is 1.25 MB, so this bounds the client's buffer.
constexpr std::size_t bitmaps_per_pipeline = 8;
// Members of the sparse set per SADD.
constexpr std::size_t members_per_sadd = 10'000;
// A load holds the list's lock at most this long (a crashed loader frees it by expiry).
constexpr std::string_view lock_ms = "900000";

bool parse_u64(std::string_view s, std::uint64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string random_token() {
  std::random_device rd;
  return std::to_string((std::uint64_t(rd()) << 32) | rd());
}

constexpr std::string_view unlock_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

}  // namespace

const boost::system::error_category& list_category() noexcept {
  static const list_category_impl cat;
  return cat;
}

namespace list_keys {
bool valid_list_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == ':' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}
}  // namespace list_keys

asio::awaitable<result<redis::reply>> list_store::exec(redis::command_args args) {
  auto r = co_await redis_.async_exec(args);
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(list_errc::redis_error);
  co_return std::move(*r);
}

result<std::pair<model::list_meta, model::generation_layout>> parse_meta(std::string_view name,
                                                                         const redis::reply& h) {
  if (h.kind != redis::reply::type::array || h.elements.size() % 2 != 0)
    return make_error_code(list_errc::bad_data);
  model::list_meta m;
  m.name = std::string(name);
  model::generation_layout layout;
  for (std::size_t i = 0; i + 1 < h.elements.size(); i += 2) {
    const std::string& f = h.elements[i].str;
    const std::string& v = h.elements[i + 1].str;
    std::uint64_t n = 0;
    if (f == "generation") {
      if (!parse_u64(v, m.generation)) return make_error_code(list_errc::bad_data);
    } else if (f == "count") {
      if (!parse_u64(v, m.count)) return make_error_code(list_errc::bad_data);
    } else if (f == "loaded_at") {
      if (!parse_u64(v, n)) return make_error_code(list_errc::bad_data);
      m.loaded_at = std::int64_t(n);
    } else if (f == "snapshot") {
      m.snapshot = v;
    } else if (f == "source") {
      m.source = v;
    } else if (f == "sparse") {
      layout.sparse_key = v;
    } else if (f.size() == 7 && f.rfind("npa:", 0) == 0) {
      if (!parse_u64(std::string_view(f).substr(4), n) || n >= 1000)
        return make_error_code(list_errc::bad_data);
      layout.npa_keys[n] = v;
    }
  }
  return std::pair{std::move(m), std::move(layout)};
}

asio::awaitable<result<model::list_meta>> list_store::async_publish(
    model::list_meta meta, model::list_builder::result built,
    const model::stored_generation* base) {
  const std::string& name = meta.name;
  if (!list_keys::valid_list_name(name)) co_return make_error_code(list_errc::bad_name);

  // One loader per list at a time.
  const std::string token = random_token();
  const std::string lock = list_keys::lock(name);
  {
    auto r = co_await exec({"SET", lock, token, "NX", "PX", lock_ms});
    if (!r) co_return r.error();
    if (r->is_nil()) co_return make_error_code(list_errc::locked);
  }
  auto unlock = [&]() -> asio::awaitable<void> {
    (void)co_await redis_.async_exec({"EVAL", unlock_script, "1", lock, token});
  };

  // A change list must apply to the generation that is still current.
  if (base && base->data) {
    auto cur = co_await exec({"GET", list_keys::current(name)});
    std::uint64_t cur_gen = 0;
    if (cur && !cur->is_nil()) parse_u64(cur->str, cur_gen);
    if (!cur || cur_gen != base->data->meta().generation) {
      co_await unlock();
      co_return make_error_code(list_errc::changed);
    }
  }

  // A generation left half-written by a crashed loader is freed first.
  {
    auto r = co_await exec({"GET", list_keys::pending(name)});
    std::uint64_t stale = 0;
    if (r && !r->is_nil() && parse_u64(r->str, stale)) {
      auto cur = co_await exec({"GET", list_keys::current(name)});
      std::uint64_t cur_gen = 0;
      if (cur && !cur->is_nil()) parse_u64(cur->str, cur_gen);
      if (stale != cur_gen) {
        // Keep whatever the current generation still references.
        std::optional<model::generation_layout> keep;
        if (cur_gen != 0) {
          auto h = co_await exec({"HGETALL", list_keys::meta(name, cur_gen)});
          if (h) {
            auto pm = parse_meta(name, *h);
            if (pm) keep = std::move(pm->second);
          }
        }
        (void)co_await async_free(name, stale, keep ? &*keep : nullptr);
      }
    }
  }

  auto next = co_await exec({"INCR", list_keys::next(name)});
  if (!next) {
    co_await unlock();
    co_return next.error();
  }
  const std::uint64_t gen = std::uint64_t(next->integer);
  meta.generation = gen;
  const std::string meta_key = list_keys::meta(name, gen);
  const std::string gen_str = std::to_string(gen);

  // Record the key names before writing them, so an abandoned load can be cleaned up.
  model::generation_layout layout;
  for (unsigned npa = 0; npa < 1000; ++npa) {
    if (!built.npa[npa]) continue;
    layout.npa_keys[npa] = (built.npa_changed[npa] || !base) ? list_keys::npa(name, gen, npa)
                                                             : base->layout.npa_keys[npa];
  }
  if (!built.sparse.empty())
    layout.sparse_key =
        (built.sparse_changed || !base) ? list_keys::sparse(name, gen) : base->layout.sparse_key;

  auto fail = [&](error_code ec) -> asio::awaitable<result<model::list_meta>> {
    (void)co_await async_free(name, gen, base ? &base->layout : nullptr);
    (void)co_await redis_.async_exec({"DEL", list_keys::pending(name)});
    co_await unlock();
    co_return ec;
  };

  {
    redis::pipeline p;
    p.add({"SET", list_keys::pending(name), gen_str});
    p.add({"DEL", meta_key});
    std::vector<std::string> fields;
    fields.reserve(2 * 1002 + 2);
    fields.push_back("HSET");
    fields.push_back(meta_key);
    fields.push_back("state");
    fields.push_back("writing");
    for (unsigned npa = 0; npa < 1000; ++npa) {
      if (layout.npa_keys[npa].empty()) continue;
      fields.push_back(list_keys::npa_field(npa));
      fields.push_back(layout.npa_keys[npa]);
    }
    fields.push_back("sparse");
    fields.push_back(layout.sparse_key);
    std::vector<std::string_view> views(fields.begin(), fields.end());
    p.add(std::span<const std::string_view>(views));
    auto r = co_await redis_.async_exec(p);
    if (!r) co_return co_await fail(r.error());
    for (auto& rep : *r)
      if (rep.is_error()) co_return co_await fail(make_error_code(list_errc::redis_error));
  }

  // Bitmaps: one SET of the prebuilt 1.25 MB value per changed area code.
  {
    redis::pipeline p;
    for (unsigned npa = 0; npa < 1000; ++npa) {
      if (!built.npa[npa] || !(built.npa_changed[npa] || !base)) continue;
      p.add({"SET", layout.npa_keys[npa], built.npa[npa]->view()});
      if (p.size() == bitmaps_per_pipeline || npa == 999) {
        auto r = co_await redis_.async_exec(p);
        if (!r) co_return co_await fail(r.error());
        for (auto& rep : *r)
          if (rep.is_error()) co_return co_await fail(make_error_code(list_errc::redis_error));
        p.clear();
      }
    }
    if (p.size() > 0) {
      auto r = co_await redis_.async_exec(p);
      if (!r) co_return co_await fail(r.error());
      for (auto& rep : *r)
        if (rep.is_error()) co_return co_await fail(make_error_code(list_errc::redis_error));
    }
  }

  // Sparse members, in SADD chunks.
  if (!built.sparse.empty() && (built.sparse_changed || !base)) {
    std::vector<std::string> members;
    std::vector<std::string_view> args;
    redis::pipeline p;
    for (std::size_t i = 0; i < built.sparse.size(); i += members_per_sadd) {
      const std::size_t end = std::min(built.sparse.size(), i + members_per_sadd);
      members.clear();
      for (std::size_t k = i; k < end; ++k) members.push_back(std::to_string(built.sparse[k]));
      args.clear();
      args.push_back("SADD");
      args.push_back(layout.sparse_key);
      for (auto& m : members) args.push_back(m);
      p.clear();
      p.add(std::span<const std::string_view>(args));
      auto r = co_await redis_.async_exec(p);
      if (!r) co_return co_await fail(r.error());
      if (r->empty() || (*r)[0].is_error())
        co_return co_await fail(make_error_code(list_errc::redis_error));
    }
  }

  // Complete the meta, then switch the pointer (one SET: atomic), then announce.
  meta.count = built.count;
  meta.loaded_at = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::uint64_t previous = 0;
  {
    auto cur = co_await exec({"GET", list_keys::current(name)});
    if (!cur) co_return co_await fail(cur.error());
    if (!cur->is_nil()) parse_u64(cur->str, previous);
    const std::string count = std::to_string(meta.count);
    const std::string loaded = std::to_string(meta.loaded_at);
    redis::pipeline p;
    p.add({"HSET", meta_key, "state", "current", "generation", gen_str, "count", count, "snapshot",
           meta.snapshot, "loaded_at", loaded, "source", meta.source});
    p.add({"SET", list_keys::current(name), gen_str});
    p.add({"SADD", list_keys::lists, name});
    p.add({"DEL", list_keys::pending(name)});
    p.add({"PUBLISH", list_keys::channel, name + " " + gen_str});
    auto r = co_await redis_.async_exec(p);
    if (!r) co_return co_await fail(r.error());
    for (auto& rep : *r)
      if (rep.is_error()) co_return co_await fail(make_error_code(list_errc::redis_error));
  }

  // The old generation is no longer reachable from the pointer: free what we did not reuse.
  if (previous != 0 && previous != gen) (void)co_await async_free(name, previous, &layout);
  co_await unlock();
  co_return meta;
}

asio::awaitable<error_code> list_store::async_free(std::string_view name, std::uint64_t gen,
                                                   const model::generation_layout* keep) {
  std::unordered_set<std::string> kept;
  if (keep) {
    for (auto& k : keep->npa_keys)
      if (!k.empty()) kept.insert(k);
    if (!keep->sparse_key.empty()) kept.insert(keep->sparse_key);
  }
  const std::string meta_key = list_keys::meta(name, gen);
  auto h = co_await exec({"HGETALL", meta_key});
  std::vector<std::string> doomed;
  if (h) {
    auto pm = parse_meta(name, *h);
    if (pm) {
      for (auto& k : pm->second.npa_keys)
        if (!k.empty() && !kept.count(k)) doomed.push_back(k);
      if (!pm->second.sparse_key.empty() && !kept.count(pm->second.sparse_key))
        doomed.push_back(pm->second.sparse_key);
    }
  }
  // Keys named by generation even if the meta never got them (crash before the HSET).
  for (unsigned npa = 0; npa < 1000; ++npa) {
    auto k = list_keys::npa(name, gen, npa);
    if (!kept.count(k)) doomed.push_back(std::move(k));
  }
  if (auto k = list_keys::sparse(name, gen); !kept.count(k)) doomed.push_back(std::move(k));
  doomed.push_back(meta_key);
  // UNLINK frees in the background: a 1.25 MB value does not block Redis. One key per
  // command: on a cluster the keys live in different slots (the pipeline goes to each node).
  redis::pipeline p;
  for (auto& k : doomed) p.add({"UNLINK", k});
  auto r = co_await redis_.async_exec(p);
  if (!r) co_return r.error();
  co_return error_code{};
}

asio::awaitable<result<model::stored_generation>> list_store::async_read(
    std::string_view name, const model::stored_generation* reuse) {
  auto cur = co_await exec({"GET", list_keys::current(name)});
  if (!cur) co_return cur.error();
  std::uint64_t gen = 0;
  if (cur->is_nil() || !parse_u64(cur->str, gen))
    co_return make_error_code(list_errc::no_such_list);
  auto h = co_await exec({"HGETALL", list_keys::meta(name, gen)});
  if (!h) co_return h.error();
  if (h->elements.empty()) co_return make_error_code(list_errc::vanished);
  auto pm = parse_meta(name, *h);
  if (!pm) co_return pm.error();
  auto& [meta, layout] = *pm;

  std::array<model::list_generation::bitmap_ptr, 1000> npa;
  redis::pipeline p;
  std::vector<unsigned> fetched;
  for (unsigned i = 0; i < 1000; ++i) {
    if (layout.npa_keys[i].empty()) continue;
    if (reuse && reuse->data && reuse->layout.npa_keys[i] == layout.npa_keys[i]) {
      npa[i] = reuse->data->bitmap(i);  // same key, same bytes: keys are never rewritten
      continue;
    }
    p.add({"GET", layout.npa_keys[i]});
    fetched.push_back(i);
  }
  const bool sparse_reused = reuse && reuse->data && !layout.sparse_key.empty() &&
                             reuse->layout.sparse_key == layout.sparse_key;
  if (!layout.sparse_key.empty() && !sparse_reused) p.add({"SMEMBERS", layout.sparse_key});
  std::vector<std::uint64_t> sparse;
  if (p.size() > 0) {
    auto r = co_await redis_.async_exec(p);
    if (!r) co_return r.error();
    for (std::size_t k = 0; k < fetched.size(); ++k) {
      auto& rep = (*r)[k];
      if (rep.is_nil()) co_return make_error_code(list_errc::vanished);
      if (rep.kind != redis::reply::type::string) co_return make_error_code(list_errc::bad_data);
      npa[fetched[k]] = std::make_shared<const model::npa_bitmap>(rep.str);
    }
    if (!layout.sparse_key.empty() && !sparse_reused) {
      auto& rep = r->back();
      if (rep.kind != redis::reply::type::array) co_return make_error_code(list_errc::bad_data);
      if (rep.elements.empty()) co_return make_error_code(list_errc::vanished);
      sparse.reserve(rep.elements.size());
      for (auto& e : rep.elements) {
        std::uint64_t v = 0;
        if (!parse_u64(e.str, v)) co_return make_error_code(list_errc::bad_data);
        sparse.push_back(v);
      }
      std::sort(sparse.begin(), sparse.end());
    }
  }
  if (sparse_reused) sparse = reuse->data->sparse();
  model::stored_generation out;
  out.data = std::make_shared<const model::list_generation>(std::move(meta), std::move(npa),
                                                            std::move(sparse));
  out.layout = std::move(layout);
  co_return out;
}

asio::awaitable<result<std::vector<std::pair<std::string, std::uint64_t>>>>
list_store::async_generations() {
  auto names = co_await exec({"SMEMBERS", list_keys::lists});
  if (!names) co_return names.error();
  std::vector<std::pair<std::string, std::uint64_t>> out;
  if (names->elements.empty()) co_return out;
  redis::pipeline p;
  std::vector<std::string> keys;
  for (auto& e : names->elements) keys.push_back(list_keys::current(e.str));
  for (auto& k : keys) p.add({"GET", k});
  auto r = co_await redis_.async_exec(p);
  if (!r) co_return r.error();
  for (std::size_t i = 0; i < names->elements.size(); ++i) {
    std::uint64_t g = 0;
    if (!(*r)[i].is_nil()) parse_u64((*r)[i].str, g);
    out.emplace_back(names->elements[i].str, g);
  }
  std::sort(out.begin(), out.end());
  co_return out;
}

asio::awaitable<result<std::optional<model::list_meta>>> list_store::async_meta(
    std::string_view name) {
  auto cur = co_await exec({"GET", list_keys::current(name)});
  if (!cur) co_return cur.error();
  std::uint64_t gen = 0;
  if (cur->is_nil() || !parse_u64(cur->str, gen)) co_return std::optional<model::list_meta>{};
  auto h = co_await exec({"HGETALL", list_keys::meta(name, gen)});
  if (!h) co_return h.error();
  auto pm = parse_meta(name, *h);
  if (!pm) co_return pm.error();
  co_return std::optional<model::list_meta>(std::move(pm->first));
}

asio::awaitable<result<std::vector<list_status>>> list_store::async_status() {
  auto gens = co_await async_generations();
  if (!gens) co_return gens.error();
  std::vector<list_status> out;
  for (auto& [name, gen] : *gens) {
    if (gen == 0) continue;
    auto h = co_await exec({"HGETALL", list_keys::meta(name, gen)});
    if (!h) co_return h.error();
    auto pm = parse_meta(name, *h);
    if (!pm) continue;  // replaced meanwhile; the next status shows the new one
    list_status st;
    st.meta = pm->first;
    redis::pipeline p;
    std::vector<std::string> keys;
    for (auto& k : pm->second.npa_keys)
      if (!k.empty()) keys.push_back(k);
    st.npa_bitmaps = keys.size();
    if (!pm->second.sparse_key.empty()) keys.push_back(pm->second.sparse_key);
    for (auto& k : keys) p.add({"MEMORY", "USAGE", k, "SAMPLES", "0"});
    if (!pm->second.sparse_key.empty()) p.add({"SCARD", pm->second.sparse_key});
    if (p.size() > 0) {
      auto r = co_await redis_.async_exec(p);
      if (!r) co_return r.error();
      for (std::size_t i = 0; i < keys.size(); ++i)
        if ((*r)[i].kind == redis::reply::type::integer)
          st.redis_bytes += std::uint64_t((*r)[i].integer);
      if (!pm->second.sparse_key.empty()) st.sparse_members = std::uint64_t(r->back().integer);
    }
    out.push_back(std::move(st));
  }
  co_return out;
}

asio::awaitable<result<bool>> list_store::async_contains(std::string_view name,
                                                         model::phone_number n) {
  const std::string field = n.is_nanp() ? list_keys::npa_field(n.npa()) : std::string("-");
  const std::string offset = std::to_string(n.is_nanp() ? n.local7() : 0);
  const std::string member = std::to_string(n.value());
  const std::string current = list_keys::current(name);
  // The pointer, then the key the meta names, then the bit with the pointer read again: the
  // data keys live in other slots than the pointer (one script cannot read them together on
  // a cluster), and a generation is freed only after the pointer moved on. So an unchanged
  // pointer after the bit proves the bit came from that generation; otherwise read again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto cur = co_await exec({"GET", current});
    if (!cur) co_return result<bool>(boost::system::in_place_error, cur.error());
    if (cur->is_nil())
      co_return result<bool>(boost::system::in_place_error, make_error_code(list_errc::no_such_list));
    const std::string gen = cur->str;
    std::uint64_t g = 0;
    if (!parse_u64(gen, g))
      co_return result<bool>(boost::system::in_place_error, make_error_code(list_errc::bad_data));
    redis::pipeline keys;
    const std::string meta = list_keys::meta(name, g);
    keys.add({"HGET", meta, field});
    keys.add({"HGET", meta, "sparse"});
    auto k = co_await redis_.async_exec(keys);
    if (!k) co_return result<bool>(boost::system::in_place_error, k.error());
    redis::pipeline probe;
    const redis::reply& bitmap = (*k)[0];
    const redis::reply& sparse = (*k)[1];
    if (bitmap.kind == redis::reply::type::string)
      probe.add({"GETBIT", bitmap.str, offset});
    else if (sparse.kind == redis::reply::type::string && !sparse.str.empty())
      probe.add({"SISMEMBER", sparse.str, member});
    std::optional<redis::reply> bit;
    if (probe.size() > 0) {
      auto r = co_await redis_.async_exec(probe);
      if (!r) co_return result<bool>(boost::system::in_place_error, r.error());
      bit = std::move(r->front());
    }
    // A round trip of its own: on a cluster the pointer and the bit are on different nodes, and
    // one pipeline runs on both at once, in no order between them.
    auto again = co_await exec({"GET", current});
    if (!again) co_return result<bool>(boost::system::in_place_error, again.error());
    if (again->kind != redis::reply::type::string || again->str != gen) continue;  // switched
    if (!bit) co_return result<bool>(false);  // neither a bitmap nor a sparse set
    if (bit->kind != redis::reply::type::integer)
      co_return result<bool>(boost::system::in_place_error, make_error_code(list_errc::redis_error));
    co_return result<bool>(bit->integer == 1);
  }
  co_return result<bool>(boost::system::in_place_error, make_error_code(list_errc::changed));
}

}  // namespace stopgate::dnc::lists
