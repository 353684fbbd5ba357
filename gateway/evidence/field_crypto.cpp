#include "gateway/evidence/field_crypto.hpp"

#include "gateway/evidence/error.hpp"

namespace stopgate::evidence {

namespace {

// Message bodies and disclosure texts, and the original bytes of a body that was not UTF-8.
bool is_sealed_name(std::string_view key) {
  return key == "body" || key == "text" || key == "body_b64" || key == "text_b64";
}

bool is_sealed(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (o == nullptr) return false;
  const auto* enc = o->if_contains("enc");
  return enc != nullptr && enc->is_string() && enc->get_string() == "aes-256-gcm";
}

template <class Fn>
boost::system::error_code walk(boost::json::object& o, Fn& fn);

template <class Fn>
boost::system::error_code walk_value(std::string_view key, boost::json::value& v, Fn& fn) {
  if (auto ec = fn(key, v)) return ec;
  if (auto* child = v.if_object()) return walk(*child, fn);
  if (auto* arr = v.if_array())
    for (auto& e : *arr)
      if (auto* child = e.if_object())
        if (auto ec = walk(*child, fn)) return ec;
  return {};
}

template <class Fn>
boost::system::error_code walk(boost::json::object& o, Fn& fn) {
  for (auto& kv : o)
    if (auto ec = walk_value(kv.key(), kv.value(), fn)) return ec;
  return {};
}

}  // namespace

boost::system::error_code encrypt_fields(boost::json::object& o, aes_gcm& cipher,
                                         std::string_view record_id) {
  auto fn = [&](std::string_view key, boost::json::value& v) -> boost::system::error_code {
    if (!is_sealed_name(key) || !v.is_string()) return {};
    auto sealed = cipher.seal(v.get_string(), record_id);
    if (!sealed) return sealed.error();
    boost::json::object e;
    e["ct"] = to_base64(sealed->ct);
    e["enc"] = "aes-256-gcm";
    e["iv"] = to_base64(sealed->iv);
    e["tag"] = to_base64(sealed->tag);
    v = std::move(e);
    return {};
  };
  return walk(o, fn);
}

boost::system::error_code decrypt_fields(boost::json::object& o, aes_gcm& cipher,
                                         std::string_view record_id) {
  auto fn = [&](std::string_view, boost::json::value& v) -> boost::system::error_code {
    if (!is_sealed(v)) return {};
    const auto& e = v.get_object();
    auto field = [&](const char* name) -> boost::system::result<std::string> {
      const auto* f = e.if_contains(name);
      if (f == nullptr || !f->is_string()) return make_error_code(errc::decrypt_failed);
      auto bytes = from_base64(f->get_string());
      if (!bytes) return make_error_code(errc::decrypt_failed);
      return std::move(*bytes);
    };
    auto iv = field("iv"), ct = field("ct"), tag = field("tag");
    if (!iv || !ct || !tag) return make_error_code(errc::decrypt_failed);
    auto plain = cipher.open({std::move(*iv), std::move(*ct), std::move(*tag)}, record_id);
    if (!plain) return plain.error();
    v = boost::json::string(*plain);
    return {};
  };
  return walk(o, fn);
}

boost::system::result<std::string> parse_aes_key(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  if (text.size() == 64) {
    if (auto k = from_hex(text)) return std::move(*k);
  }
  if (auto k = from_base64(text); k && k->size() == 32) return std::move(*k);
  return make_error_code(errc::bad_key);
}

}  // namespace stopgate::evidence
