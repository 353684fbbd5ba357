// Redis key schema of the DNC list store (docs/dev/ARCHITECTURE.md has the full table).
//
// A list's control keys share the hash tag {dnc:NAME} (one Redis Cluster slot: the pointer,
// the meta, the lock). Its data keys each have a tag of their own, so that on a cluster a
// list's up to 1,000 bitmaps of 1.25 MB spread over the slots and shards instead of filling
// one. A generation G is:
//   {dnc:NAME}:gen:G          hash   meta: count, snapshot, loaded_at, source, state,
//                                    npa:NNN -> bitmap key, sparse -> set key
//   {dnc:NAME:g:G:npa:NNN}    string 1,250,000-byte bitmap of area code NNN
//   {dnc:NAME:g:G:sparse}     set    E.164 digits of thin area codes and non-NANP numbers
// Readers follow the key names the meta holds (so generations written with the older
// {dnc:NAME}:g:G:... names read as before). Data keys are never rewritten: a generation's
// keys are written before the pointer names it and freed after the pointer moved on, so a
// reader that finds one missing knows the pointer moved and reads again (list_errc::vanished):
// never a mix of two generations.
// and the list itself:
//   {dnc:NAME}:current        string the current generation number (the atomic pointer)
//   {dnc:NAME}:next           string generation counter (INCR)
//   {dnc:NAME}:pending        string a generation being written (cleaned up if abandoned)
//   {dnc:NAME}:lock           string load lock (SET NX PX, token)
//   stopgate:dnc:lists        set    names of all lists
// Announcements: PUBLISH stopgate:dnc:generation "NAME G".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace stopgate::dnc::lists::list_keys {

inline constexpr std::string_view lists = "stopgate:dnc:lists";
inline constexpr std::string_view channel = "stopgate:dnc:generation";

inline std::string tag(std::string_view list) {
  return "{dnc:" + std::string(list) + "}";
}
inline std::string current(std::string_view list) {
  return tag(list) + ":current";
}
inline std::string next(std::string_view list) {
  return tag(list) + ":next";
}
inline std::string pending(std::string_view list) {
  return tag(list) + ":pending";
}
inline std::string lock(std::string_view list) {
  return tag(list) + ":lock";
}
inline std::string meta_prefix(std::string_view list) {
  return tag(list) + ":gen:";
}
inline std::string meta(std::string_view list, std::uint64_t gen) {
  return meta_prefix(list) + std::to_string(gen);
}
inline std::string npa(std::string_view list, std::uint64_t gen, unsigned npa) {
  std::string k = "{dnc:" + std::string(list) + ":g:" + std::to_string(gen) + ":npa:";
  k += char('0' + npa / 100);
  k += char('0' + npa / 10 % 10);
  k += char('0' + npa % 10);
  return k + "}";
}
inline std::string sparse(std::string_view list, std::uint64_t gen) {
  return "{dnc:" + std::string(list) + ":g:" + std::to_string(gen) + ":sparse}";
}
/// Meta hash field naming the bitmap key of an area code: "npa:415".
inline std::string npa_field(unsigned npa) {
  std::string f = "npa:";
  f += char('0' + npa / 100);
  f += char('0' + npa / 10 % 10);
  f += char('0' + npa % 10);
  return f;
}

/// List names are used inside keys and hash tags: letters, digits, ':', '_', '-', 1..64.
bool valid_list_name(std::string_view name) noexcept;

}  // namespace stopgate::dnc::lists::list_keys
