// The executor a server connection runs on (internal to gateway/).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace stopgate::gateway::net {

/// `ex` itself when its io_context was created for one thread (concurrency hint 1: that thread
/// already serialises everything, and a strand would only add a lock and a queue per step),
/// else a new strand on it.
inline boost::asio::any_io_executor connection_executor(const boost::asio::any_io_executor& ex) {
  namespace asio = boost::asio;
  auto& ctx = asio::query(ex, asio::execution::context);
  if (asio::use_service<asio::detail::scheduler>(ctx).concurrency_hint() == 1) return ex;
  return asio::make_strand(ex);
}

}  // namespace stopgate::gateway::net
