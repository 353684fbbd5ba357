// Running a voice check from a protocol shell: the check runs as its own coroutine on the
// caller's executor, so a shell can bound the wait without cancelling the check itself (a
// check that is committing evidence must not be cut off half way).
#pragma once

#include "gateway/dialer/voice_checker.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace stopgate::gateway::dialer {

/// Runs `q` and calls `done` with its answer on `ex` (an exception becomes a fail-closed
/// deny, "internal"). `checker` is kept alive until then.
void spawn_check(const boost::asio::any_io_executor& ex, std::shared_ptr<voice_checker> checker,
                 voice_check q, std::function<void(const voice_answer&)> done);

/// The answer to `q`, or a fail-closed deny "check_timeout" when it takes longer than
/// `timeout` (the check goes on and is recorded; its answer is dropped). Runs on the
/// caller's executor, which must be single-threaded or a strand.
boost::asio::awaitable<voice_answer> async_check_within(std::shared_ptr<voice_checker> checker,
                                                        voice_check q,
                                                        std::chrono::milliseconds timeout);

}  // namespace stopgate::gateway::dialer
