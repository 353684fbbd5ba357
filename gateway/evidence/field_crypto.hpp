// Encryption of message bodies and disclosure texts inside records: every string field named
// `body` or `text` (at any depth), and `body_b64` / `text_b64` (the original bytes of one that
// was not UTF-8), becomes {"ct","enc":"aes-256-gcm","iv","tag"} (base64).
// The record's id is the AES-GCM additional data, so a ciphertext cannot be moved to another
// record unnoticed.
#pragma once

#include "gateway/evidence/crypto.hpp"

#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>

#include <string_view>

namespace stopgate::evidence {

/// Replaces every `body` / `text` / `body_b64` / `text_b64` string in `o` (recursively) by its
/// sealed form.
boost::system::error_code encrypt_fields(boost::json::object& o, aes_gcm& cipher,
                                         std::string_view record_id);

/// Replaces every sealed value in `o` (recursively) by its plaintext string.
/// errc::decrypt_failed if one does not authenticate under the key.
boost::system::error_code decrypt_fields(boost::json::object& o, aes_gcm& cipher,
                                         std::string_view record_id);

/// Reads a 32-byte AES key written as 64 hex digits or as base64 (surrounding whitespace is
/// ignored). errc::bad_key otherwise.
boost::system::result<std::string> parse_aes_key(std::string_view text);

}  // namespace stopgate::evidence
