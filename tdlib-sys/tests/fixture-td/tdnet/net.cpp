#include "td/internal.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <zlib.h>

namespace td {

// Once per process: a TLS context can be made (libssl works) and a connection actor exists.
bool net_init() {
  static const bool ok = [] {
    if (OPENSSL_init_ssl(0, nullptr) != 1) {
      return false;
    }
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == nullptr) {
      ERR_clear_error();
      return false;
    }
    SSL_CTX_free(context);
    return zlibVersion()[0] == ZLIB_VERSION[0] && sha256_hex("").size() == 64 &&
           actor_spawn("Connection") > 0;
  }();
  return ok;
}

}  // namespace td
