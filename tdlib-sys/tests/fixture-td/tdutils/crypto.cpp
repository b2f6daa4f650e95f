#include "td/internal.h"

#include <dlfcn.h>
#include <openssl/sha.h>
#include <zlib.h>

namespace td {

std::string sha256_hex(const std::string &data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char *>(data.data()), data.size(), digest);
  static const char hex[] = "0123456789abcdef";
  std::string result;
  for (unsigned char byte : digest) {
    result += hex[byte >> 4];
    result += hex[byte & 15];
  }
  return result;
}

unsigned crc32_of(const std::string &data) {
  // Refuse a zlib whose major version differs from the headers', like TDLib's checks do.
  if (zlibVersion()[0] != ZLIB_VERSION[0]) {
    return 0;
  }
  return static_cast<unsigned>(
      crc32(0L, reinterpret_cast<const Bytef *>(data.data()), static_cast<uInt>(data.size())));
}

std::string module_path() {
  // The file this code was loaded from: libtdjson.so, or the program it was linked into.
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&module_path), &info) == 0 || info.dli_fname == nullptr) {
    return {};
  }
  return info.dli_fname;
}

}  // namespace td
