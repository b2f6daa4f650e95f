#include "td/telegram/td_log.h"

#include "td/internal.h"

int td_set_log_file_path(const char *file_path) {
  return td::json_set_log_file_path(file_path);
}

void td_set_log_max_file_size(long long max_file_size) {
  td::json_set_log_max_file_size(max_file_size);
}

void td_set_log_verbosity_level(int new_verbosity_level) {
  td::json_set_log_verbosity_level(new_verbosity_level);
}

void td_set_log_fatal_error_callback(td_log_fatal_error_callback_ptr callback) {
  td::json_set_log_fatal_error_callback(callback);
}
