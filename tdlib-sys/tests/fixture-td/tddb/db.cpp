#include "td/internal.h"
#include "tdsqlite.h"

#include <mutex>

namespace td {
namespace {
std::mutex db_mutex;
}  // namespace

// Values are stored with a checksum row, and read back only if it still matches.
void db_set(const std::string &key, const std::string &value) {
  std::lock_guard<std::mutex> lock(db_mutex);
  static const bool opened = tdsqlite_open() && actor_spawn("Db") > 0;
  if (opened) {
    tdsqlite_put(key.c_str(), value.c_str());
    tdsqlite_put((key + "#crc").c_str(), std::to_string(crc32_of(value)).c_str());
  }
}

std::string db_get(const std::string &key) {
  std::lock_guard<std::mutex> lock(db_mutex);
  const char *value = tdsqlite_get(key.c_str());
  const char *crc = tdsqlite_get((key + "#crc").c_str());
  if (value == nullptr || crc == nullptr || std::to_string(crc32_of(value)) != crc) {
    return {};
  }
  return value;
}

}  // namespace td
