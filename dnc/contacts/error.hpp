// Errors of the contact store (dnc/contact_store.hpp) besides the Redis client's transport
// errors (redis::errc), which it passes through unchanged.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace stopgate::dnc::contacts {

enum class contact_errc {
  bad_secret = 1,  // the pseudonym secret is shorter than 16 bytes
  bad_sender,      // sender name empty, over 64 bytes, or with spaces/control characters
  bad_campaign,    // campaign name empty, over 64 bytes, or with spaces/control characters
  bad_window,      // a cap window that is not positive
  redis_error,     // Redis answered with an error reply
  bad_data,        // a stored value that is not what the store writes
  busy,            // forget kept racing with concurrent commits; try again
  replicas_behind, // written on the primary, but fewer replicas than min_replica_acks
                   // acknowledged it within replica_ack_timeout
};

const boost::system::error_category& contact_category() noexcept;
inline boost::system::error_code make_error_code(contact_errc e) noexcept {
  return {static_cast<int>(e), contact_category()};
}

}  // namespace stopgate::dnc::contacts

template <>
struct boost::system::is_error_code_enum<stopgate::dnc::contacts::contact_errc> : std::true_type {};
