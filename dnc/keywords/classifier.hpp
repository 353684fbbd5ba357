// Inbound keyword classifier (SPEC section 6): turns an SMS reply body into opt_out_all,
// opt_out, opt_in, help or other.
//
// Prepare once per sender from its keyword_options (keyword_classifier::make normalises and
// indexes the lists), then classify() every inbound body. classify() is a pure function of the
// prepared lists and the body: no I/O, no clock, no allocation beyond the result's short
// `matched` string. docs/KEYWORDS.md describes normalisation and every matching rule.
#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stopgate::dnc::keywords {

/// What an inbound body asks for. Names (to_string) are the evidence and API spellings.
enum class keyword_class : std::uint8_t { other, opt_out_all, opt_out, opt_in, help };

/// How the body matched: the whole body is a keyword (`exact`), or in fcc2024 mode a short
/// body contains an opt-out keyword or phrase (`phrase`); `none` for class other.
enum class match_kind : std::uint8_t { none, exact, phrase };

/// "other", "opt_out_all", "opt_out", "opt_in", "help".
std::string_view to_string(keyword_class c) noexcept;
/// "none", "exact", "phrase".
std::string_view to_string(match_kind k) noexcept;

/// fcc2024: exact matches plus opt-out phrases in short bodies (FCC 24-24 "reasonable means").
/// strict: exact matches only (what Twilio's built-in handling does).
enum class keyword_mode : std::uint8_t { fcc2024, strict };

std::string_view to_string(keyword_mode m) noexcept;

/// The keyword lists and matching rules of one sender. Plain value; validated by
/// keyword_classifier::make. Entries are normalised like bodies, so "Stop all", "STOP  ALL"
/// and "stop-all" are the same entry.
struct keyword_options {
  keyword_mode mode = keyword_mode::fcc2024;
  /// fcc2024 only: bodies of at most this many words are searched for opt-out phrases.
  unsigned phrase_max_words = 8;
  std::vector<std::string> opt_out_all;
  std::vector<std::string> opt_out;
  std::vector<std::string> opt_in;
  std::vector<std::string> help;
  /// fcc2024 only: extra opt-out phrases that count when contained in a short body (never
  /// on their own in strict mode). Every opt_out / opt_out_all keyword is a phrase too. A
  /// phrase with more words than phrase_max_words can never match (it is kept, not an error,
  /// so lowering phrase_max_words does not invalidate the default list).
  std::vector<std::string> opt_out_phrases;

  /// The SPEC section 6 lists plus the default phrases ("OPT ME OUT", "REMOVE ME", ...).
  static keyword_options defaults();
};

/// Limits that keep classify() allocation-free and bounded.
inline constexpr unsigned max_phrase_max_words = 32;
inline constexpr std::size_t max_keyword_words = 16;
inline constexpr std::size_t max_keyword_word_bytes = 64;
inline constexpr std::size_t max_keywords_per_list = 256;

/// Why a keyword_options cannot be prepared.
enum class keyword_errc {
  empty_keyword = 1,     // nothing but spaces, punctuation or emoji
  invalid_utf8,          // the entry is not valid UTF-8
  too_many_words,        // more than max_keyword_words words
  word_too_long,         // a word longer than max_keyword_word_bytes after folding
  too_many_keywords,     // a list longer than max_keywords_per_list
  conflicting_keyword,   // the same entry in two classes (e.g. opt_out and help)
  bad_phrase_max_words,  // phrase_max_words outside 1..max_phrase_max_words
};

const boost::system::error_category& keyword_category() noexcept;
inline boost::system::error_code make_error_code(keyword_errc e) noexcept {
  return {static_cast<int>(e), keyword_category()};
}

/// A rejected option set: the reason plus the list and entry at fault, for config errors.
struct keyword_error {
  boost::system::error_code code;
  std::string list;  // "opt_out", "opt_in", ..., "phrase_max_words"
  int index = -1;    // position in that list, -1 when not about one entry
  std::string entry;

  /// E.g. `opt_out[2] "🛑": keyword has no letters or digits`.
  std::string message() const;
};

/// Lets result<T, keyword_error>::value() throw (only code that chose to).
[[noreturn]] void throw_exception_from_error(const keyword_error& e,
                                             const boost::source_location& loc);

/// The classification of one body.
struct keyword_result {
  keyword_class cls = keyword_class::other;
  match_kind kind = match_kind::none;
  /// The normalised keyword or phrase that matched ("STOP ALL"); empty for other.
  std::string matched;

  friend bool operator==(const keyword_result&, const keyword_result&) = default;
};

/// The SPEC section 6 normalised body: the body's words, folded, joined by single spaces.
/// "  ¡Arrêt!!! 🛑 " -> "ARRET"; "stop!!! please" -> "STOP PLEASE"; "" when no word.
/// Thread-safe.
std::string normalize_body(std::string_view body);

/// A prepared, immutable keyword matcher. Copyable; classify() is thread-safe (const, no
/// shared mutable state) and never allocates except for keyword_result::matched.
class keyword_classifier {
 public:
  /// Normalises and indexes the lists. Fails on the first bad entry (see keyword_errc).
  /// Duplicates inside one class (or an opt_out phrase that is also an opt_out keyword) are
  /// merged silently, so default and per-sender lists can simply be concatenated.
  static boost::system::result<keyword_classifier, keyword_error> make(
      const keyword_options& options);

  /// Classifies an inbound body. Rules, in order: the whole normalised body equals a keyword
  /// (exact); else, in fcc2024 mode with at most phrase_max_words words, the body contains an
  /// opt_out_all keyword, else an opt_out keyword or phrase, as whole words (phrase); else
  /// other. Work is linear in the body and stops after the last word any rule can use.
  keyword_result classify(std::string_view body) const;

  keyword_mode mode() const noexcept { return mode_; }

 private:
  keyword_classifier() = default;

  struct entry {
    keyword_class cls = keyword_class::other;
    std::uint32_t name = 0;  // index into names_
  };

  // Transparent hashing so lookups take a string_view of a stack buffer.
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  template <class V>
  using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

  friend class keyword_index_builder;

  keyword_mode mode_ = keyword_mode::fcc2024;
  unsigned phrase_max_words_ = 8;
  // Folded word -> id (1-based; 0 means "a word no keyword uses").
  string_map<std::uint16_t> word_ids_;
  // Keys are word-id sequences packed as 2 bytes per id.
  string_map<entry> exact_;
  string_map<entry> phrases_;  // opt_out_all, opt_out and opt_out_phrases
  std::vector<std::string> names_;
  std::size_t longest_word_bytes_ = 0;
  std::size_t longest_exact_words_ = 0;
  std::size_t longest_phrase_words_ = 0;
};

}  // namespace stopgate::dnc::keywords

template <>
struct boost::system::is_error_code_enum<stopgate::dnc::keywords::keyword_errc> : std::true_type {};
