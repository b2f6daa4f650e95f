#include "td/internal.h"

#include <dlfcn.h>
#include <openssl/sha.h>
#include <zlib.h>

namespace td {

// A short key fingerprint. tde2e needs no other TDLib library, only the system ones.
std::string e2e_fingerprint(const std::string &key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char *>(key.data()), key.size(), digest);
  unsigned long checksum = adler32(0L, digest, sizeof digest);
  // Optional hardware-backed key storage would be found at run time; the fixture never has one.
  if (dlsym(RTLD_DEFAULT, "td_e2e_key_storage") != nullptr) {
    checksum ^= 1;
  }
  return std::to_string(checksum);
}

}  // namespace td
