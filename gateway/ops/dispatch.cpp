// The ops object: construction and dispatch by the op table's id (gateway/api/op_table.hpp).
#include "gateway/ops/ops.hpp"
#include "gateway/ops/support.hpp"

#include "gateway/send/send_op.hpp"

namespace stopgate::gateway {

using namespace op_support;  // NOLINT: this folder's own helpers

ops::ops(services svc)
    : svc_(std::move(svc)),
      log_(*svc_.log),
      mirror_(*svc_.mirror),
      send_(std::make_unique<send::send_handler>(svc_)) {}

dnc::contacts::contact_store* ops::store(const api::request_context& ctx) const {
  return svc_.on(ctx.worker).contacts.get();
}

ops::~ops() = default;

std::optional<api::op_spec> ops::find_op(std::string_view op) const {
  return api::standard_op_spec(op);
}

asio::awaitable<op_result> ops::async_handle(std::string_view op, const json::object& req,
                                             const api::request_context& ctx) {
  const api::op_def* def = ctx.def ? ctx.def : api::find_op_def(op);
  if (!def) co_return fail(api_errc::unknown_op, "unknown op '" + std::string(op) + "'");
  switch (def->id) {
    case api::op_id::check: co_return co_await check(req, ctx);
    case api::op_id::send: co_return co_await send_->async_send(req, ctx);
    case api::op_id::send_batch: co_return co_await send_->async_send_batch(req, ctx);
    case api::op_id::consent: co_return co_await consent(req, false, ctx);
    case api::op_id::optin: co_return co_await consent(req, true, ctx);
    case api::op_id::optout: co_return co_await optout(req, ctx);
    case api::op_id::lookup: co_return co_await lookup(req, ctx);
    case api::op_id::forget: co_return co_await forget(req, ctx);
    case api::op_id::stats: co_return stats();
    case api::op_id::campaign: co_return co_await campaign(req, ctx);
    case api::op_id::queue_stats: co_return co_await queue_stats(ctx);
    case api::op_id::events: co_return co_await events(req, ctx);
    case api::op_id::ping:
    case api::op_id::auth: break;  // answered by the transport
  }
  co_return fail(api_errc::unknown_op, "op '" + std::string(op) + "' is answered by the transport");
}

}  // namespace stopgate::gateway
