// Internal interface between the fixture's libraries. Each library calls into every library
// its pkg-config file names (and into the system libraries it names), so that a wrong link
// order really fails with undefined references.
#pragma once

#include <string>

namespace td {

// tdutils: misc.cpp
std::string json_raw(const std::string &json, const std::string &key);  // raw value text, or ""
std::string json_string(const std::string &json, const std::string &key);
long long json_int(const std::string &json, const std::string &key);
std::string json_quote(const std::string &text);
double time_now();  // monotonic seconds

// tdutils: logging.cpp
using LogMessageCallback = void (*)(int verbosity_level, const char *message);
using FatalErrorCallback = void (*)(const char *error_message);
void log_set_message_callback(int max_verbosity_level, LogMessageCallback callback);
void log_set_fatal_error_callback(FatalErrorCallback callback);
bool log_set_file_path(const std::string &path);
void log_set_max_file_size(long long size);
void log_set_verbosity_level(int level);
void log_message(int verbosity_level, const std::string &text);

// tdutils: crypto.cpp
std::string sha256_hex(const std::string &data);
unsigned crc32_of(const std::string &data);
std::string module_path();
struct Digest {
  std::string sha256;  // hex
  unsigned long crc32;
  unsigned long deflated_size;
};
// SHA-256 with OpenSSL's EVP interface, CRC-32 and a deflate/inflate round trip with zlib,
// formatted with iostreams; throws std::runtime_error when a library call fails.
Digest digest_of(const std::string &data);

// tdactor: queues of outgoing events; queue 0 is td_receive's, old API clients have their own.
int actor_spawn(const std::string &name);
void actor_post(int queue, std::string event);
bool actor_wait(int queue, double timeout, std::string &event);
void actor_drop(int queue);

// tdnet
bool net_init();

// tddb
void db_set(const std::string &key, const std::string &value);
std::string db_get(const std::string &key);

// tde2e
std::string e2e_fingerprint(const std::string &key);

// tdmtproto
std::string mtproto_pack(const std::string &query);

// tdapi
std::string api_type(const std::string &object);
std::string api_error(int code, const std::string &message);
std::string api_ok();
std::string api_test_int(long long value);
std::string api_option_string(const std::string &value);
std::string api_option_empty();
std::string api_finish(std::string object, const std::string &extra, int client_id);
std::string api_digest(const Digest &digest);
// The string field `key` of a request; throws std::invalid_argument when it is missing.
std::string api_required_string(const std::string &object, const std::string &key);

// tdcore
int core_create_client();
std::string core_execute(const std::string &request);
void core_send(int client_id, const std::string &request, int queue, bool with_client_id);
bool core_receive(int queue, double timeout, std::string &response);
void core_drop_queue(int queue);

// tdclient
int client_create_id();
void client_send(int client_id, const std::string &request);
bool client_receive(double timeout, std::string &response);
std::string client_execute(const std::string &request);
int client_old_create();
void client_old_send(int client_id, const std::string &request);
bool client_old_receive(int client_id, double timeout, std::string &response);
void client_old_destroy(int client_id);

// tdjson_private: what the exported td_* functions forward to
int json_create_client_id();
void json_send(int client_id, const char *request);
const char *json_receive(double timeout);
const char *json_execute(const char *request);
void *json_client_create();
void json_client_send(void *client, const char *request);
const char *json_client_receive(void *client, double timeout);
void json_client_destroy(void *client);
void json_set_log_message_callback(int max_verbosity_level, LogMessageCallback callback);
int json_set_log_file_path(const char *path);
void json_set_log_max_file_size(long long size);
void json_set_log_verbosity_level(int level);
void json_set_log_fatal_error_callback(FatalErrorCallback callback);

}  // namespace td
