// Text folding for inbound keyword matching: hand-written UTF-8 decoding, a per-code-point
// fold (case, accents, fullwidth forms) and a word scanner that splits a body into folded
// words. No allocation; every input byte sequence is accepted (invalid UTF-8 is a separator).
//
// A word is a maximal run of letters and digits. Between words: whitespace, punctuation,
// symbols, emoji and invalid bytes. Ignorable code points (combining marks, ZWJ, variation
// selectors, soft hyphen, bidi controls) are dropped without ending a word, so "Arre\u0302t"
// is one word. An apostrophe between two letters is dropped too ("don't" -> DONT).
// docs/KEYWORDS.md lists the exact tables.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace stopgate::dnc::keywords::text_fold {

/// One decoded code point. An invalid or truncated sequence yields valid = false and
/// size = 1, so the caller skips exactly one byte and resynchronises.
struct decoded {
  char32_t cp = 0;
  std::uint8_t size = 1;
  bool valid = false;
};

/// Decodes the well-formed UTF-8 sequence at `pos` (Unicode table 3-7: no overlong forms, no
/// surrogates, nothing above U+10FFFF). Requires pos < text.size().
decoded decode_utf8(std::string_view text, std::size_t pos) noexcept;

/// What a code point is for word splitting.
enum class char_kind : std::uint8_t {
  letter,      // letter or digit: part of a word; `bytes` holds its folded form
  separator,   // ends a word (whitespace, punctuation, symbols, emoji, invalid bytes)
  ignorable,   // dropped, does not end a word (combining marks, ZWJ, variation selectors)
  apostrophe,  // dropped between two letters, otherwise a separator
};

/// The fold of one code point: its kind and, for letters, its folded UTF-8 bytes (1-4).
struct folded {
  char_kind kind = char_kind::separator;
  std::uint8_t size = 0;
  char bytes[4] = {};

  std::string_view text() const noexcept { return {bytes, size}; }
};

/// Folds one code point: ASCII, Latin-1 Supplement, Latin Extended-A (and Romanian S/T
/// comma), fullwidth ASCII, circled and mathematical letters fold to upper-case ASCII
/// ("é" -> "E", "ß" -> "SS", "Œ" -> "OE"); Greek and Cyrillic fold to upper case; other
/// letters are kept as they are. Pure; thread-safe.
folded fold_code_point(char32_t cp) noexcept;

namespace detail {
// Folded ASCII: the upper-case letter or digit, '\'' for the apostrophe, 0 for separators.
constexpr std::array<char, 128> make_ascii_fold() noexcept {
  std::array<char, 128> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<char>(c);
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = static_cast<char>(c);
  for (int c = 'a'; c <= 'z'; ++c) t[c] = static_cast<char>(c - 'a' + 'A');
  t['\''] = '\'';
  return t;
}
inline constexpr std::array<char, 128> ascii_fold = make_ascii_fold();
}  // namespace detail

/// Splits a body into folded words, left to right. Thread-compatible (one per thread).
///
/// `next(sink)` finds the next word and passes its folded bytes to `sink(std::string_view)`,
/// possibly in several pieces; it returns false when no word is left.
class word_scanner {
 public:
  explicit word_scanner(std::string_view text) noexcept : text_(text) {}

  template <class Sink>
  bool next(Sink&& sink) {
    bool in_word = false;
    bool pending_apostrophe = false;
    while (pos_ < text_.size()) {
      const auto b = static_cast<unsigned char>(text_[pos_]);
      char_kind kind;
      folded f;
      std::string_view letter;
      char ascii;
      // ASCII, nearly every byte of a real body, is folded here without building a `folded`.
      if (b < 0x80) {
        ++pos_;
        ascii = detail::ascii_fold[b];
        kind = ascii > '\''    ? char_kind::letter
               : ascii == '\'' ? char_kind::apostrophe
                               : char_kind::separator;
        letter = std::string_view(&ascii, 1);
      } else {
        f = fold_non_ascii(pos_);
        kind = f.kind;
        letter = f.text();
      }
      switch (kind) {
        case char_kind::letter:
          in_word = true;
          pending_apostrophe = false;
          sink(letter);
          break;
        case char_kind::ignorable:
          break;
        case char_kind::apostrophe:
          if (!in_word) break;
          // A second apostrophe ("don''t") ends the word like any punctuation would.
          if (pending_apostrophe) return true;
          pending_apostrophe = true;
          break;
        case char_kind::separator:
          if (in_word) return true;
          break;
      }
    }
    return in_word;
  }

 private:
  // Decodes and folds the non-ASCII code point at `pos`, advancing it.
  folded fold_non_ascii(std::size_t& pos) const noexcept;

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace stopgate::dnc::keywords::text_fold
