#include "td/internal.h"

#include <chrono>
#include <cstdio>
#include <mutex>

namespace td {
namespace {
std::mutex log_mutex;
LogMessageCallback message_callback = nullptr;
int message_callback_max_level = 0;
FatalErrorCallback fatal_error_callback = nullptr;  // kept for the API; the fixture has no fatal errors
int verbosity_level = 5;                            // TDLib's default
std::string file_path;                              // empty: the log file is off
long long max_file_size = 10 << 20;                 // kept for the API; the fixture never rotates
}  // namespace

void log_set_message_callback(int max_verbosity_level, LogMessageCallback callback) {
  std::lock_guard<std::mutex> lock(log_mutex);
  message_callback = callback;
  message_callback_max_level = max_verbosity_level;
}

void log_set_fatal_error_callback(FatalErrorCallback callback) {
  std::lock_guard<std::mutex> lock(log_mutex);
  fatal_error_callback = callback;
}

bool log_set_file_path(const std::string &path) {
  if (!path.empty()) {
    // Fail like TDLib does when the file can't be opened for writing.
    std::FILE *file = std::fopen(path.c_str(), "a");
    if (file == nullptr) {
      return false;
    }
    std::fclose(file);
  }
  std::lock_guard<std::mutex> lock(log_mutex);
  file_path = path;
  return true;
}

void log_set_max_file_size(long long size) {
  std::lock_guard<std::mutex> lock(log_mutex);
  max_file_size = size;
}

void log_set_verbosity_level(int level) {
  std::lock_guard<std::mutex> lock(log_mutex);
  verbosity_level = level;
}

void log_message(int level, const std::string &text) {
  // Shaped like a TDLib log line: "[ level][t thread][unix time][origin]\ttext\n".
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  char prefix[64];
  std::snprintf(prefix, sizeof prefix, "[%2d][t 0][%.6f][fixture]\t", level, now);
  std::string line = prefix + text + "\n";

  LogMessageCallback callback = nullptr;
  {
    std::lock_guard<std::mutex> lock(log_mutex);
    if (level <= verbosity_level && !file_path.empty()) {
      if (std::FILE *file = std::fopen(file_path.c_str(), "a")) {
        std::fputs(line.c_str(), file);
        std::fclose(file);
      }
    }
    if (level <= message_callback_max_level) {
      callback = message_callback;
    }
  }
  // Outside the lock, so that a callback that logs again can't deadlock.
  if (callback != nullptr) {
    callback(level, line.c_str());
  }
}

}  // namespace td
