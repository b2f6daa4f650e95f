#include "td/internal.h"

#include <atomic>
#include <exception>
#include <stdexcept>

namespace td {
namespace {
std::atomic<int> last_client_id{0};

void init_once() {
  static const bool initialized = [] {
    db_set("version", TD_FIXTURE_VERSION);
    db_set("commit_hash", "fixture");  // lets tests tell the fixture from a real TDLib
    db_set("fixture_module_path", module_path());
    db_set("e2e_key_fingerprint", e2e_fingerprint("fixture"));
    return net_init() && actor_spawn("Td") > 0;
  }();
  (void)initialized;
}

std::string answer(const std::string &request, bool synchronous) {
  auto type = api_type(request);
  if (synchronous && type == "getOption") {
    init_once();
    auto value = db_get(json_string(request, "name"));
    return value.empty() ? api_option_empty() : api_option_string(value);
  }
  if (synchronous && type == "getFixtureDigest") {
    // Errors come as C++ exceptions thrown in tdapi and tdutils and caught here, so the C++
    // runtime's unwinding is exercised across the libraries, as TDLib's code does.
    try {
      return api_digest(digest_of(api_required_string(request, "text")));
    } catch (const std::invalid_argument &error) {
      return api_error(400, error.what());
    } catch (const std::exception &error) {
      return api_error(500, error.what());
    }
  }
  if (synchronous && type == "addLogMessage") {
    log_message(static_cast<int>(json_int(request, "verbosity_level")), json_string(request, "text"));
    return api_ok();
  }
  if (!synchronous && type == "testSquareInt") {
    auto x = json_int(request, "x");
    return api_test_int(x * x);
  }
  return synchronous ? api_error(400, "The method can't be executed synchronously")
                     : api_error(400, "Unknown class");
}
}  // namespace

int core_create_client() {
  init_once();
  return ++last_client_id;
}

std::string core_execute(const std::string &request) {
  return api_finish(answer(request, true), json_raw(request, "@extra"), 0);
}

void core_send(int client_id, const std::string &request, int queue, bool with_client_id) {
  auto response = mtproto_pack(request).empty() ? api_error(500, "Network is unavailable")
                                                 : answer(request, false);
  actor_post(queue, api_finish(response, json_raw(request, "@extra"), with_client_id ? client_id : 0));
}

bool core_receive(int queue, double timeout, std::string &response) {
  return actor_wait(queue, timeout, response);
}

void core_drop_queue(int queue) {
  actor_drop(queue);
}

}  // namespace td
