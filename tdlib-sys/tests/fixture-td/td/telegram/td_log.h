/* Deprecated logging functions of the TDLib test fixture, declared as in TDLib 1.8.65. */
#ifndef TD_TELEGRAM_TD_LOG_H
#define TD_TELEGRAM_TD_LOG_H

#include "td/telegram/tdjson_export.h"

#ifdef __cplusplus
extern "C" {
#endif

TDJSON_EXPORT int td_set_log_file_path(const char *file_path);

TDJSON_EXPORT void td_set_log_max_file_size(long long max_file_size);

TDJSON_EXPORT void td_set_log_verbosity_level(int new_verbosity_level);

typedef void (*td_log_fatal_error_callback_ptr)(const char *error_message);

TDJSON_EXPORT void td_set_log_fatal_error_callback(td_log_fatal_error_callback_ptr callback);

#ifdef __cplusplus
}
#endif

#endif /* TD_TELEGRAM_TD_LOG_H */
