#include "td/internal.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace td {

// No JSON parser on purpose: the first `"key":` anywhere is enough for the flat requests the
// tests send. Returns the value's raw text (a string with its quotes, a whole object, a number).
std::string json_raw(const std::string &json, const std::string &key) {
  auto pos = json.find('"' + key + '"');
  if (pos == std::string::npos) {
    return {};
  }
  pos = json.find_first_not_of(" \t\r\n", pos + key.size() + 2);
  if (pos == std::string::npos || json[pos] != ':') {
    return {};
  }
  auto begin = json.find_first_not_of(" \t\r\n", pos + 1);
  if (begin == std::string::npos) {
    return {};
  }
  int depth = 0;
  bool in_string = false;
  size_t i = begin;
  for (; i < json.size(); i++) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') {
        i++;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) {
          i++;
          break;
        }
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (depth == 0) {
        break;
      }
      if (--depth == 0) {
        i++;
        break;
      }
    } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
      break;
    }
  }
  return json.substr(begin, i - begin);
}

std::string json_string(const std::string &json, const std::string &key) {
  auto raw = json_raw(json, key);
  if (raw.size() < 2 || raw[0] != '"') {
    return {};
  }
  std::string result;
  for (size_t i = 1; i + 1 < raw.size(); i++) {
    char c = raw[i];
    if (c == '\\' && i + 2 < raw.size()) {
      c = raw[++i];
      c = c == 'n' ? '\n' : c == 't' ? '\t' : c;  // \u escapes are not decoded
    }
    result += c;
  }
  return result;
}

long long json_int(const std::string &json, const std::string &key) {
  auto raw = json_raw(json, key);
  // TDLib also accepts numbers as strings.
  return std::strtoll(raw.c_str() + (raw.empty() || raw[0] != '"' ? 0 : 1), nullptr, 10);
}

std::string json_quote(const std::string &text) {
  std::string result = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      result += '\\';
      result += static_cast<char>(c);
    } else if (c == '\n') {
      result += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      result += buf;
    } else {
      result += static_cast<char>(c);
    }
  }
  return result + '"';
}

double time_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace td
