#include "carriers/bandwidth/signature.hpp"

#include "carriers/signature/crypto.hpp"

namespace stopgate::carriers::signature {

std::string bandwidth_authorization(std::string_view username, std::string_view password) {
  std::string pair(username);
  pair += ':';
  pair += password;
  return "Basic " + base64_encode(pair);
}

verify_result verify_bandwidth(const webhook_request& req, const bandwidth_credentials& creds) {
  auto auth = find_header(req, "Authorization");
  if (auth.st == header_lookup::state::absent) return fail(verify_errc::missing_signature);
  if (auth.st == header_lookup::state::duplicate) return fail(verify_errc::bad_header_format);
  std::string_view value = auth.value;
  if (value.size() < 6 || !iequals(value.substr(0, 6), "Basic "))
    return fail(verify_errc::missing_signature);
  value.remove_prefix(6);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  auto given = base64_decode(value);
  if (!given || given->find(':') == std::string::npos) return fail(verify_errc::bad_header_format);
  if (creds.username.empty() || creds.password.empty()) return fail(verify_errc::bad_key);
  std::string expected = creds.username + ":" + creds.password;
  // Comparing fixed-size digests keeps the time independent of both lengths.
  if (!constant_time_equal(digest(digest_alg::sha256, *given),
                           digest(digest_alg::sha256, expected)))
    return fail(verify_errc::bad_signature);
  return {};
}

}  // namespace stopgate::carriers::signature
