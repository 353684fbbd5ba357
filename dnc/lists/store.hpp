// The DNC list store in Redis: writes generations of a list (full loads and change lists),
// switches the current-generation pointer atomically, announces it, frees the old one, and
// reads generations back for the in-process copy (list_mirror) and for status.
#pragma once

#include "dnc/model/list_generation.hpp"
#include "dnc/model/lists_snapshot.hpp"
#include "redis/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stopgate::dnc::lists {

enum class list_errc {
  bad_name = 1,  // a list name that cannot be used in keys
  locked,        // another load of the same list holds the lock
  no_such_list,  // apply/read of a list that has no current generation
  vanished,      // the generation was freed while being read (a newer one is current)
  redis_error,   // Redis answered with an error reply
  bad_data,      // a meta hash or member that is not what the store writes
  changed,       // a change list's base generation is no longer current
};
const boost::system::error_category& list_category() noexcept;
inline boost::system::error_code make_error_code(list_errc e) noexcept {
  return {static_cast<int>(e), list_category()};
}

/// Status of one list as `stopgatectl dnc status` shows it.
struct list_status {
  model::list_meta meta;
  std::uint64_t npa_bitmaps = 0;
  std::uint64_t sparse_members = 0;
  std::uint64_t redis_bytes = 0;  // MEMORY USAGE of its keys
};

/// Not thread-safe: use from the executor of its client. The client's command timeout must
/// allow multi-megabyte values (stopgatectl uses seconds, not the gateway's 200 ms).
class list_store {
 public:
  explicit list_store(redis::client& c) : redis_(c) {}

  /// Makes `built` the new current generation of `meta.name`. `base` is the generation a
  /// change list was applied to (its unchanged keys are reused), or null for a full load.
  /// On any failure the current generation is left as it was.
  boost::asio::awaitable<boost::system::result<model::list_meta>> async_publish(
      model::list_meta meta, model::list_builder::result built,
      const model::stored_generation* base);

  /// The current generation, fully read. `reuse` (the caller's previous copy) lends bitmaps
  /// whose key is unchanged. Fails with list_errc::vanished if a reload freed it meanwhile.
  boost::asio::awaitable<boost::system::result<model::stored_generation>> async_read(
      std::string_view name, const model::stored_generation* reuse = nullptr);

  /// Current generation number of each list (one pipeline); 0 when a list has none.
  boost::asio::awaitable<boost::system::result<std::vector<std::pair<std::string, std::uint64_t>>>>
  async_generations();

  /// Meta of the current generation, or nullopt when the list has none.
  boost::asio::awaitable<boost::system::result<std::optional<model::list_meta>>> async_meta(
      std::string_view name);

  boost::asio::awaitable<boost::system::result<std::vector<list_status>>> async_status();

  /// One membership test answered by Redis itself (the pointer, the meta's key, the bit, and
  /// the pointer again: answered only when it did not switch meanwhile, so never from a
  /// generation no longer current). For tools and lookups, not for the check path (which uses
  /// the in-process copy). list_errc::changed after five switches in a row.
  boost::asio::awaitable<boost::system::result<bool>> async_contains(std::string_view name,
                                                                     model::phone_number n);

 private:
  boost::asio::awaitable<boost::system::error_code> async_free(
      std::string_view name, std::uint64_t gen, const model::generation_layout* keep);
  boost::asio::awaitable<boost::system::result<redis::reply>> exec(redis::command_args args);

  redis::client& redis_;
};

/// Parses a meta hash (HGETALL reply) into meta and layout.
boost::system::result<std::pair<model::list_meta, model::generation_layout>> parse_meta(
    std::string_view name, const redis::reply& hgetall);

}  // namespace stopgate::dnc::lists

template <>
struct boost::system::is_error_code_enum<stopgate::dnc::lists::list_errc> : std::true_type {};
