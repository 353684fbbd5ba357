#include "gateway/api/response_writer.hpp"

namespace stopgate::gateway::api {

namespace {
void append_prefix(std::string& out, std::string_view id, bool ok) {
  out.append("{\"id\":");
  out.append(id);
  out.append(ok ? ",\"ok\":true" : ",\"ok\":false");
}
}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet appended, which need no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        out.append("\\u00");
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_ok(std::string& out, std::string_view id, const boost::json::object& fields,
               boost::json::serializer& sr) {
  append_prefix(out, id, true);
  if (fields.empty()) {
    out.append("}\n");
    return;
  }
  // Serialise the object in place, then turn its opening '{' into the ',' after "ok":true.
  std::size_t start = out.size();
  sr.reset(&fields);
  while (!sr.done()) {
    std::size_t used = out.size();
    std::size_t room = std::max<std::size_t>(out.capacity() - used, 4096);
    out.resize(used + room);
    std::size_t n = sr.read(out.data() + used, room).size();
    out.resize(used + n);
  }
  out[start] = ',';
  out.push_back('\n');
}

void append_ok_text(std::string& out, std::string_view id, std::string_view members) {
  append_prefix(out, id, true);
  if (!members.empty()) {
    out.push_back(',');
    out.append(members);
  }
  out.append("}\n");
}

void append_error(std::string& out, std::string_view id, api_errc code, std::string_view message) {
  append_prefix(out, id, false);
  out.append(",\"error\":{\"code\":\"");
  out.append(to_string(code));
  out.append("\",\"message\":");
  append_json_string(out, message);
  out.append("}}\n");
}

}  // namespace stopgate::gateway::api
