// A whole list load or change-list apply: read files, build the generation, refuse it when
// bad lines exceed the limit, publish it. Shared by `stopgatectl dnc` and the tests.
#pragma once

#include "dnc/lists/file.hpp"
#include "dnc/lists/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <vector>

namespace stopgate::dnc::lists {

enum class load_errc {
  too_many_bad_lines = 1,  // refused: bad lines above max_bad_percent; nothing changed
  no_numbers,              // refused: a full load that read no numbers; nothing changed
  file_error,              // a file could not be read (message in load_report::file_error)
};
const boost::system::error_category& load_category() noexcept;
inline boost::system::error_code make_error_code(load_errc e) noexcept {
  return {static_cast<int>(e), load_category()};
}

struct load_request {
  std::string list;
  std::vector<std::string> files;
  reader_options reader;
  bool apply = false;            // change list on the current generation (ftc-changes)
  double max_bad_percent = 0.1;  // of lines holding a number or a bad line
  std::string snapshot;          // YYYY-MM-DD
};

struct load_report {
  std::uint64_t lines = 0, numbers = 0, blank = 0, bad = 0, adds = 0, removes = 0;
  std::vector<std::pair<std::string, bad_line>> first_bad;  // (file, line), the first 20
  std::string file_error;                                   // "path: what" on file_error
  std::uint64_t npa_bitmaps = 0, sparse_members = 0;
  model::list_meta published;  // valid when the load succeeded
  double read_seconds = 0, publish_seconds = 0;
  double bad_percent() const noexcept {
    const auto n = numbers + bad;
    return n ? 100.0 * double(bad) / double(n) : 0.0;
  }
};

/// progress(bytes_done, bytes_total, numbers_read), called between batches.
using load_progress = std::function<void(std::uint64_t, std::uint64_t, std::uint64_t)>;

/// Runs the load. The returned report is filled as far as the load got; the error code says
/// why it stopped (load_errc, list_errc or a Redis error); on any error the list is unchanged.
boost::asio::awaitable<std::pair<boost::system::error_code, load_report>> async_load(
    list_store& store, const load_request& req, load_progress progress = {});

}  // namespace stopgate::dnc::lists

template <>
struct boost::system::is_error_code_enum<stopgate::dnc::lists::load_errc> : std::true_type {};
