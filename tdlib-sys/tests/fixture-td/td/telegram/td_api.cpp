#include "td/internal.h"

#include <stdexcept>

namespace td {
namespace {
std::string object(const std::string &type, const std::string &fields = {}) {
  return "{\"@type\":" + json_quote(type) + fields + "}";
}
}  // namespace

std::string api_type(const std::string &object) {
  return object.empty() || object[0] != '{' ? std::string() : json_string(object, "@type");
}

std::string api_error(int code, const std::string &message) {
  return object("error", ",\"code\":" + std::to_string(code) + ",\"message\":" + json_quote(message));
}

std::string api_ok() {
  return object("ok");
}

std::string api_test_int(long long value) {
  return object("testInt", ",\"value\":" + std::to_string(value));
}

std::string api_option_string(const std::string &value) {
  return object("optionValueString", ",\"value\":" + json_quote(value));
}

std::string api_option_empty() {
  return object("optionValueEmpty");
}

// Adds "@extra" (the request's raw value text) and "@client_id" (when not 0) before the closing
// brace, in that order, as TDLib does.
std::string api_finish(std::string object, const std::string &extra, int client_id) {
  object.pop_back();
  if (!extra.empty()) {
    object += ",\"@extra\":" + extra;
  }
  if (client_id != 0) {
    object += ",\"@client_id\":" + std::to_string(client_id);
  }
  return object + '}';
}

std::string api_digest(const Digest &digest) {
  return object("fixtureDigest", ",\"sha256\":" + json_quote(digest.sha256) + ",\"crc32\":" +
                                     std::to_string(digest.crc32) +
                                     ",\"deflated_size\":" + std::to_string(digest.deflated_size));
}

std::string api_required_string(const std::string &object, const std::string &key) {
  auto raw = json_raw(object, key);
  if (raw.empty() || raw[0] != '"') {
    throw std::invalid_argument("Can't find field \"" + key + "\"");
  }
  return json_string(object, key);
}

}  // namespace td
