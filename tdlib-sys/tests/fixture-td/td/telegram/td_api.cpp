#include "td/internal.h"

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

}  // namespace td
