/* The JSON client API of the TDLib test fixture: same declarations as TDLib 1.8.65's header. */
/* Plain comments only, so that bindgen output matches the committed bindings. */
#ifndef TD_TELEGRAM_TD_JSON_CLIENT_H
#define TD_TELEGRAM_TD_JSON_CLIENT_H

#include "td/telegram/tdjson_export.h"

#ifdef __cplusplus
extern "C" {
#endif

TDJSON_EXPORT int td_create_client_id(void);

TDJSON_EXPORT void td_send(int client_id, const char *request);

TDJSON_EXPORT const char *td_receive(double timeout);

TDJSON_EXPORT const char *td_execute(const char *request);

typedef void (*td_log_message_callback_ptr)(int verbosity_level, const char *message);

TDJSON_EXPORT void td_set_log_message_callback(int max_verbosity_level, td_log_message_callback_ptr callback);

/* The old, per-client-object API. */
TDJSON_EXPORT void *td_json_client_create(void);

TDJSON_EXPORT void td_json_client_send(void *client, const char *request);

TDJSON_EXPORT const char *td_json_client_receive(void *client, double timeout);

TDJSON_EXPORT const char *td_json_client_execute(void *client, const char *request);

TDJSON_EXPORT void td_json_client_destroy(void *client);

#ifdef __cplusplus
}
#endif

#endif /* TD_TELEGRAM_TD_JSON_CLIENT_H */
