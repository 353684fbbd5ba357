#include "dnc/lists/loader.hpp"

#include <chrono>
#include <filesystem>
#include <optional>

namespace stopgate::dnc::lists {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

class load_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "stopgate.load"; }
  std::string message(int ev) const override {
    switch (static_cast<load_errc>(ev)) {
      case load_errc::too_many_bad_lines:
        return "too many bad lines; the list is unchanged";
      case load_errc::no_numbers:
        return "no numbers read; the list is unchanged";
      case load_errc::file_error:
        return "a file could not be read; the list is unchanged";
    }
    return "unknown load error";
  }
};

// Reads every file into the builder. Returns false on an I/O error (report.file_error says).
bool read_files(const load_request& req, model::list_builder& builder, load_report& rep,
                const load_progress& progress) {
  std::uint64_t total_bytes = 0, done_bytes = 0;
  for (auto& f : req.files) {
    std::error_code ec;
    auto sz = std::filesystem::file_size(f, ec);
    if (!ec) total_bytes += sz;
  }
  std::vector<entry> batch;
  for (auto& f : req.files) {
    auto reader = dnc_file_reader::open(f, req.reader);
    if (!reader) {
      rep.file_error = f + ": " + reader.error().message();
      return false;
    }
    for (;;) {
      auto more = reader->next_batch(batch);
      if (!more) {
        // The reader's own message names the column, line or gzip problem.
        rep.file_error = reader->error_message().empty() ? f + ": " + more.error().message()
                                                         : reader->error_message();
        return false;
      }
      for (const auto& e : batch) {
        if (e.op == change_op::add) {
          builder.add(e.number);
          ++rep.adds;
        } else {
          builder.remove(e.number);
          ++rep.removes;
        }
      }
      if (progress)
        progress(done_bytes + reader->stats().bytes_in, total_bytes,
                 rep.numbers + reader->stats().numbers);
      if (!*more) break;
    }
    const auto& s = reader->stats();
    rep.lines += s.lines;
    rep.numbers += s.numbers;
    rep.blank += s.blank;
    rep.bad += s.bad;
    done_bytes += s.bytes_in;
    for (auto& b : s.first_bad)
      if (rep.first_bad.size() < 20) rep.first_bad.emplace_back(f, b);
  }
  return true;
}

}  // namespace

const boost::system::error_category& load_category() noexcept {
  static const load_category_impl cat;
  return cat;
}

asio::awaitable<std::pair<error_code, load_report>> async_load(list_store& store,
                                                               const load_request& req,
                                                               load_progress progress) {
  load_report rep;
  std::optional<model::stored_generation> base;
  if (req.apply) {
    auto cur = co_await store.async_read(req.list);
    if (!cur) co_return std::pair{cur.error(), std::move(rep)};
    base = std::move(*cur);
  }
  auto builder = base ? model::list_builder(*base->data) : model::list_builder();
  const auto t0 = std::chrono::steady_clock::now();
  if (!read_files(req, builder, rep, progress))
    co_return std::pair{make_error_code(load_errc::file_error), std::move(rep)};
  if (rep.bad_percent() > req.max_bad_percent)
    co_return std::pair{make_error_code(load_errc::too_many_bad_lines), std::move(rep)};
  if (!req.apply && rep.numbers == 0)
    co_return std::pair{make_error_code(load_errc::no_numbers), std::move(rep)};

  model::list_meta meta;
  meta.name = req.list;
  meta.snapshot = req.snapshot;
  for (auto& f : req.files) {
    if (!meta.source.empty()) meta.source += ",";
    meta.source += std::filesystem::path(f).filename().string();
  }
  auto built = builder.finish();
  for (auto& b : built.npa) rep.npa_bitmaps += b ? 1 : 0;
  rep.sparse_members = built.sparse.size();
  const auto t1 = std::chrono::steady_clock::now();
  rep.read_seconds = std::chrono::duration<double>(t1 - t0).count();
  auto published =
      co_await store.async_publish(std::move(meta), std::move(built), base ? &*base : nullptr);
  rep.publish_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  if (!published) co_return std::pair{published.error(), std::move(rep)};
  rep.published = std::move(*published);
  co_return std::pair{error_code{}, std::move(rep)};
}

}  // namespace stopgate::dnc::lists
