#include "dnc/keywords/classifier.hpp"

#include "dnc/keywords/text_fold.hpp"

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>

namespace stopgate::dnc::keywords {
namespace {

class keyword_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.keywords"; }
  std::string message(int ev) const override {
    switch (static_cast<keyword_errc>(ev)) {
      case keyword_errc::empty_keyword:
        return "keyword has no letters or digits";
      case keyword_errc::invalid_utf8:
        return "keyword is not valid UTF-8";
      case keyword_errc::too_many_words:
        return "keyword has more than 16 words";
      case keyword_errc::word_too_long:
        return "keyword has a word longer than 64 bytes";
      case keyword_errc::too_many_keywords:
        return "list has more than 256 keywords";
      case keyword_errc::conflicting_keyword:
        return "keyword is already in another class";
      case keyword_errc::bad_phrase_max_words:
        return "phrase_max_words must be 1 to 32";
    }
    return "unknown keyword error";
  }
};

// Word ids are packed 2 bytes each (little-endian) into map keys; id 0 never occurs in a key.
void pack_id(std::uint16_t id, char* out) noexcept {
  out[0] = static_cast<char>(id & 0xFF);
  out[1] = static_cast<char>(id >> 8);
}

bool valid_utf8(std::string_view s) noexcept {
  for (std::size_t pos = 0; pos < s.size();) {
    const auto d = text_fold::decode_utf8(s, pos);
    if (!d.valid) return false;
    pos += d.size;
  }
  return true;
}

// The normalised words of a body, appended to `out` separated by single spaces.
void append_words(std::string_view text, std::string& out) {
  text_fold::word_scanner scanner(text);
  bool first = true;
  auto sink = [&out](std::string_view piece) { out.append(piece); };
  for (;;) {
    const std::size_t before = out.size();
    if (!first) out.push_back(' ');
    if (!scanner.next(sink)) {
      out.resize(before);
      return;
    }
    first = false;
  }
}

}  // namespace

const boost::system::error_category& keyword_category() noexcept {
  static const keyword_category_impl cat;
  return cat;
}

std::string_view to_string(keyword_class c) noexcept {
  switch (c) {
    case keyword_class::other:
      return "other";
    case keyword_class::opt_out_all:
      return "opt_out_all";
    case keyword_class::opt_out:
      return "opt_out";
    case keyword_class::opt_in:
      return "opt_in";
    case keyword_class::help:
      return "help";
  }
  return "other";
}

std::string_view to_string(match_kind k) noexcept {
  switch (k) {
    case match_kind::none:
      return "none";
    case match_kind::exact:
      return "exact";
    case match_kind::phrase:
      return "phrase";
  }
  return "none";
}

std::string_view to_string(keyword_mode m) noexcept {
  return m == keyword_mode::strict ? "strict" : "fcc2024";
}

keyword_options keyword_options::defaults() {
  keyword_options o;
  o.opt_out_all = {"STOPALL", "STOP ALL"};
  o.opt_out = {"STOP",    "END",    "QUIT",  "CANCEL", "UNSUBSCRIBE", "REVOKE", "OPTOUT",
               "OPT OUT", "REMOVE", "ARRET", "PARAR",  "ALTO",        "BAJA",   "CANCELAR"};
  o.opt_in = {"START", "UNSTOP", "YES", "SUBSCRIBE"};
  o.help = {"HELP", "INFO", "AYUDA"};
  // Ways people write "stop" in a sentence that contain none of the keywords, plus UNSUB,
  // which carriers honour but SPEC section 6 does not list as an exact keyword.
  o.opt_out_phrases = {
      "OPT ME OUT",       "REMOVE ME",      "UNSUBSCRIBE ME", "STOP TEXTING", "DO NOT TEXT",
      "DONT TEXT",        "DO NOT CONTACT", "DONT CONTACT",   "TAKE ME OFF",  "NO MORE TEXTS",
      "NO MORE MESSAGES", "NO MAS",         "LEAVE ME ALONE", "WRONG NUMBER", "UNSUB"};
  return o;
}

std::string keyword_error::message() const {
  std::string m = list;
  if (index >= 0) m += "[" + std::to_string(index) + "]";
  if (!entry.empty() || index >= 0) m += " \"" + entry + "\"";
  m += ": ";
  m += code.message();
  return m;
}

void throw_exception_from_error(const keyword_error& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(e.code, e.message()), loc);
}

std::string normalize_body(std::string_view body) {
  std::string out;
  out.reserve(std::min<std::size_t>(body.size(), 256));
  append_words(body, out);
  return out;
}

// Builds the lookup tables of a keyword_classifier from validated entries.
class keyword_index_builder {
 public:
  explicit keyword_index_builder(keyword_classifier& c) : c_(c) {}

  // Adds one list; `cls` is the class its entries stand for, `phrase_only` for
  // opt_out_phrases (not matched exactly). Returns an error naming the bad entry.
  boost::system::result<void, keyword_error> add_list(std::string_view list_name,
                                                      const std::vector<std::string>& list,
                                                      keyword_class cls, bool phrase_only) {
    if (list.size() > max_keywords_per_list)
      return fail(keyword_errc::too_many_keywords, list_name, -1, {});
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto r = add_entry(list[i], cls, phrase_only);
      if (r != keyword_errc{}) return fail(r, list_name, static_cast<int>(i), list[i]);
    }
    return {};
  }

 private:
  static keyword_error fail(keyword_errc e, std::string_view list, int index,
                            std::string_view entry) {
    return {make_error_code(e), std::string(list), index, std::string(entry)};
  }

  keyword_errc add_entry(std::string_view raw, keyword_class cls, bool phrase_only) {
    if (!valid_utf8(raw)) return keyword_errc::invalid_utf8;
    std::vector<std::string> words;
    text_fold::word_scanner scanner(raw);
    std::string word;
    while (scanner.next([&word](std::string_view piece) { word.append(piece); })) {
      if (word.size() > max_keyword_word_bytes) return keyword_errc::word_too_long;
      words.push_back(std::move(word));
      word.clear();
      if (words.size() > max_keyword_words) return keyword_errc::too_many_words;
    }
    if (words.empty()) return keyword_errc::empty_keyword;

    std::string key(words.size() * 2, '\0');
    std::string name;
    for (std::size_t w = 0; w < words.size(); ++w) {
      pack_id(word_id(words[w]), &key[w * 2]);
      if (w) name += ' ';
      name += words[w];
    }

    // One class per entry: an opt-out phrase may repeat an opt_out keyword, nothing else.
    if (auto it = c_.exact_.find(key); it != c_.exact_.end()) {
      if (it->second.cls != cls) return keyword_errc::conflicting_keyword;
      if (!phrase_only) return {};  // duplicate inside one class
    }
    if (phrase_only && c_.phrases_.contains(key)) return {};

    const keyword_classifier::entry e{cls, static_cast<std::uint32_t>(c_.names_.size())};
    c_.names_.push_back(std::move(name));
    if (!phrase_only) {
      c_.exact_.emplace(key, e);
      c_.longest_exact_words_ = std::max(c_.longest_exact_words_, words.size());
    }
    if (phrase_only || cls == keyword_class::opt_out || cls == keyword_class::opt_out_all) {
      c_.phrases_.emplace(key, e);
      c_.longest_phrase_words_ = std::max(c_.longest_phrase_words_, words.size());
    }
    for (const auto& w : words) c_.longest_word_bytes_ = std::max(c_.longest_word_bytes_, w.size());
    return {};
  }

  std::uint16_t word_id(const std::string& w) {
    // At most 5 lists x 256 entries x 16 words, so ids fit in 16 bits.
    auto [it, inserted] =
        c_.word_ids_.try_emplace(w, static_cast<std::uint16_t>(c_.word_ids_.size() + 1));
    return it->second;
  }

  keyword_classifier& c_;
};

boost::system::result<keyword_classifier, keyword_error> keyword_classifier::make(
    const keyword_options& o) {
  if (o.phrase_max_words < 1 || o.phrase_max_words > max_phrase_max_words) {
    return keyword_error{make_error_code(keyword_errc::bad_phrase_max_words), "phrase_max_words",
                         -1, std::to_string(o.phrase_max_words)};
  }
  keyword_classifier c;
  c.mode_ = o.mode;
  c.phrase_max_words_ = o.phrase_max_words;
  keyword_index_builder b(c);
  struct list_ref {
    std::string_view name;
    const std::vector<std::string>& entries;
    keyword_class cls;
    bool phrase_only;
  };
  // Phrases go last so that their conflict check sees every exact keyword.
  for (const list_ref& l :
       {list_ref{"opt_out_all", o.opt_out_all, keyword_class::opt_out_all, false},
        list_ref{"opt_out", o.opt_out, keyword_class::opt_out, false},
        list_ref{"opt_in", o.opt_in, keyword_class::opt_in, false},
        list_ref{"help", o.help, keyword_class::help, false},
        list_ref{"opt_out_phrases", o.opt_out_phrases, keyword_class::opt_out, true}}) {
    if (auto r = b.add_list(l.name, l.entries, l.cls, l.phrase_only); !r) return r.error();
  }
  return c;
}

keyword_result keyword_classifier::classify(std::string_view body) const {
  // Beyond this many words no rule can match: exact needs the body to be one keyword, a
  // phrase needs a short body.
  const std::size_t budget =
      std::max(longest_exact_words_,
               mode_ == keyword_mode::fcc2024 ? std::size_t{phrase_max_words_} : std::size_t{0});
  std::array<char, 2 * (max_phrase_max_words + max_keyword_words)> packed;
  std::size_t n = 0;
  bool any_unknown = false;

  text_fold::word_scanner scanner(body);
  std::array<char, max_keyword_word_bytes> word;
  std::size_t len = 0;
  bool too_long = false;
  auto sink = [&](std::string_view piece) {
    if (too_long || len + piece.size() > longest_word_bytes_) {
      too_long = true;
      return;
    }
    std::memcpy(word.data() + len, piece.data(), piece.size());
    len += piece.size();
  };
  while (scanner.next(sink)) {
    if (n == budget) return {};
    std::uint16_t id = 0;
    if (!too_long) {
      if (auto it = word_ids_.find(std::string_view(word.data(), len)); it != word_ids_.end())
        id = it->second;
    }
    any_unknown |= id == 0;
    pack_id(id, &packed[n * 2]);
    ++n;
    len = 0;
    too_long = false;
  }
  if (n == 0) return {};

  if (!any_unknown && n <= longest_exact_words_) {
    if (auto it = exact_.find(std::string_view(packed.data(), n * 2)); it != exact_.end())
      return {it->second.cls, match_kind::exact, names_[it->second.name]};
  }

  if (mode_ != keyword_mode::fcc2024 || n > phrase_max_words_) return {};
  // Earliest match wins, the longest at that position; opt_out_all beats opt_out anywhere.
  const entry* found = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t l = std::min(longest_phrase_words_, n - i); l >= 1; --l) {
      auto it = phrases_.find(std::string_view(packed.data() + i * 2, l * 2));
      if (it == phrases_.end()) continue;
      if (it->second.cls == keyword_class::opt_out_all) {
        return {it->second.cls, match_kind::phrase, names_[it->second.name]};
      }
      if (!found) found = &it->second;
    }
  }
  if (!found) return {};
  return {found->cls, match_kind::phrase, names_[found->name]};
}

}  // namespace stopgate::dnc::keywords
