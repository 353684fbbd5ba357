// Internal to the loader: the per-table readers, split over files by concern.
#pragma once

#include "config/settings.hpp"
#include "config/table_reader.hpp"

#include <string>
#include <vector>

namespace stopgate::config::detail {

// load_server.cpp: [server] [api] [http] [redis] [evidence]
void read_server(table_reader t, server_settings& out);
void read_api(table_reader t, api_settings& out);
void read_http(table_reader t, http_settings& out);
void read_redis(table_reader t, redis_settings& out);
void read_queue(table_reader t, queue_settings& out);
void read_evidence(table_reader t, evidence_settings& out);

// load_policy.cpp: [policy] [policy.*] [keywords]
void read_policy(table_reader t, policy_settings& out);
/// Reads a keywords table over `base` (keys absent in the table keep base's values).
void read_keywords(table_reader& t, keyword_settings& out);
/// A short hash of the policy tables, "p-" + 16 hex digits.
std::string derive_policy_version(const policy_settings& p);

// load_parties.cpp: [senders.*] [carriers.*] [lists.*] [[api_keys]]
void read_senders(table_reader t, const keyword_settings& global, std::vector<sender_settings>& out);
void read_carriers(table_reader t, std::vector<carrier_settings>& out);
void read_lists(table_reader t, std::vector<list_settings>& out);
void read_api_keys(table_reader& top, std::vector<api_key_settings>& out);

// load_dialer.cpp: [dialer.fastagi] [dialer.sip] and their cross-field rules
void read_dialer(table_reader t, dialer_settings& out);
void check_dialer(const settings& s, std::vector<problem>& out);

// check.cpp: relative paths, cross-field rules, indexes
void resolve_paths(settings& s, const std::filesystem::path& cwd);
void build_indexes(settings& s);

}  // namespace stopgate::config::detail
