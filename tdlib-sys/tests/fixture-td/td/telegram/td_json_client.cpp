// The exported C API; thin, so that both tdjson and tdjson_static are just this plus tdjson_private.
#include "td/telegram/td_json_client.h"

#include "td/internal.h"

int td_create_client_id(void) {
  return td::json_create_client_id();
}

void td_send(int client_id, const char *request) {
  td::json_send(client_id, request);
}

const char *td_receive(double timeout) {
  return td::json_receive(timeout);
}

const char *td_execute(const char *request) {
  return td::json_execute(request);
}

void td_set_log_message_callback(int max_verbosity_level, td_log_message_callback_ptr callback) {
  td::json_set_log_message_callback(max_verbosity_level, callback);
}

void *td_json_client_create(void) {
  return td::json_client_create();
}

void td_json_client_send(void *client, const char *request) {
  td::json_client_send(client, request);
}

const char *td_json_client_receive(void *client, double timeout) {
  return td::json_client_receive(client, timeout);
}

const char *td_json_client_execute(void *client, const char *request) {
  (void)client;  // execution is synchronous and client-independent, as in TDLib
  return td::json_execute(request);
}

void td_json_client_destroy(void *client) {
  td::json_client_destroy(client);
}
