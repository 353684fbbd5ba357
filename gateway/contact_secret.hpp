// The key that pseudonymises contact-store key names (dnc/contact_keys.hpp). Every gateway
// sharing a Redis must use the same one, so it lives in that Redis: the first gateway creates
// 32 random bytes with SET NX, every other reads them. docs/CONTACTS.md discusses what this
// protects against (a casual look at Redis keys) and what it does not (someone who can read
// the whole Redis, key included).
#pragma once

#include "redis/client.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <string>

namespace stopgate::gateway {

inline constexpr std::string_view contact_secret_key = "stopgate:contacts:pseudonym-key";

/// Blocking: connects with its own io_context, creates the secret if missing, returns it.
boost::system::result<std::string> fetch_contact_secret(const redis::client_options& opts,
                                                        std::chrono::milliseconds timeout);

}  // namespace stopgate::gateway
