#include "carriers/http/multi_bridge.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <unistd.h>
#include <algorithm>
#include <cstring>

namespace stopgate::carriers::http::detail {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Handles kept reset for reuse, so a steady request rate allocates no curl handles.
constexpr std::size_t max_idle_easy = 64;

size_t on_body(char* data, size_t size, size_t n, void* userp) {
  auto& t = *static_cast<transfer*>(userp);
  const size_t len = size * n;
  if (t.resp.body.size() + len > t.cap) {
    t.cap_hit = true;
    return 0;  // curl fails the transfer with CURLE_WRITE_ERROR
  }
  t.resp.body.append(data, len);
  return len;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

size_t on_header(char* data, size_t size, size_t n, void* userp) {
  auto& t = *static_cast<transfer*>(userp);
  const size_t len = size * n;
  t.header_bytes += len;
  if (t.header_bytes > t.cap) {
    t.cap_hit = true;
    return 0;
  }
  const std::string_view line(data, len);
  // A status line starts a new response (after a 100 Continue): keep only the final headers.
  if (line.starts_with("HTTP/")) {
    t.resp.headers.clear();
    return len;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return len;
  t.resp.headers.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
  return len;
}

// Called right before curl writes the request on an established (or reused) connection.
int on_prereq(void* userp, char*, char*, int, int) {
  static_cast<transfer*>(userp)->sent = true;
  return CURL_PREREQFUNC_OK;
}

// The request body, handed to curl piece by piece.
size_t on_read(char* buf, size_t size, size_t n, void* userp) {
  auto& t = *static_cast<transfer*>(userp);
  const std::size_t len = std::min(size * n, t.body.size() - t.body_read);
  std::memcpy(buf, t.body.data() + t.body_read, len);
  t.body_read += len;
  return len;
}

// curl rewinds the body only to send the request again. It does that, unasked, when a
// reused keep-alive connection closes without a byte of answer — also when the server had
// read the whole request (a carrier that accepted the message and then dropped the
// connection). A message must never be handed over twice, so once curl has taken any of the
// body the rewind is refused: the transfer fails (request_sent) instead of resending.
int on_seek(void* userp, curl_off_t offset, int origin) {
  auto& t = *static_cast<transfer*>(userp);
  if (origin != SEEK_SET || offset != 0 || t.body_read > 0) return CURL_SEEKFUNC_CANTSEEK;
  return CURL_SEEKFUNC_OK;
}

bool has_header(const header_list& h, std::string_view name) {
  return std::any_of(h.begin(), h.end(), [name](const auto& kv) {
    return kv.first.size() == name.size() &&
           std::equal(name.begin(), name.end(), kv.first.begin(),
                      [](char a, char b) { return (a | 0x20) == (b | 0x20); });
  });
}

bool curl_ready() {
  // Once per process, thread-safe (static initialisation).
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  return rc == CURLE_OK;
}

}  // namespace

multi_bridge::multi_bridge(asio::any_io_executor ex, client_options opts)
    : ex_(std::move(ex)), opts_(std::move(opts)), timer_(ex_) {
  if (!curl_ready() || (multi_ = curl_multi_init()) == nullptr) {
    spdlog::error("http: libcurl initialisation failed; every request will fail");
    return;
  }
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &multi_bridge::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &multi_bridge::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, opts_.max_connections_per_host);
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, opts_.max_total_connections);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, opts_.max_idle_connections);
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING,
                    opts_.http2 ? long(CURLPIPE_MULTIPLEX) : long(CURLPIPE_NOTHING));
}

multi_bridge::~multi_bridge() {
  stop();
}

boost::system::result<std::shared_ptr<transfer>> multi_bridge::start(request r) {
  if (!multi_) return make_error_code(client_errc::stopped);
  if (active_.size() >= opts_.max_in_flight) return make_error_code(client_errc::overloaded);
  if (const auto ec = check_request(r)) return ec;
  auto t = std::make_shared<transfer>(ex_);
  t->easy = acquire_easy();
  if (t->easy == nullptr) return make_error_code(client_errc::curl_error);
  configure(*t, r);
  if (t->headers == nullptr && !r.headers.empty()) {
    release_easy(t->easy);
    return make_error_code(client_errc::curl_error);
  }
  if (curl_multi_add_handle(multi_, t->easy) != CURLM_OK) {
    curl_slist_free_all(t->headers);
    release_easy(t->easy);
    return make_error_code(client_errc::curl_error);
  }
  t->slot = active_.size();
  active_.push_back(t);
  return t;
}

void multi_bridge::configure(transfer& t, request& r) {
  CURL* e = t.easy;
  t.method = r.method;
  t.origin = url_origin(r.url);
  t.cap = opts_.max_response_bytes;
  t.body = std::move(r.body);
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf.data());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &on_prereq);
  curl_easy_setopt(e, CURLOPT_PREREQDATA, &t);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &multi_bridge::on_close_socket);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(r.timeout.count()));
  // A Content-Length beyond the cap fails before any body byte is read.
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(opts_.max_response_bytes));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, opts_.verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, opts_.verify_tls ? 2L : 0L);
  if (!opts_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, opts_.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                   opts_.http2 ? long(CURL_HTTP_VERSION_2TLS) : long(CURL_HTTP_VERSION_1_1));
  // Over TLS, wait for a connection that may multiplex (h2, known from ALPN at handshake)
  // rather than opening one per request. Not over plain http: there curl learns that a
  // connection is HTTP/1.1 only from its first response, so a slow first answer would stall
  // every request queued behind it.
  if (opts_.http2 && (r.url[4] == 's' || r.url[4] == 'S'))
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  if (r.auth) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, long(CURLAUTH_BASIC));
    curl_easy_setopt(e, CURLOPT_USERNAME, r.auth->user.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, r.auth->password.c_str());
  }

  const bool with_body = r.method != "GET" && r.method != "HEAD";
  if (r.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(t.body.size()));
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, &t);
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, &on_seek);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, &t);
    if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }

  curl_slist* list = nullptr;
  std::string line;
  for (const auto& [name, value] : r.headers) {
    line.assign(name);
    // "Name;" is curl's spelling of a header with an empty value ("Name:" would remove it).
    line.append(value.empty() ? ";" : ": ");
    line.append(value);
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) {
      curl_slist_free_all(list);
      t.headers = nullptr;
      return;
    }
    list = next;
  }
  // No "Expect: 100-continue" round trip: carriers answer POSTs directly.
  if (with_body && !has_header(r.headers, "Expect")) {
    if (curl_slist* next = curl_slist_append(list, "Expect:")) list = next;
  }
  t.headers = list;
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
}

void multi_bridge::abandon(transfer& t, client_errc why) {
  if (t.done) return;
  auto keep = active_[t.slot];
  detach(t);
  complete(t, make_error_code(why));
}

void multi_bridge::stop() {
  if (!multi_) return;
  auto victims = std::move(active_);
  active_.clear();
  for (auto& t : victims) {
    t->slot = 0;
    curl_multi_remove_handle(multi_, t->easy);
    curl_slist_free_all(std::exchange(t->headers, nullptr));
    release_easy(std::exchange(t->easy, nullptr));
    complete(*t, make_error_code(client_errc::stopped));
  }
  // Closes every cached connection; our close-socket hook releases each descriptor first.
  curl_multi_cleanup(std::exchange(multi_, nullptr));
  for (auto& [fd, w] : sockets_) {
    w->closed = true;
    w->sd.release();
  }
  sockets_.clear();
  timer_.cancel();
  for (CURL* e : idle_easy_) curl_easy_cleanup(e);
  idle_easy_.clear();
}

// --- libcurl callbacks: record what curl wants; never call back into curl from here. ---

int multi_bridge::on_socket(CURL*, curl_socket_t s, int what, void* userp, void*) {
  auto* self = static_cast<multi_bridge*>(userp);
  if (what == CURL_POLL_REMOVE) {
    self->forget(s);
    return 0;
  }
  self->watch(s, what);
  return self->sockets_.count(s) != 0 ? 0 : -1;
}

int multi_bridge::on_timer(CURLM*, long timeout_ms, void* userp) {
  auto* self = static_cast<multi_bridge*>(userp);
  if (timeout_ms < 0) {
    self->timer_.cancel();
    return 0;
  }
  if (timeout_ms == 0) {
    // "At once" (curl says so for every transfer it adds): a posted tick, not the timer. Arming
    // a timer that becomes the earliest reprograms the reactor's timerfd, a system call that
    // took a fifth of the gateway's CPU at carrier rates.
    self->timer_.cancel();
    if (!self->tick_posted_) {
      self->tick_posted_ = true;
      asio::post(self->ex_, [weak = self->weak_from_this()] {
        if (auto me = weak.lock()) {
          me->tick_posted_ = false;
          me->on_tick();
        }
      });
    }
    return 0;
  }
  // expires_after cancels the previous wait; a tick that already fired is harmless.
  self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  self->timer_.async_wait([weak = self->weak_from_this()](error_code ec) {
    if (ec) return;
    if (auto me = weak.lock()) me->on_tick();
  });
  return 0;
}

int multi_bridge::on_close_socket(void* clientp, curl_socket_t s) {
  static_cast<multi_bridge*>(clientp)->forget(s);
  return ::close(s);
}

void multi_bridge::watch(curl_socket_t s, int what) {
  auto& slot = sockets_[s];
  if (!slot) {
    auto w = std::make_shared<socket_watch>(ex_, s);
    error_code ec;
    w->sd.assign(s, ec);
    if (ec) {
      spdlog::error("http: cannot watch socket {}: {}", s, ec.message());
      sockets_.erase(s);
      return;
    }
    slot = std::move(w);
  }
  slot->interest = what;
  arm(slot);
}

void multi_bridge::forget(curl_socket_t s) {
  const auto it = sockets_.find(s);
  if (it == sockets_.end()) return;
  it->second->closed = true;
  // Cancels its waits and takes the fd out of epoll, leaving it open for curl to close.
  it->second->sd.release();
  sockets_.erase(it);
}

void multi_bridge::arm(const std::shared_ptr<socket_watch>& w) {
  using wait = asio::posix::descriptor_base::wait_type;
  if ((w->interest & CURL_POLL_IN) && !w->read_armed) {
    w->read_armed = true;
    w->sd.async_wait(wait::wait_read, [weak = weak_from_this(), w](error_code ec) {
      w->read_armed = false;
      if (w->closed || ec == asio::error::operation_aborted || !(w->interest & CURL_POLL_IN))
        return;
      if (auto me = weak.lock()) me->on_ready(w, ec ? CURL_CSELECT_ERR : CURL_CSELECT_IN);
    });
  }
  if ((w->interest & CURL_POLL_OUT) && !w->write_armed) {
    w->write_armed = true;
    w->sd.async_wait(wait::wait_write, [weak = weak_from_this(), w](error_code ec) {
      w->write_armed = false;
      if (w->closed || ec == asio::error::operation_aborted || !(w->interest & CURL_POLL_OUT))
        return;
      if (auto me = weak.lock()) me->on_ready(w, ec ? CURL_CSELECT_ERR : CURL_CSELECT_OUT);
    });
  }
}

void multi_bridge::on_ready(const std::shared_ptr<socket_watch>& w, int select_flags) {
  drive(w->fd, select_flags);
  // Still wanted after curl's turn: wait again (curl may have re-armed it already).
  if (!w->closed) arm(w);
}

void multi_bridge::on_tick() {
  drive(CURL_SOCKET_TIMEOUT, 0);
}

void multi_bridge::drive(curl_socket_t s, int select_flags) {
  if (!multi_) return;
  int running = 0;
  curl_multi_socket_action(multi_, s, select_flags, &running);
  collect_done();
}

void multi_bridge::collect_done() {
  int left = 0;
  while (multi_ != nullptr) {
    CURLMsg* msg = curl_multi_info_read(multi_, &left);
    if (msg == nullptr) break;
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* e = msg->easy_handle;
    const CURLcode code = msg->data.result;  // msg is invalid after remove_handle
    char* priv = nullptr;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
    auto& t = *reinterpret_cast<transfer*>(priv);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t.resp.status);
    curl_off_t total_us = 0;
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
    t.resp.elapsed = std::chrono::microseconds(total_us);
    long request_bytes = 0;
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_bytes);
    if (request_bytes > 0) t.sent = true;
    auto keep = active_[t.slot];
    detach(t);
    error_code ec;
    if (code != CURLE_OK) {
      ec = errc_from_curl(code, t.cap_hit);
      spdlog::warn("http {} {}: {} (curl {}: {}), request sent: {}", t.method, t.origin,
                   ec.message(), int(code),
                   t.errbuf[0] != 0 ? t.errbuf.data() : curl_easy_strerror(code), t.sent);
    }
    complete(t, ec);
  }
}

void multi_bridge::detach(transfer& t) {
  if (t.easy != nullptr) {
    curl_multi_remove_handle(multi_, t.easy);
    release_easy(std::exchange(t.easy, nullptr));
  }
  curl_slist_free_all(std::exchange(t.headers, nullptr));
  // Swap-and-pop keeps active_ dense; the caller holds a reference to t.
  const std::size_t i = t.slot;
  if (i < active_.size() && active_[i].get() == &t) {
    active_[i] = std::move(active_.back());
    active_[i]->slot = i;
    active_.pop_back();
  }
}

void multi_bridge::complete(transfer& t, error_code ec) {
  t.ec = ec;
  t.resp.request_sent = t.sent;
  t.done = true;
  // Cancelling queues the waiter's resumption on the executor: nothing runs inside curl.
  t.wake.cancel();
}

CURL* multi_bridge::acquire_easy() {
  if (idle_easy_.empty()) return curl_easy_init();
  CURL* e = idle_easy_.back();
  idle_easy_.pop_back();
  return e;
}

void multi_bridge::release_easy(CURL* e) {
  if (e == nullptr) return;
  if (multi_ != nullptr && idle_easy_.size() < max_idle_easy) {
    curl_easy_reset(e);
    idle_easy_.push_back(e);
  } else {
    curl_easy_cleanup(e);
  }
}

}  // namespace stopgate::carriers::http::detail
