// Fuzzes the inbound keyword classifier: no crash on any bytes; the normalised body is valid
// UTF-8 in canonical form (single spaces, no edge spaces) and a fixed point; classifying the
// normalised body gives the same result as the raw one; class, kind and matched agree; strict
// mode only ever reports exact matches, which fcc2024 reports identically. Inputs starting
// with '\x01' also become a custom opt_out keyword, which must then classify as itself.
#include "dnc/keywords/classifier.hpp"
#include "dnc/keywords/text_fold.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace stopgate::dnc::keywords;

const keyword_classifier& classifier(keyword_mode mode) {
  static const keyword_classifier fcc = *keyword_classifier::make(keyword_options::defaults());
  static const keyword_classifier strict = [] {
    auto o = keyword_options::defaults();
    o.mode = keyword_mode::strict;
    return *keyword_classifier::make(o);
  }();
  return mode == keyword_mode::strict ? strict : fcc;
}

void check(bool ok) {
  if (!ok) std::abort();
}

void check_canonical(const std::string& n) {
  check(n.empty() || (n.front() != ' ' && n.back() != ' '));
  check(n.find("  ") == std::string::npos);
  for (std::size_t pos = 0; pos < n.size();) {
    const auto d = text_fold::decode_utf8(n, pos);
    check(d.valid);
    pos += d.size;
  }
  check(normalize_body(n) == n);
}

void check_consistent(const keyword_result& r) {
  check((r.cls == keyword_class::other) == (r.kind == match_kind::none));
  check(r.matched.empty() == (r.kind == match_kind::none));
  if (r.kind == match_kind::phrase)
    check(r.cls == keyword_class::opt_out || r.cls == keyword_class::opt_out_all);
  check(normalize_body(r.matched) == r.matched);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string norm = normalize_body(in);
  check_canonical(norm);

  const auto& fcc = classifier(keyword_mode::fcc2024);
  const auto& strict = classifier(keyword_mode::strict);
  const keyword_result f = fcc.classify(in);
  const keyword_result s = strict.classify(in);
  check_consistent(f);
  check_consistent(s);
  check(fcc.classify(norm) == f);
  check(strict.classify(norm) == s);
  check(s.kind != match_kind::phrase);
  if (s.kind == match_kind::exact) check(f == s);
  if (f.kind == match_kind::exact) check(f.matched == norm);

  if (!in.empty() && in[0] == '\x01') {
    keyword_options o;
    o.opt_out = {std::string(in.substr(1))};
    auto c = keyword_classifier::make(o);
    if (c) {
      const keyword_result own = c->classify(in.substr(1));
      check(own.cls == keyword_class::opt_out && own.kind == match_kind::exact);
      check(own.matched == normalize_body(in.substr(1)));
    }
  }
  return 0;
}
