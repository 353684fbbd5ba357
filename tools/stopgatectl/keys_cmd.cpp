// stopgatectl keys new --name N --roles R: makes an API key, prints it once with the SHA-256
// digest that goes into the config (the gateway stores only digests).
#include "tools/stopgatectl/command.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdio>
#include <set>
#include <string>

namespace stopgate::ctl {
namespace {

int run_keys(const global_options&, const std::vector<std::string>& args) {
  auto usage = [](FILE* f) {
    std::fprintf(f,
                 "usage: stopgatectl keys new --name NAME --roles ROLE[,ROLE...]\n"
                 "\n"
                 "Makes a random API key and prints it once, with the [[api_keys]] entry (its\n"
                 "SHA-256 digest, never the key) to add to the gateway's config.\n"
                 "roles: check, send, consent, admin\n");
  };
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    usage(args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "new") {
    std::fprintf(stderr, "stopgatectl keys: unknown subcommand '%s'\n", args[0].c_str());
    usage(stderr);
    return 2;
  }
  std::string name, roles;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      usage(stdout);
      return 0;
    }
    if (args[i] == "--name" && i + 1 < args.size())
      name = args[++i];
    else if (args[i] == "--roles" && i + 1 < args.size())
      roles = args[++i];
    else {
      std::fprintf(stderr, "stopgatectl keys new: unexpected argument '%s'\n", args[i].c_str());
      return 2;
    }
  }
  if (name.empty() || roles.empty()) {
    usage(stderr);
    return 2;
  }
  static const std::set<std::string> known{"check", "send", "consent", "admin"};
  std::string toml_roles;
  std::size_t start = 0;
  while (start <= roles.size()) {
    auto end = roles.find(',', start);
    std::string r = roles.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!known.count(r)) {
      std::fprintf(stderr,
                   "stopgatectl keys new: unknown role '%s' (check, send, consent, admin)\n",
                   r.c_str());
      return 2;
    }
    toml_roles += (toml_roles.empty() ? "\"" : ", \"") + r + "\"";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    std::fprintf(stderr, "stopgatectl keys new: no randomness available\n");
    return 1;
  }
  // URL-safe base64 without padding, so the key survives shells and headers.
  unsigned char b64[64];
  int n = EVP_EncodeBlock(b64, raw, sizeof raw);
  std::string key = "sg_";
  for (int i = 0; i < n; ++i) {
    char c = char(b64[i]);
    if (c == '=') break;
    key += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::string hex;
  static const char* d = "0123456789abcdef";
  for (unsigned char c : digest) {
    hex += d[c >> 4];
    hex += d[c & 15];
  }
  std::printf(
      "key (shown once; give it to the client):\n  %s\n\nadd to the config:\n"
      "[[api_keys]]\nname = \"%s\"\nsha256 = \"%s\"\nroles = [%s]\n",
      key.c_str(), name.c_str(), hex.c_str(), toml_roles.c_str());
  return 0;
}

const command_registration reg({"keys", "make an API key and the digest for the config (keys new)",
                                &run_keys});

}  // namespace
}  // namespace stopgate::ctl
