#include "dnc/keywords/text_fold.hpp"

namespace stopgate::dnc::keywords::text_fold {
namespace {

// Base letters for U+00C0..U+00FF. Digits mark two-letter folds (see expand()); '.' marks
// the two symbols of the block (U+00D7 multiplication sign, U+00F7 division sign).
constexpr std::string_view latin1_fold =
    "AAAAAA1CEEEEIIIIDNOOOOO.OUUUUY23"
    "AAAAAA1CEEEEIIIIDNOOOOO.OUUUUY2Y";
static_assert(latin1_fold.size() == 0x40);

// Base letters for U+0100..U+017F (Latin Extended-A), same markers.
constexpr std::string_view latin_ext_a_fold =
    "AAAAAACCCCCCCCDDDDEEEEEEEEEEGGGGGGGGHHHHIIIIIIIIII44JJKKKLLLLLLLLLLNNNNNNNNNOOOOOO55"
    "RRRRRRSSSSSSSSTTTTTTUUUUUUUUUUUUWWYYYZZZZZZS";
static_assert(latin_ext_a_fold.size() == 0x80);

constexpr folded separator() noexcept {
  return {char_kind::separator, 0, {}};
}
constexpr folded ignorable() noexcept {
  return {char_kind::ignorable, 0, {}};
}
constexpr folded apostrophe() noexcept {
  return {char_kind::apostrophe, 0, {}};
}

constexpr folded ascii_letter(char c) noexcept {
  return {char_kind::letter, 1, {c}};
}

constexpr folded two_letters(char a, char b) noexcept {
  return {char_kind::letter, 2, {a, b}};
}

// A table entry: one upper-case letter, a two-letter marker, or the separator marker.
constexpr folded expand(char c) noexcept {
  switch (c) {
    case '.':
      return separator();
    case '1':
      return two_letters('A', 'E');
    case '2':
      return two_letters('T', 'H');
    case '3':
      return two_letters('S', 'S');
    case '4':
      return two_letters('I', 'J');
    case '5':
      return two_letters('O', 'E');
    default:
      return ascii_letter(c);
  }
}

// A letter kept as a code point (non-Latin scripts), re-encoded as UTF-8.
folded encoded_letter(char32_t cp) noexcept {
  folded f{char_kind::letter, 0, {}};
  auto put = [&f](unsigned v) { f.bytes[f.size++] = static_cast<char>(v); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
  return f;
}

constexpr bool in(char32_t cp, char32_t lo, char32_t hi) noexcept {
  return cp >= lo && cp <= hi;
}

folded fold_ascii(char32_t cp) noexcept {
  const char c = static_cast<char>(cp);
  if (c >= 'a' && c <= 'z') return ascii_letter(static_cast<char>(c - 'a' + 'A'));
  if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return ascii_letter(c);
  if (c == '\'') return apostrophe();
  return separator();
}

// U+0080..U+02FF: C1 controls, Latin-1 Supplement, Latin Extended-A/B, spacing modifiers.
folded fold_latin(char32_t cp) noexcept {
  if (cp < 0xA0) return separator();  // C1 controls
  if (cp < 0xC0) {
    switch (cp) {
      case 0xAA:
        return ascii_letter('A');  // feminine ordinal
      case 0xBA:
        return ascii_letter('O');  // masculine ordinal
      case 0xB5:
        return encoded_letter(0x39C);  // micro sign -> Greek capital mu
      case 0xAD:
        return ignorable();  // soft hyphen
      default:
        return separator();  // NBSP, ¡, ¿, «, », ©, ° ...
    }
  }
  if (cp < 0x100) return expand(latin1_fold[cp - 0xC0]);
  if (cp < 0x180) return expand(latin_ext_a_fold[cp - 0x100]);
  if (in(cp, 0x218, 0x219)) return ascii_letter('S');  // Romanian S with comma below
  if (in(cp, 0x21A, 0x21B)) return ascii_letter('T');  // Romanian T with comma below
  if (cp == 0x2BC) return apostrophe();                // modifier letter apostrophe
  if (cp >= 0x2B0) return ignorable();                 // spacing modifiers act as diacritics
  return encoded_letter(cp);                           // rest of Latin Extended-B
}

// U+0300..U+1FFF: combining marks and the scripts with case or their own punctuation.
folded fold_scripts(char32_t cp) noexcept {
  if (cp <= 0x36F) return ignorable();  // combining diacritical marks (decomposed accents)
  if (cp == 0x37E || cp == 0x387) return separator();  // Greek question mark, ano teleia
  if (cp == 0x3C2) return encoded_letter(0x3A3);       // final sigma
  if (in(cp, 0x3B1, 0x3C9)) return encoded_letter(cp - 0x20);
  if (in(cp, 0x430, 0x44F)) return encoded_letter(cp - 0x20);
  if (in(cp, 0x450, 0x45F)) return encoded_letter(cp - 0x50);
  if (in(cp, 0x483, 0x489)) return ignorable();
  if (in(cp, 0x55A, 0x55F) || cp == 0x589 || cp == 0x58A) return separator();
  if (cp == 0x5BE || cp == 0x5C0 || cp == 0x5C3 || cp == 0x5C6) return separator();
  if (in(cp, 0x591, 0x5C7)) return ignorable();  // Hebrew points
  if (in(cp, 0x600, 0x605)) return ignorable();
  if (in(cp, 0x60C, 0x60D) || cp == 0x61B || in(cp, 0x61D, 0x61F)) return separator();
  if (in(cp, 0x66A, 0x66D) || cp == 0x6D4) return separator();
  if (in(cp, 0x610, 0x61A) || in(cp, 0x64B, 0x65F) || cp == 0x670) return ignorable();
  if (cp == 0x964 || cp == 0x965) return separator();  // Devanagari danda
  if (in(cp, 0x1AB0, 0x1AFF) || in(cp, 0x1DC0, 0x1DFF)) return ignorable();
  return encoded_letter(cp);
}

// U+2000..U+FFFF: punctuation, symbols, CJK punctuation, presentation and fullwidth forms.
folded fold_bmp_high(char32_t cp) noexcept {
  if (cp <= 0x206F) {
    if (cp == 0x2019) return apostrophe();
    // Zero-width joiners, direction marks and invisible operators hide inside words.
    if (in(cp, 0x200C, 0x200F) || in(cp, 0x202A, 0x202E) || in(cp, 0x2060, 0x206F))
      return ignorable();
    return separator();  // spaces, ZWSP, dashes, quotes, bullets, ellipsis
  }
  if (in(cp, 0x20D0, 0x20FF)) return ignorable();  // combining marks for symbols (keycap)
  if (in(cp, 0x24B6, 0x24CF)) return ascii_letter(static_cast<char>('A' + (cp - 0x24B6)));
  if (in(cp, 0x24D0, 0x24E9)) return ascii_letter(static_cast<char>('A' + (cp - 0x24D0)));
  if (cp <= 0x2BFF) return separator();  // super/subscripts, currency, arrows, math, dingbats
  if (in(cp, 0x2E00, 0x2E7F)) return separator();
  if (in(cp, 0x3000, 0x3004) || in(cp, 0x3008, 0x3020) || cp == 0x3030 || cp == 0x303D)
    return separator();
  if (in(cp, 0x302A, 0x302F) || in(cp, 0x3099, 0x309A)) return ignorable();
  if (in(cp, 0xE000, 0xF8FF)) return separator();  // private use (vendor logos)
  if (in(cp, 0xFDD0, 0xFDEF)) return separator();  // noncharacters
  if (in(cp, 0xFE00, 0xFE0F) || in(cp, 0xFE20, 0xFE2F) || cp == 0xFEFF) return ignorable();
  if (in(cp, 0xFE10, 0xFE1F) || in(cp, 0xFE30, 0xFE6F)) return separator();
  if (in(cp, 0xFF00, 0xFF65)) {
    // Fullwidth ASCII is ASCII shifted by 0xFEE0.
    return cp == 0xFF00 ? separator() : fold_ascii(cp - 0xFEE0);
  }
  if (in(cp, 0xFFE0, 0xFFFF)) return separator();
  return encoded_letter(cp);
}

folded fold_astral(char32_t cp) noexcept {
  if (in(cp, 0x1D400, 0x1D6A3)) {
    // Mathematical alphanumerics: 52-letter blocks (A-Z, a-z) in bold, italic, script ...
    const unsigned i = unsigned(cp - 0x1D400) % 52 % 26;
    return ascii_letter(static_cast<char>('A' + i));
  }
  if (cp == 0x1D6A4) return ascii_letter('I');
  if (cp == 0x1D6A5) return ascii_letter('J');
  if (in(cp, 0x1D7CE, 0x1D7FF)) return ascii_letter(static_cast<char>('0' + (cp - 0x1D7CE) % 10));
  if (in(cp, 0x1F000, 0x1FBFF)) return separator();  // emoji, flags, skin tones, symbols
  if (in(cp, 0xE0000, 0xE01EF)) return ignorable();  // tags, variation selectors supplement
  if (cp >= 0xF0000) return separator();             // supplementary private use
  if ((cp & 0xFFFE) == 0xFFFE) return separator();   // noncharacters
  return encoded_letter(cp);
}

}  // namespace

decoded decode_utf8(std::string_view text, std::size_t pos) noexcept {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t n = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return {};
  }
  if (text.size() - pos < n) return {};
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(text[pos + i]);
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return {};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, static_cast<std::uint8_t>(n), true};
}

folded fold_code_point(char32_t cp) noexcept {
  if (cp < 0x80) return fold_ascii(cp);
  if (cp < 0x300) return fold_latin(cp);
  if (cp < 0x2000) return fold_scripts(cp);
  if (cp < 0x10000) return fold_bmp_high(cp);
  if (cp <= 0x10FFFF) return fold_astral(cp);
  return separator();
}

folded word_scanner::fold_non_ascii(std::size_t& pos) const noexcept {
  const decoded d = decode_utf8(text_, pos);
  pos += d.size;
  if (!d.valid) return separator();
  return fold_code_point(d.cp);
}

}  // namespace stopgate::dnc::keywords::text_fold
