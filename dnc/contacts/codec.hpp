// Internal to the contact store: the compact JSON values it keeps in Redis (docs/dev/CONTACTS.md).
//   opt-out  {"at":US,"src":"...","ev":"..."}              ("at" first: the Lua scripts read it)
//   consent  {"s":"sender","k":"express_written","at":US,"exp":US?,"ev":"..."}
//   details  {"method":"...","url":"...","ip":"...","user_agent":"...","text":"...","proof":"..."}
// Times are microseconds since the Unix epoch. Decoders allocate only the strings they fill.
#pragma once

#include "dnc/contacts/store.hpp"
#include "redis/reply.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace stopgate::dnc::contacts::contact_codec {

std::string_view kind_name(model::consent_kind k) noexcept;
std::optional<model::consent_kind> parse_kind(std::string_view s) noexcept;

std::string encode_optout(model::sys_time at, std::string_view source,
                          std::string_view evidence_id);
/// Fills at, source, evidence_id (sender comes from the field name). False on bad data.
bool decode_optout(std::string_view json, model::optout_fact& out);

std::string encode_consent(const model::consent_fact& c);
/// Fills everything but id (from the field name). False on bad data.
bool decode_consent(std::string_view json, model::consent_fact& out);

std::string encode_details(const consent_source& s);
bool decode_details(std::string_view json, consent_source& out);

/// Decimal microseconds since the epoch, for Redis arguments.
std::string_view to_decimal(std::int64_t v, char (&buf)[24]) noexcept;
std::int64_t to_us(model::sys_time t) noexcept;

/// Appends the times of counter members ("US:RANDOM") in reply order. False on bad data.
bool parse_contact_members(const redis::reply& z, std::vector<model::sys_time>& out);

}  // namespace stopgate::dnc::contacts::contact_codec
