#include "gateway/evidence/options.hpp"

#include "gateway/evidence/error.hpp"

namespace stopgate::evidence {

boost::system::error_code options::check(std::string* why) const {
  auto bad = [&](const char* reason) {
    if (why != nullptr) *why = reason;
    return make_error_code(errc::bad_options);
  };
  if (dir.empty()) return bad("evidence.dir is empty");
  if (instance.empty() || instance.size() > 64) return bad("evidence.instance must be 1-64 characters");
  for (char c : instance)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      return bad("evidence.instance may hold only letters, digits, '.', '_' and '-'");
  if (!encryption_key.empty() && encryption_key.size() != 32)
    return bad("evidence.encryption_key must be 32 bytes (AES-256)");
  if (checkpoint_every == 0) return bad("evidence.checkpoint_every must be at least 1");
  if (checkpoint_interval.count() <= 0) return bad("evidence.checkpoint_interval must be > 0");
  if (segment_max_bytes < 4096) return bad("evidence.segment_max_bytes must be at least 4096");
  if (retention_days == 0) return bad("evidence.retention_days must be at least 1");
  if (max_batch == 0 || max_queue == 0) return bad("evidence.max_batch and max_queue must be > 0");
  if (max_record_bytes < 1024) return bad("evidence.max_record_bytes must be at least 1024");
  return {};
}

}  // namespace stopgate::evidence
