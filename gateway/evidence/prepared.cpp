#include "gateway/evidence/prepared.hpp"

#include "gateway/evidence/error.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace stopgate::evidence {

namespace {

// The reserved members the writer adds, in canonical (byte) order.
constexpr std::array<std::string_view, 5> head_names = {"id", "prev", "seq", "ts", "type"};

std::size_t decimal_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// `"name":` plus the comma that follows every member.
constexpr std::size_t member_overhead(std::string_view name) { return name.size() + 4; }

}  // namespace

boost::system::error_code prepare_fields(const boost::json::object& fields,
                                         prepared_fields& out) {
  using kv = const boost::json::key_value_pair*;
  // Sort pointers on the stack for the usual small objects; big ones use the heap.
  std::array<kv, 32> small;
  std::vector<kv> big;
  kv* first = small.data();
  if (fields.size() > small.size()) {
    big.resize(fields.size());
    first = big.data();
  }
  std::size_t n = 0;
  for (const auto& e : fields) {
    if (is_reserved_field(e.key())) return make_error_code(errc::reserved_field);
    first[n++] = &e;
  }
  std::sort(first, first + n, [](kv a, kv b) { return a->key() < b->key(); });
  out.text.clear();
  // A typical member is under 48 bytes: usually one allocation for the whole record.
  out.text.reserve(64 + 48 * n);
  std::size_t h = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view key = first[i]->key();
    // Every reserved name sorting before this key goes in front of it.
    while (h < head_names.size() && head_names[h] < key) out.cut[h++] = out.text.size();
    if (!append_json_string(out.text, key)) return make_error_code(errc::unsupported_value);
    out.text += ':';
    if (!append_canonical(out.text, first[i]->value()))
      return make_error_code(errc::unsupported_value);
    out.text += ',';
  }
  while (h < head_names.size()) out.cut[h++] = out.text.size();
  return {};
}

std::size_t canonical_size(const prepared_fields& f, const record_head& h) noexcept {
  std::size_t n = 1 + f.text.size();  // '{' and the members; the last comma becomes '}'
  n += member_overhead("id") + h.id.size() + 2;
  n += member_overhead("prev") + h.prev.size() + 2;
  n += member_overhead("seq") + decimal_size(h.seq);
  n += member_overhead("ts") + h.ts.size() + 2;
  n += member_overhead("type") + to_string(h.type).size() + 2;
  return n;
}

void append_record(std::string& out, const prepared_fields& f, const record_head& h) {
  const std::string_view text = f.text;
  out += '{';
  std::size_t from = 0;
  auto caller_members_until = [&](std::size_t cut) {
    out.append(text.data() + from, cut - from);
    from = cut;
  };
  auto string_member = [&](std::string_view quoted_name, std::string_view value) {
    out += quoted_name;
    out += value;
    out += "\",";
  };
  caller_members_until(f.cut[0]);
  string_member("\"id\":\"", h.id);
  caller_members_until(f.cut[1]);
  string_member("\"prev\":\"", h.prev);
  caller_members_until(f.cut[2]);
  out += "\"seq\":";
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, h.seq).ptr;
  out.append(digits, end);
  out += ',';
  caller_members_until(f.cut[3]);
  string_member("\"ts\":\"", h.ts);
  caller_members_until(f.cut[4]);
  string_member("\"type\":\"", to_string(h.type));
  caller_members_until(text.size());
  // Every member ended in a comma; the last one closes the object instead.
  out.back() = '}';
}

}  // namespace stopgate::evidence
