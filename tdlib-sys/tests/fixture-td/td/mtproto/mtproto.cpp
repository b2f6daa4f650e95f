#include "td/internal.h"

#include <openssl/rand.h>
#include <zlib.h>

namespace td {

// "Serialises" a query into a packet header: session, message hash and a nonce-salted crc.
// Empty when the network layer is unusable.
std::string mtproto_pack(const std::string &query) {
  static const int session = actor_spawn("Session");
  unsigned char nonce[8];
  if (!net_init() || RAND_bytes(nonce, sizeof nonce) != 1) {
    return {};
  }
  uLong crc = crc32(crc32(0L, nonce, sizeof nonce), reinterpret_cast<const Bytef *>(query.data()),
                    static_cast<uInt>(query.size()));
  return std::to_string(session) + ':' + sha256_hex(query).substr(0, 16) + ':' + std::to_string(crc);
}

}  // namespace td
