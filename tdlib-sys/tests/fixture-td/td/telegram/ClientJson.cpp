#include "td/internal.h"

namespace td {
namespace {
// As in TDLib, a returned string stays valid until the next call of the same kind on the same thread.
thread_local std::string receive_buffer;
thread_local std::string execute_buffer;

const char *store(std::string &buffer, std::string value) {
  buffer = std::move(value);
  return buffer.c_str();
}

struct OldClient {
  int id;
};
}  // namespace

int json_create_client_id() {
  return client_create_id();
}

void json_send(int client_id, const char *request) {
  client_send(client_id, request == nullptr ? "" : request);
}

const char *json_receive(double timeout) {
  std::string response;
  return client_receive(timeout, response) ? store(receive_buffer, std::move(response)) : nullptr;
}

const char *json_execute(const char *request) {
  return request == nullptr ? nullptr : store(execute_buffer, client_execute(request));
}

void *json_client_create() {
  return new OldClient{client_old_create()};
}

void json_client_send(void *client, const char *request) {
  client_old_send(static_cast<OldClient *>(client)->id, request == nullptr ? "" : request);
}

const char *json_client_receive(void *client, double timeout) {
  std::string response;
  return client_old_receive(static_cast<OldClient *>(client)->id, timeout, response)
             ? store(receive_buffer, std::move(response))
             : nullptr;
}

void json_client_destroy(void *client) {
  auto old_client = static_cast<OldClient *>(client);
  client_old_destroy(old_client->id);
  delete old_client;
}

void json_set_log_message_callback(int max_verbosity_level, LogMessageCallback callback) {
  log_set_message_callback(max_verbosity_level, callback);
}

int json_set_log_file_path(const char *path) {
  return log_set_file_path(path == nullptr ? "" : path) ? 1 : 0;
}

void json_set_log_max_file_size(long long size) {
  log_set_max_file_size(size);
}

void json_set_log_verbosity_level(int level) {
  log_set_verbosity_level(level);
}

void json_set_log_fatal_error_callback(FatalErrorCallback callback) {
  log_set_fatal_error_callback(callback);
}

}  // namespace td
