// The inbound keyword classifier (SPEC section 6, docs/KEYWORDS.md): one table row per body a
// consumer might send, classified with the default lists in fcc2024 and strict mode, plus
// normalisation, configuration errors, per-sender lists and pathological bodies.
#include "dnc/keywords/classifier.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace stopgate::dnc::keywords {
namespace {

constexpr auto O = keyword_class::opt_out;
constexpr auto A = keyword_class::opt_out_all;
constexpr auto I = keyword_class::opt_in;
constexpr auto H = keyword_class::help;
constexpr auto X = keyword_class::other;
constexpr auto E = match_kind::exact;
constexpr auto P = match_kind::phrase;
constexpr auto N = match_kind::none;

struct row {
  std::string_view body;
  keyword_class cls;
  match_kind kind;
  std::string_view matched;
};

void PrintTo(const row& r, std::ostream* os) {
  *os << '"' << r.body << "\" -> " << to_string(r.cls) << '/' << to_string(r.kind) << " \""
      << r.matched << '"';
}

// Default lists, fcc2024 mode.
const row fcc2024_rows[] = {
    // Case variants of every default keyword.
    {"STOP", O, E, "STOP"},
    {"stop", O, E, "STOP"},
    {"Stop", O, E, "STOP"},
    {"sToP", O, E, "STOP"},
    {"STOPALL", A, E, "STOPALL"},
    {"stopall", A, E, "STOPALL"},
    {"StopAll", A, E, "STOPALL"},
    {"Stop All", A, E, "STOP ALL"},
    {"END", O, E, "END"},
    {"end", O, E, "END"},
    {"Quit", O, E, "QUIT"},
    {"cancel", O, E, "CANCEL"},
    {"UnSubscribe", O, E, "UNSUBSCRIBE"},
    {"revoke", O, E, "REVOKE"},
    {"optout", O, E, "OPTOUT"},
    {"opt out", O, E, "OPT OUT"},
    {"remove", O, E, "REMOVE"},
    {"arret", O, E, "ARRET"},
    {"parar", O, E, "PARAR"},
    {"alto", O, E, "ALTO"},
    {"baja", O, E, "BAJA"},
    {"cancelar", O, E, "CANCELAR"},
    {"START", I, E, "START"},
    {"start", I, E, "START"},
    {"Unstop", I, E, "UNSTOP"},
    {"yes", I, E, "YES"},
    {"subscribe", I, E, "SUBSCRIBE"},
    {"HELP", H, E, "HELP"},
    {"Info", H, E, "INFO"},
    {"ayuda", H, E, "AYUDA"},
    // Inner whitespace and punctuation between the words of a multi-word keyword.
    {"stop   all", A, E, "STOP ALL"},
    {"STOP\tALL", A, E, "STOP ALL"},
    {"stop\nall", A, E, "STOP ALL"},
    {"stop\r\nall", A, E, "STOP ALL"},
    {"stop\u00A0all", A, E, "STOP ALL"},
    {"stop\u2003all", A, E, "STOP ALL"},
    {"stop-all", A, E, "STOP ALL"},
    {"stop.all", A, E, "STOP ALL"},
    {"STOP, ALL", A, E, "STOP ALL"},
    {"Opt-Out", O, E, "OPT OUT"},
    {"OPT_OUT", O, E, "OPT OUT"},
    {"opt   out", O, E, "OPT OUT"},
    {"OPT\nOUT", O, E, "OPT OUT"},
    {"Opt\u00A0out", O, E, "OPT OUT"},
    // Punctuation, quotes, whitespace and emoji around the body.
    {"STOP!", O, E, "STOP"},
    {"STOP.", O, E, "STOP"},
    {"stop!!!", O, E, "STOP"},
    {"stop?", O, E, "STOP"},
    {"\"Stop.\"", O, E, "STOP"},
    {"'stop'", O, E, "STOP"},
    {"(stop)", O, E, "STOP"},
    {"[STOP]", O, E, "STOP"},
    {"*stop*", O, E, "STOP"},
    {"...stop...", O, E, "STOP"},
    {"#stop", O, E, "STOP"},
    {"stop :)", O, E, "STOP"},
    {"\u201CStop\u201D", O, E, "STOP"},
    {"\u2018stop\u2019", O, E, "STOP"},
    {"\u00ABarr\u00EAt\u00BB", O, E, "ARRET"},
    {"\u00A1Alto!", O, E, "ALTO"},
    {"\u00BFAyuda?", H, E, "AYUDA"},
    {"  stop  ", O, E, "STOP"},
    {"\tSTOP\r\n", O, E, "STOP"},
    {"\u3000STOP\u3000", O, E, "STOP"},
    {"\uFEFFSTOP", O, E, "STOP"},
    {"STOP\u200B", O, E, "STOP"},
    {"\u200ESTOP\u200F", O, E, "STOP"},
    {"🛑 stop 🛑", O, E, "STOP"},
    {"🛑stop🛑", O, E, "STOP"},
    {"STOP 👍🏽", O, E, "STOP"},
    {"✋ STOP", O, E, "STOP"},
    {"stop ❤️", O, E, "STOP"},
    {"👨‍👩‍👧 stop", O, E, "STOP"},
    {"🇺🇸 STOP 🇺🇸", O, E, "STOP"},
    {"stop 🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑🛑", O, E,
     "STOP"},
    {"STOP ALL!!!", A, E, "STOP ALL"},
    {"stop all 🛑", A, E, "STOP ALL"},
    {"STOPALL!", A, E, "STOPALL"},
    {"YES!", I, E, "YES"},
    {"Yes.", I, E, "YES"},
    {"help?", H, E, "HELP"},
    {"end.", O, E, "END"},
    {"OPTOUT!", O, E, "OPTOUT"},
    // A keycap digit is a digit, so it is a word.
    {"STOP 1\uFE0F\u20E3", O, P, "STOP"},
    // Accents, precomposed and decomposed.
    {"Arr\u00EAt", O, E, "ARRET"},
    {"ARR\u00CAT", O, E, "ARRET"},
    {"arr\u00EAt!", O, E, "ARRET"},
    {"Arre\u0302t", O, E, "ARRET"},
    {"par\u00E1r", O, E, "PARAR"},
    {"par\u00E1r?", O, E, "PARAR"},
    {"C\u00C0NCEL", O, E, "CANCEL"},
    {"\u00C9ND", O, E, "END"},
    {"st\u00F6p", O, E, "STOP"},
    {"St\u014Dp", O, E, "STOP"},
    {"\u0160TOP", O, E, "STOP"},
    {"Qu\u00EDt", O, E, "QUIT"},
    {"b\u00E1ja", O, E, "BAJA"},
    {"AY\u00DADA", H, E, "AYUDA"},
    {"Cancelaci\u00F3n", X, N, ""},
    {"S\u00ED", X, N, ""},
    // Fullwidth, circled and mathematical letters.
    {"\uFF33\uFF34\uFF2F\uFF30", O, E, "STOP"},
    {"\uFF53\uFF54\uFF4F\uFF50", O, E, "STOP"},
    {"\uFF33\uFF34\uFF2F\uFF30\uFF01", O, E, "STOP"},
    {"\u24C8\u24C9\u24C4\u24C5", O, E, "STOP"},
    {"𝐒𝐓𝐎𝐏", O, E, "STOP"},
    {"𝘀𝘁𝗼𝗽", O, E, "STOP"},
    // Letters split by spaces or punctuation are separate words, not the keyword.
    {"S T O P", X, N, ""},
    {"S.T.O.P.", X, N, ""},
    {"ST OP", X, N, ""},
    {"s-t-o-p", X, N, ""},
    {"STO P", X, N, ""},
    // Whole words only.
    {"stopping", X, N, ""},
    {"nonstop", X, N, ""},
    {"unstoppable", X, N, ""},
    {"cancellation", X, N, ""},
    {"STOPS", X, N, ""},
    {"stopped", X, N, ""},
    {"endless", X, N, ""},
    {"weekend", X, N, ""},
    {"backend", X, N, ""},
    {"quite", X, N, ""},
    {"removed", X, N, ""},
    {"helpful", X, N, ""},
    {"information", X, N, ""},
    {"yesterday", X, N, ""},
    {"startup", X, N, ""},
    {"STOP2", X, N, ""},
    {"2STOP", X, N, ""},
    {"please unstop", X, N, ""},
    // fcc2024 phrases: short bodies containing an opt-out keyword or phrase.
    {"please stop texting me", O, P, "STOP TEXTING"},
    {"opt me out", O, P, "OPT ME OUT"},
    {"Please opt me out!", O, P, "OPT ME OUT"},
    {"stop!!! please", O, P, "STOP"},
    {"STOP PLEASE", O, P, "STOP"},
    {"Please, STOP.", O, P, "STOP"},
    {"Stop, thank you", O, P, "STOP"},
    {"STOP STOP STOP", O, P, "STOP"},
    {"don't stop", O, P, "STOP"},
    {"remove me from your list", O, P, "REMOVE ME"},
    {"unsubscribe me", O, P, "UNSUBSCRIBE ME"},
    {"Do not text me again", O, P, "DO NOT TEXT"},
    {"Don't text me", O, P, "DONT TEXT"},
    {"Don\u2019t text me", O, P, "DONT TEXT"},
    {"take me off your list", O, P, "TAKE ME OFF"},
    {"no m\u00E1s", O, P, "NO MAS"},
    {"No m\u00E1s mensajes", O, P, "NO MAS"},
    {"wrong number", O, P, "WRONG NUMBER"},
    {"UNSUB", O, P, "UNSUB"},
    {"I want to opt out", O, P, "OPT OUT"},
    {"opt-out please", O, P, "OPT OUT"},
    {"cancel my subscription", O, P, "CANCEL"},
    {"arr\u00EAt s'il vous pla\u00EEt", O, P, "ARRET"},
    {"Hola, alto por favor", O, P, "ALTO"},
    {"baja por favor", O, P, "BAJA"},
    {"quit it", O, P, "QUIT"},
    {"I quit", O, P, "QUIT"},
    {"The end", O, P, "END"},
    {"leave me alone", O, P, "LEAVE ME ALONE"},
    // Opt-out beats everything else in the body ("when in doubt, honour the opt-out").
    {"STOP START", O, P, "STOP"},
    {"START STOP", O, P, "STOP"},
    {"yes stop", O, P, "STOP"},
    {"stop help", O, P, "STOP"},
    {"help stop", O, P, "STOP"},
    // Opt-out-all beats opt-out, wherever it is in the body.
    {"please stop all messages", A, P, "STOP ALL"},
    {"stop all now please", A, P, "STOP ALL"},
    {"stop and stop all", A, P, "STOP ALL"},
    {"STOP ALL STOP ALL", A, P, "STOP ALL"},
    {"stopall please", A, P, "STOPALL"},
    // The word limit (8): a longer body containing STOP is other.
    {"stop texting me right now ok thanks", O, P, "STOP TEXTING"},
    {"1 2 3 4 5 6 7 stop", O, P, "STOP"},
    {"one two three four five six seven stop", O, P, "STOP"},
    {"1 2 3 4 5 6 7 8 stop", X, N, ""},
    {"please please please please please please please please stop", X, N, ""},
    {"hello this is a very long message that says stop in it", X, N, ""},
    {"stop 🛑 🛑 🛑 🛑 🛑 🛑 🛑 🛑 🛑 🛑 please", O, P, "STOP"},
    // Opt-in and help are exact only.
    {"yes please", X, N, ""},
    {"YES YES", X, N, ""},
    {"help me", X, N, ""},
    {"I need help", X, N, ""},
    {"start again", X, N, ""},
    {"more info", X, N, ""},
    {"yes i want to subscribe", X, N, ""},
    // Nothing to match, garbage, and invalid UTF-8 (invalid bytes separate words).
    {"", X, N, ""},
    {"   ", X, N, ""},
    {"🛑", X, N, ""},
    {"!!!", X, N, ""},
    {"hello", X, N, ""},
    {"ok", X, N, ""},
    {"thanks", X, N, ""},
    {"\xff\xfe", X, N, ""},
    {"\xffSTOP\xff", O, E, "STOP"},
    {"ST\xffOP", X, N, ""},
    {"\xc3", X, N, ""},
    {"STOP\xc3", O, E, "STOP"},
    {"\xed\xa0\x80STOP", O, E, "STOP"},
    {"\xc0\xafSTOP", O, E, "STOP"},
    {"\xf4\x90\x80\x80STOP", O, E, "STOP"},
    {"\xe2\x82STOP", O, E, "STOP"},
};

// Default lists, strict mode: exact matches only.
const row strict_rows[] = {
    {"STOP", O, E, "STOP"},
    {"stop!", O, E, "STOP"},
    {"STOP ALL", A, E, "STOP ALL"},
    {"stop   all", A, E, "STOP ALL"},
    {"Arr\u00EAt", O, E, "ARRET"},
    {"yes", I, E, "YES"},
    {"help", H, E, "HELP"},
    {"🛑 stop 🛑", O, E, "STOP"},
    {"opt-out", O, E, "OPT OUT"},
    {"please stop", X, N, ""},
    {"opt me out", X, N, ""},
    {"remove me", X, N, ""},
    {"STOP START", X, N, ""},
    {"stop please", X, N, ""},
    {"please stop all messages", X, N, ""},
    {"UNSUB", X, N, ""},
    {"no m\u00E1s", X, N, ""},
    {"S T O P", X, N, ""},
};

keyword_classifier make_or_die(const keyword_options& o) {
  auto c = keyword_classifier::make(o);
  if (!c) {
    ADD_FAILURE() << c.error().message();
    return make_or_die(keyword_options{});
  }
  return std::move(*c);
}

const keyword_classifier& fcc2024_defaults() {
  static const keyword_classifier c = make_or_die(keyword_options::defaults());
  return c;
}

const keyword_classifier& strict_defaults() {
  static const keyword_classifier c = [] {
    auto o = keyword_options::defaults();
    o.mode = keyword_mode::strict;
    return make_or_die(o);
  }();
  return c;
}

void expect_row(const keyword_classifier& c, const row& r) {
  const keyword_result got = c.classify(r.body);
  EXPECT_EQ(to_string(got.cls), to_string(r.cls));
  EXPECT_EQ(to_string(got.kind), to_string(r.kind));
  EXPECT_EQ(got.matched, r.matched);
  // The normalised body classifies the same way as the raw one.
  EXPECT_EQ(c.classify(normalize_body(r.body)), got) << normalize_body(r.body);
}

class KeywordFcc2024Table : public ::testing::TestWithParam<row> {};
TEST_P(KeywordFcc2024Table, Classifies) {
  expect_row(fcc2024_defaults(), GetParam());
}
INSTANTIATE_TEST_SUITE_P(Rows, KeywordFcc2024Table, ::testing::ValuesIn(fcc2024_rows));

class KeywordStrictTable : public ::testing::TestWithParam<row> {};
TEST_P(KeywordStrictTable, Classifies) {
  expect_row(strict_defaults(), GetParam());
}
INSTANTIATE_TEST_SUITE_P(Rows, KeywordStrictTable, ::testing::ValuesIn(strict_rows));

TEST(KeywordTable, HasAtLeast150Rows) {
  EXPECT_GE(std::size(fcc2024_rows) + std::size(strict_rows), 150u);
}

TEST(KeywordTable, StrictAgreesWithFcc2024OnEveryExactMatch) {
  for (const row& r : fcc2024_rows) {
    const auto strict = strict_defaults().classify(r.body);
    if (r.kind == E) {
      EXPECT_EQ(strict, fcc2024_defaults().classify(r.body)) << r.body;
    } else {
      EXPECT_EQ(strict.cls, X) << r.body;
    }
  }
}

struct norm_row {
  std::string_view in;
  std::string_view out;
};

TEST(KeywordNormalize, Examples) {
  const norm_row rows[] = {
      {"  \u00A1Arr\u00EAt!!! 🛑 ", "ARRET"},
      {"stop!!! please", "STOP PLEASE"},
      {"", ""},
      {" \t\r\n", ""},
      {"Cancelaci\u00F3n", "CANCELACION"},
      {"\u00F1", "N"},
      {"Stra\u00DFe", "STRASSE"},
      {"\u0152uvre", "OEUVRE"},
      {"\u0132ssel", "IJSSEL"},
      {"\u00DE\u00F3r", "THOR"},
      {"\u00C6\u00D8\u00C5", "AEOA"},
      {"\u00E0\u00E1\u00E2\u00E3\u00E4\u00E5\u00E7\u00E8\u00E9\u00EA\u00EB\u00EC\u00ED\u00EE\u00EF",
       "AAAAAACEEEEIIII"},
      {"\u00F0\u00F2\u00F3\u00F4\u00F5\u00F6\u00F8\u00F9\u00FA\u00FB\u00FC\u00FD\u00FF",
       "DOOOOOOUUUUYY"},
      {"\u0105\u0107\u010D\u0111\u0119\u011B\u011F\u0131\u0142\u0144\u0148\u0151\u0159\u015B\u015F"
       "\u0161\u0163\u0165\u016F\u0171\u017A\u017C\u017E\u017F",
       "ACCDEEGILNNORSSSTTUUZZZS"},
      {"\u0219\u021B", "ST"},
      {"5 \u00D7 3 \u00F7 2", "5 3 2"},
      {"don't", "DONT"},
      {"don''t", "DON T"},
      {"'quoted'", "QUOTED"},
      {"rock'n'roll", "ROCKNROLL"},
      {"a\u00A0\t\n b", "A B"},
      {"\uFF33\uFF34\uFF2F\uFF30\u3000\uFF21\uFF2C\uFF2C", "STOP ALL"},
      {"\uFF11\uFF12\uFF13", "123"},
      {"\u0441\u0442\u043E\u043F", "\u0421\u0422\u041E\u041F"},
      {"\u03C3\u03C4\u03BF\u03C0 \u03C2", "\u03A3\u03A4\u039F\u03A0 \u03A3"},
      {"\xff\xfe", ""},
      {"a\xff"
       "b",
       "A B"},
      {"STOP1", "STOP1"},
      {"e\u0301", "E"},
      {"\u0301", ""},
      {"ZW\u200DJ", "ZWJ"},
      {"\u65E5\u672C\u8A9E stop", "\u65E5\u672C\u8A9E STOP"},
      {"sto\u00ADp", "STOP"},
  };
  for (const auto& r : rows) {
    const std::string got = normalize_body(r.in);
    EXPECT_EQ(got, r.out) << "input: " << r.in;
    EXPECT_EQ(normalize_body(got), got) << "normalisation is idempotent";
  }
}

TEST(KeywordNames, MatchSpecSpellings) {
  EXPECT_EQ(to_string(keyword_class::opt_out_all), "opt_out_all");
  EXPECT_EQ(to_string(keyword_class::opt_out), "opt_out");
  EXPECT_EQ(to_string(keyword_class::opt_in), "opt_in");
  EXPECT_EQ(to_string(keyword_class::help), "help");
  EXPECT_EQ(to_string(keyword_class::other), "other");
  EXPECT_EQ(to_string(match_kind::exact), "exact");
  EXPECT_EQ(to_string(match_kind::phrase), "phrase");
  EXPECT_EQ(to_string(match_kind::none), "none");
  EXPECT_EQ(to_string(keyword_mode::fcc2024), "fcc2024");
  EXPECT_EQ(to_string(keyword_mode::strict), "strict");
}

// --- configuration -------------------------------------------------------------------------

keyword_error make_error(const keyword_options& o) {
  auto c = keyword_classifier::make(o);
  EXPECT_FALSE(c.has_value());
  return c ? keyword_error{} : c.error();
}

TEST(KeywordOptions, RejectsEntryWithoutLettersNamingIt) {
  auto o = keyword_options::defaults();
  o.opt_out.push_back("🛑");
  const auto e = make_error(o);
  EXPECT_EQ(e.code, keyword_errc::empty_keyword);
  EXPECT_EQ(e.list, "opt_out");
  EXPECT_EQ(e.index, 14);
  EXPECT_EQ(e.message(), "opt_out[14] \"🛑\": keyword has no letters or digits");
}

TEST(KeywordOptions, RejectsEmptyString) {
  keyword_options o;
  o.help = {"HELP", ""};
  const auto e = make_error(o);
  EXPECT_EQ(e.code, keyword_errc::empty_keyword);
  EXPECT_EQ(e.list, "help");
  EXPECT_EQ(e.index, 1);
}

TEST(KeywordOptions, RejectsInvalidUtf8) {
  keyword_options o;
  o.opt_in = {
      "ST\xff"
      "ART"};
  EXPECT_EQ(make_error(o).code, keyword_errc::invalid_utf8);
}

TEST(KeywordOptions, RejectsKeywordInTwoClasses) {
  auto o = keyword_options::defaults();
  o.help.push_back("end");
  auto e = make_error(o);
  EXPECT_EQ(e.code, keyword_errc::conflicting_keyword);
  EXPECT_EQ(e.list, "help");
  EXPECT_EQ(e.entry, "end");

  o = keyword_options::defaults();
  o.opt_out_phrases.push_back("yes");
  e = make_error(o);
  EXPECT_EQ(e.code, keyword_errc::conflicting_keyword);
  EXPECT_EQ(e.list, "opt_out_phrases");

  o = keyword_options::defaults();
  o.opt_out.push_back("Stop-All");
  EXPECT_EQ(make_error(o).code, keyword_errc::conflicting_keyword);
}

TEST(KeywordOptions, RejectsOutOfRangeSizes) {
  keyword_options o;
  o.phrase_max_words = 0;
  auto e = make_error(o);
  EXPECT_EQ(e.code, keyword_errc::bad_phrase_max_words);
  EXPECT_EQ(e.list, "phrase_max_words");
  o.phrase_max_words = max_phrase_max_words + 1;
  EXPECT_EQ(make_error(o).code, keyword_errc::bad_phrase_max_words);

  o = keyword_options{};
  o.opt_out = {"a b c d e f g h i j k l m n o p q"};
  EXPECT_EQ(make_error(o).code, keyword_errc::too_many_words);

  o = keyword_options{};
  o.opt_out = {std::string(max_keyword_word_bytes + 1, 'x')};
  EXPECT_EQ(make_error(o).code, keyword_errc::word_too_long);

  o = keyword_options{};
  for (std::size_t i = 0; i <= max_keywords_per_list; ++i)
    o.help.push_back("H" + std::to_string(i));
  EXPECT_EQ(make_error(o).code, keyword_errc::too_many_keywords);
}

TEST(KeywordOptions, ValueThrowsSystemErrorWithEntry) {
  keyword_options o;
  o.opt_out = {"!!"};
  auto c = keyword_classifier::make(o);
  try {
    (void)c.value();
    FAIL() << "value() of an error must throw";
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), keyword_errc::empty_keyword);
    EXPECT_NE(std::string(e.what()).find("opt_out[0] \"!!\""), std::string::npos) << e.what();
  }
}

TEST(KeywordOptions, MergesDuplicatesSoListsCanBeConcatenated) {
  auto o = keyword_options::defaults();
  const auto d = keyword_options::defaults();
  o.opt_out.insert(o.opt_out.end(), d.opt_out.begin(), d.opt_out.end());
  o.opt_out.push_back("s t o p");  // a different keyword: four one-letter words
  o.opt_out.push_back("Stop!");
  o.opt_out_phrases.push_back("stop");
  o.opt_out_phrases.push_back("OPT ME OUT");
  const auto c = make_or_die(o);
  EXPECT_EQ(c.classify("stop"), (keyword_result{O, E, "STOP"}));
  EXPECT_EQ(c.classify("s t o p"), (keyword_result{O, E, "S T O P"}));
  EXPECT_EQ(c.classify("opt me out"), (keyword_result{O, P, "OPT ME OUT"}));
}

// --- per-sender lists ----------------------------------------------------------------------

TEST(KeywordSender, CustomListsReplaceDefaults) {
  keyword_options o;  // a sender that configured only these
  o.opt_out = {"STOP", "Désabonner"};
  o.opt_out_all = {"stop everything"};
  o.opt_in = {"Yes please", "OUI"};
  o.help = {"AIDE", "need help"};
  const auto c = make_or_die(o);
  EXPECT_EQ(c.classify("D\u00C9SABONNER"), (keyword_result{O, E, "DESABONNER"}));
  EXPECT_EQ(c.classify("desabonner svp"), (keyword_result{O, P, "DESABONNER"}));
  EXPECT_EQ(c.classify("please stop everything"), (keyword_result{A, P, "STOP EVERYTHING"}));
  EXPECT_EQ(c.classify("yes, please!"), (keyword_result{I, E, "YES PLEASE"}));
  EXPECT_EQ(c.classify("oui"), (keyword_result{I, E, "OUI"}));
  EXPECT_EQ(c.classify("Aide?"), (keyword_result{H, E, "AIDE"}));
  EXPECT_EQ(c.classify("need   help"), (keyword_result{H, E, "NEED HELP"}));
  // Default keywords this sender did not configure are ordinary words.
  EXPECT_EQ(c.classify("END").cls, X);
  EXPECT_EQ(c.classify("STOPALL").cls, X);
  EXPECT_EQ(c.classify("yes").cls, X);
  EXPECT_EQ(c.classify("HELP").cls, X);
  // No default phrases either.
  EXPECT_EQ(c.classify("opt me out").cls, X);
}

TEST(KeywordSender, SpanishAndFrenchAdditionsOnTopOfDefaults) {
  auto o = keyword_options::defaults();
  o.opt_out.insert(o.opt_out.end(), {"DETENER", "Désinscrire", "ANNULER"});
  o.opt_out_phrases.insert(o.opt_out_phrases.end(), {"no me envíes", "ne plus recevoir"});
  o.opt_in.insert(o.opt_in.end(), {"SÍ", "OUI"});
  o.help.insert(o.help.end(), {"AIDE"});
  const auto c = make_or_die(o);
  EXPECT_EQ(c.classify("¡Detener!"), (keyword_result{O, E, "DETENER"}));
  EXPECT_EQ(c.classify("désinscrire"), (keyword_result{O, E, "DESINSCRIRE"}));
  EXPECT_EQ(c.classify("Annuler s'il vous plaît"), (keyword_result{O, P, "ANNULER"}));
  EXPECT_EQ(c.classify("Por favor no me envíes más"), (keyword_result{O, P, "NO ME ENVIES"}));
  EXPECT_EQ(c.classify("je veux ne plus recevoir"), (keyword_result{O, P, "NE PLUS RECEVOIR"}));
  EXPECT_EQ(c.classify("Sí"), (keyword_result{I, E, "SI"}));
  EXPECT_EQ(c.classify("si"), (keyword_result{I, E, "SI"}));
  EXPECT_EQ(c.classify("aide"), (keyword_result{H, E, "AIDE"}));
  EXPECT_EQ(c.classify("STOP"), (keyword_result{O, E, "STOP"}));  // defaults kept
}

TEST(KeywordSender, NonLatinKeywords) {
  keyword_options o;
  o.opt_out = {"\u0441\u0442\u043E\u043F", "\u505C\u6B62"};  // стоп, 停止
  const auto c = make_or_die(o);
  EXPECT_EQ(c.classify("\u0421\u0422\u041E\u041F!").cls, O);  // СТОП!
  EXPECT_EQ(c.classify("\u505C\u6B62\u3002").cls, O);         // 停止。
  EXPECT_EQ(c.classify("\u0441\u0442\u043E\u043F\u0430").cls, X);
}

TEST(KeywordSender, PhraseMaxWordsIsConfigurable) {
  auto o = keyword_options::defaults();
  o.phrase_max_words = 3;
  const auto c = make_or_die(o);
  EXPECT_EQ(c.classify("please stop now"), (keyword_result{O, P, "STOP"}));
  EXPECT_EQ(c.classify("please stop texting me").cls, X);
  EXPECT_EQ(c.classify("stop").cls, O);

  o.phrase_max_words = 1;  // the default phrases longer than this are inert, not errors
  const auto one = make_or_die(o);
  EXPECT_EQ(one.classify("UNSUB"), (keyword_result{O, P, "UNSUB"}));
  EXPECT_EQ(one.classify("stop please").cls, X);
  EXPECT_EQ(one.classify("opt me out").cls, X);
}

TEST(KeywordSender, ExactOptInBeatsPhraseOptOut) {
  auto o = keyword_options::defaults();
  o.opt_in.push_back("DONT STOP");
  const auto c = make_or_die(o);
  EXPECT_EQ(c.classify("don't stop!"), (keyword_result{I, E, "DONT STOP"}));
  EXPECT_EQ(c.classify("please don't stop").cls, O);
}

TEST(KeywordSender, LongKeywordsStillMatchExactlyBeyondPhraseLimit) {
  keyword_options o;
  o.phrase_max_words = 2;
  o.opt_out = {"please remove my number from your list"};
  const auto c = make_or_die(o);
  EXPECT_EQ(c.classify("Please remove my number from your list.").kind, E);
  EXPECT_EQ(c.classify("Please remove my number from your list now").cls, X);
}

// --- pathological bodies -------------------------------------------------------------------

TEST(KeywordBodies, VeryLongBodies) {
  const auto& c = fcc2024_defaults();
  std::string padded = std::string(1 << 20, ' ') + "STOP" + std::string(1 << 20, '!');
  EXPECT_EQ(c.classify(padded), (keyword_result{O, E, "STOP"}));

  std::string words;
  for (int i = 0; i < 100000; ++i) words += "stop ";
  EXPECT_EQ(c.classify(words).cls, X);

  std::string one_word(1 << 20, 'S');
  EXPECT_EQ(c.classify(one_word).cls, X);
  EXPECT_EQ(c.classify(one_word + " stop"), (keyword_result{O, P, "STOP"}));

  std::string emoji;
  for (int i = 0; i < 100000; ++i) emoji += "🛑";
  EXPECT_EQ(c.classify(emoji + "stop" + emoji), (keyword_result{O, E, "STOP"}));

  std::string invalid(1 << 20, '\xff');
  EXPECT_EQ(c.classify(invalid).cls, X);
  EXPECT_EQ(c.classify(invalid + "help" + invalid), (keyword_result{H, E, "HELP"}));
}

TEST(KeywordBodies, EmbeddedNulIsASeparator) {
  const std::string body("stop\0all", 8);
  EXPECT_EQ(fcc2024_defaults().classify(body), (keyword_result{A, E, "STOP ALL"}));
}

TEST(KeywordBodies, ClassifyIsSafeFromManyThreads) {
  const auto& c = fcc2024_defaults();
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, &wrong, t] {
      for (int i = 0; i < 2000; ++i) {
        const row& r = fcc2024_rows[(i * 7 + t) % std::size(fcc2024_rows)];
        const auto got = c.classify(r.body);
        if (got.cls != r.cls || got.kind != r.kind || got.matched != r.matched) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int w : wrong) EXPECT_EQ(w, 0);
}

}  // namespace
}  // namespace stopgate::dnc::keywords
