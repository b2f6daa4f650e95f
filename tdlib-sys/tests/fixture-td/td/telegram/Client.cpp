#include "td/internal.h"

namespace td {

int client_create_id() {
  return core_create_client();
}

void client_send(int client_id, const std::string &request) {
  core_send(client_id, request, 0, true);
}

bool client_receive(double timeout, std::string &response) {
  return core_receive(0, timeout, response);
}

std::string client_execute(const std::string &request) {
  if (api_type(request).empty()) {
    return api_error(400, "Failed to parse JSON object as TDLib request");
  }
  return core_execute(request);
}

// Old API clients take ids from the same counter, and each has its own queue (its id; never 0,
// which is td_receive's). Their responses carry no "@client_id".
int client_old_create() {
  return core_create_client();
}

void client_old_send(int client_id, const std::string &request) {
  core_send(client_id, request, client_id, false);
}

bool client_old_receive(int client_id, double timeout, std::string &response) {
  return core_receive(client_id, timeout, response);
}

void client_old_destroy(int client_id) {
  core_drop_queue(client_id);
}

}  // namespace td
