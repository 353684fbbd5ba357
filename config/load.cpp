#include "config/load.hpp"

#include "config/defaults.hpp"
#include "config/load_detail.hpp"

#include <boost/throw_exception.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace stopgate::config {

std::string problem::to_string() const {
  std::string out = path.empty() ? message : path + ": " + message;
  if (line != 0) out += fmt::format(" (line {})", line);
  return out;
}

std::string problem_list::to_string() const {
  std::string out;
  for (const auto& p : items) {
    if (!out.empty()) out.push_back('\n');
    out += p.to_string();
  }
  return out;
}

void throw_exception_from_error(const problem_list& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error("invalid configuration:\n" + e.to_string()), loc);
}

namespace {

load_options complete(const load_options& given) {
  load_options o = given;
  if (!o.getenv)
    o.getenv = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      return v ? std::optional<std::string>(v) : std::nullopt;
    };
  if (o.cwd.empty()) {
    std::error_code ec;
    o.cwd = std::filesystem::current_path(ec);
    if (ec) o.cwd = "/";
  }
  return o;
}

}  // namespace

load_result load_string(std::string_view text, std::string_view origin,
                        const load_options& given) {
  load_options options = complete(given);
  detail::load_context ctx;
  ctx.options = &options;

  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    // toml++ reports syntax errors as exceptions; they are input errors, not failures.
    problem p{"", fmt::format("TOML syntax: {}", e.description()), unsigned(e.source().begin.line)};
    return problem_list{{std::move(p)}};
  }

  auto s = std::make_shared<settings>();
  s->origin = std::string(origin);
  s->policy = default_policy();
  s->keywords = default_keywords();

  detail::table_reader top(&root, "", ctx);
  detail::read_server(top.sub("server"), s->server);
  detail::read_api(top.sub("api"), s->api);
  detail::read_http(top.sub("http"), s->http);
  detail::read_redis(top.sub("redis"), s->redis);
  detail::read_evidence(top.sub("evidence"), s->evidence);
  detail::read_policy(top.sub("policy"), s->policy);
  detail::table_reader kw = top.sub("keywords");
  detail::read_keywords(kw, s->keywords);
  detail::read_carriers(top.sub("carriers"), s->carriers);
  detail::read_senders(top.sub("senders"), s->keywords, s->senders);
  detail::read_lists(top.sub("lists"), s->lists);
  detail::read_api_keys(top, s->api_keys);
  detail::read_dialer(top.sub("dialer"), s->dialer);
  detail::read_queue(top.sub("queue"), s->queue);
  top.finish();

  s->inline_secrets = std::move(ctx.inline_secrets);
  s->unresolved_secrets = std::move(ctx.unresolved_secrets);
  detail::resolve_paths(*s, options.cwd);
  for (auto& p : check(*s)) ctx.problems.push_back(std::move(p));
  if (!ctx.problems.empty()) return problem_list{std::move(ctx.problems)};
  detail::build_indexes(*s);
  return settings_ptr(std::move(s));
}

load_result load_file(const std::filesystem::path& path, const load_options& options) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return problem_list{{problem{"", fmt::format("cannot read {}", path.string()), 0}}};
  std::ostringstream text;
  text << f.rdbuf();
  if (f.bad()) return problem_list{{problem{"", fmt::format("cannot read {}", path.string()), 0}}};
  return load_string(text.str(), path.string(), options);
}

settings_ptr embedded_defaults(const load_options& options) {
  load_result r = load_string(k_embedded_toml, "embedded defaults", options);
  // The embedded text is part of the program; a problem here is a bug, not bad input.
  if (!r) throw std::logic_error("embedded defaults do not load: " + r.error().to_string());
  return *r;
}

}  // namespace stopgate::config
