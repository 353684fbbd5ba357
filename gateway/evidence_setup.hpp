// Turns the [evidence] settings into evidence::options: resolves the HMAC key (inline, env:,
// or a key file created with 32 random bytes on first use) and the encryption key.
#pragma once

#include "config/settings.hpp"
#include "gateway/evidence/options.hpp"

#include <boost/system/result.hpp>

#include <string>

namespace stopgate::gateway {

/// Fails (with a readable message in *why) when the key file cannot be read or created.
boost::system::result<evidence::options> evidence_options(const config::settings& s, std::string* why);

}  // namespace stopgate::gateway
