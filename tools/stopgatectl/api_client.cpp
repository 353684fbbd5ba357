#include "tools/stopgatectl/api_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <cstdlib>
#include <istream>
#include <variant>

namespace stopgate::ctl {

namespace asio = boost::asio;
namespace json = boost::json;

struct api_client::impl {
  asio::io_context io;
  std::variant<std::monostate, asio::ip::tcp::socket, asio::local::stream_protocol::socket> sock;
  asio::streambuf buf;
  std::uint64_t next_id = 1;

  template <class F>
  auto with_socket(F&& f) {
    if (auto* t = std::get_if<asio::ip::tcp::socket>(&sock)) return f(*t);
    return f(std::get<asio::local::stream_protocol::socket>(sock));
  }
};

api_client::api_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
api_client::~api_client() = default;

std::unique_ptr<api_client> api_client::connect(const config::settings& s, std::string key, std::string* why) {
  auto p = std::make_unique<impl>();
  boost::system::error_code ec;
  if (!s.api.unix_socket.empty()) {
    asio::local::stream_protocol::socket u(p->io);
    u.connect(asio::local::stream_protocol::endpoint(s.api.unix_socket.string()), ec);
    if (ec) {
      *why = "cannot connect to the gateway at " + s.api.unix_socket.string() + ": " + ec.message() +
             " (is stopgate running?)";
      return nullptr;
    }
    p->sock = std::move(u);
  } else if (s.api.listen) {
    asio::ip::tcp::socket t(p->io);
    asio::ip::tcp::resolver r(p->io);
    auto eps = r.resolve(s.api.listen->host, std::to_string(s.api.listen->port), ec);
    if (!ec) asio::connect(t, eps, ec);
    if (ec) {
      *why = "cannot connect to the gateway at " + s.api.listen->host + ":" +
             std::to_string(s.api.listen->port) + ": " + ec.message() + " (is stopgate running?)";
      return nullptr;
    }
    t.set_option(asio::ip::tcp::no_delay(true));
    p->sock = std::move(t);
  } else {
    *why = "the configuration has neither api.listen nor api.unix_socket";
    return nullptr;
  }
  std::unique_ptr<api_client> c(new api_client(std::move(p)));
  if (key.empty())
    if (const char* env = std::getenv("STOPGATE_API_KEY")) key = env;
  if (!key.empty()) {
    auto r = c->call(json::object{{"op", "auth"}, {"key", key}}, why);
    if (!r) return nullptr;
    if (auto* ok = r->if_contains("ok"); !ok || !ok->is_bool() || !ok->get_bool()) {
      *why = "the gateway refused the API key";
      return nullptr;
    }
  }
  return c;
}

std::optional<json::object> api_client::call(json::object req, std::string* why) {
  req["id"] = impl_->next_id++;
  std::string line = json::serialize(req);
  line += '\n';
  boost::system::error_code ec;
  impl_->with_socket([&](auto& s) { asio::write(s, asio::buffer(line), ec); });
  if (ec) {
    *why = "sending to the gateway: " + ec.message();
    return std::nullopt;
  }
  impl_->with_socket([&](auto& s) { asio::read_until(s, impl_->buf, '\n', ec); });
  if (ec) {
    *why = "reading from the gateway: " + ec.message();
    return std::nullopt;
  }
  std::istream in(&impl_->buf);
  std::string resp;
  std::getline(in, resp);
  boost::system::error_code jec;
  auto v = json::parse(resp, jec);
  if (jec || !v.is_object()) {
    *why = "the gateway sent something that is not a JSON object";
    return std::nullopt;
  }
  return v.get_object();
}

}  // namespace stopgate::ctl
