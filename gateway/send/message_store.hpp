// What a send leaves in Redis besides the contact store (docs/SEND.md, "Message store"):
// one hash per message, an index from the carrier's message id to ours, the markers that
// make delivery-status callbacks idempotent, and the recipient's list of messages (so that
// forget can erase them). Every key expires after message_ttl.
//
//   stopgate:msg:MESSAGE_ID                          hash  sender to from carrier
//                                                          carrier_message_id status updated_at
//                                                          [idempotency_key]
//   stopgate:msg:carrier:CARRIER:CARRIER_MESSAGE_ID  string -> MESSAGE_ID
//   stopgate:msg:seen:CARRIER:CARRIER_MESSAGE_ID:STATUS  string "pending" | "done"
//   {c:P}:msgs                                       set   MESSAGE_ID... (the recipient's
//                                                          pseudonym tag, docs/dev/CONTACTS.md)
#pragma once

#include "dnc/model/facts.hpp"
#include "redis/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopgate::gateway::send {

/// How long message records, carrier-id index entries and status markers live. Carriers send
/// delivery receipts within hours; a callback for an expired message is still recorded in the
/// evidence log, only the message's status is no longer kept.
inline constexpr std::chrono::seconds message_ttl = std::chrono::hours(24 * 30);

/// A message's delivery state, kept for status callbacks. `status` uses the carrier status
/// vocabulary (carriers/wire/types.hpp) plus "submitting" (handed to the relay, no answer yet).
struct message_record {
  std::string message_id;
  std::string sender;
  std::string to;
  std::string from;
  std::string carrier;
  std::string carrier_message_id;
  std::string status;
  dnc::model::sys_time updated_at{};
  /// The send's idempotency key ("" = none): forget scrubs the answer stored under it.
  std::string idempotency_key;
  /// The pseudonym tag of `to` ("{c:<32 hex>}", dnc::contacts::contact_keys): when set, the message
  /// is listed in "{c:P}:msgs" for forget. Not read back by async_get.
  std::string number_tag;
  /// The API key that sent it ("" = none): its status events go to that key's stream.
  std::string api_key;
};

/// What async_forget erased: the message ids whose records existed, and the (sender,
/// idempotency key) of each of those sends that had one.
struct forgotten_messages {
  std::vector<std::string> message_ids;
  std::vector<std::pair<std::string, std::string>> idempotency_keys;
};

/// A new message id: "msg_" + 24 hex digits (96 random bits from OpenSSL), unique across
/// gateways without coordination. Thread-safe.
std::string new_message_id();

/// What a status callback's dedupe marker said.
enum class status_claim { fresh, done, busy };

/// The send path's Redis state. A thin wrapper over one client: use it on the client's
/// executor (the request's worker's), like the client. Completions never run inline.
/// Errors are the client's transport errors; an unexpected reply (a Redis error) becomes
/// redis::errc::protocol.
class message_store {
 public:
  explicit message_store(redis::client& c) noexcept : c_(c) {}

  /// Writes the whole record (and its carrier index when carrier_message_id is set), with
  /// message_ttl: in one MULTI/EXEC on one Redis; on a cluster (keys in several slots) the
  /// recipient's list first, then the record and the index in one pipeline.
  boost::asio::awaitable<boost::system::error_code> async_put(const message_record& m);
  /// The record, or nullopt when unknown or expired.
  boost::asio::awaitable<boost::system::result<std::optional<message_record>>> async_get(
      std::string_view message_id);
  /// Our message id for the carrier's, or nullopt.
  boost::asio::awaitable<boost::system::result<std::optional<std::string>>> async_find(
      std::string_view carrier, std::string_view carrier_message_id);
  /// Sets status and updated_at of an existing record. A final state (delivered, read,
  /// undelivered, failed, canceled) is never replaced by an earlier one (queued, sending,
  /// sent) arriving late. Returns false when the record does not exist (nothing written).
  boost::asio::awaitable<boost::system::result<bool>> async_update_status(
      std::string_view message_id, std::string_view status, dnc::model::sys_time at);

  /// Claims the callback (carrier, id, status): fresh (go on, then finish_status), done
  /// (already applied: acknowledge only) or busy (another request is applying it right now).
  /// A pending claim expires after 60 s so that a crashed handler does not block retries.
  boost::asio::awaitable<boost::system::result<status_claim>> async_claim_status(
      std::string_view carrier, std::string_view carrier_message_id, std::string_view status);
  /// applied: marks it done for message_ttl; otherwise removes the claim (the carrier retries).
  boost::asio::awaitable<boost::system::error_code> async_finish_status(
      std::string_view carrier, std::string_view carrier_message_id, std::string_view status,
      bool applied);

  /// Erases every message listed under the number's tag ("{c:P}"): its record (which holds
  /// the number) and its carrier-id index entry, then the list itself. Messages stored
  /// while this runs are not reached. Status-callback markers hold no number and stay.
  boost::asio::awaitable<boost::system::result<forgotten_messages>> async_forget(
      std::string_view number_tag);

 private:
  redis::client& c_;
};

}  // namespace stopgate::gateway::send
