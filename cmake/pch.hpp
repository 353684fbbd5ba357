// Third-party headers nearly every translation unit includes, compiled once per build tree
// into a precompiled header that every target reuses (STOPGATE_PCH; CMakeLists.txt). Only
// headers whose configuration macros are the same for every target belong here: GCC refuses
// (silently falls back from) a precompiled header built with a macro the user defines
// differently. No project header: one would make every file rebuild when it changes.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
