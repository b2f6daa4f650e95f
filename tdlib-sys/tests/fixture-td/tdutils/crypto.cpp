#include "td/internal.h"

#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <vector>

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

Digest digest_of(const std::string &data) {
  unsigned char sha[EVP_MAX_MD_SIZE];
  unsigned int sha_size = 0;
  if (EVP_Digest(data.data(), data.size(), sha, &sha_size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  std::ostringstream hex;
  hex << std::hex << std::setfill('0');
  for (unsigned int i = 0; i < sha_size; i++) {
    hex << std::setw(2) << static_cast<int>(sha[i]);
  }

  uLongf deflated_size = compressBound(static_cast<uLong>(data.size()));
  std::vector<Bytef> deflated(deflated_size);
  if (compress2(deflated.data(), &deflated_size, reinterpret_cast<const Bytef *>(data.data()),
                static_cast<uLong>(data.size()), Z_BEST_COMPRESSION) != Z_OK) {
    throw std::runtime_error("compress2 failed");
  }
  // One spare byte, so that inflating into an exactly full buffer is not mistaken for truncation.
  std::string inflated(data.size() + 1, '\0');
  uLongf inflated_size = static_cast<uLongf>(inflated.size());
  if (uncompress(reinterpret_cast<Bytef *>(&inflated[0]), &inflated_size, deflated.data(), deflated_size) !=
      Z_OK) {
    throw std::runtime_error("uncompress failed");
  }
  inflated.resize(inflated_size);
  if (inflated != data) {
    throw std::runtime_error("the zlib round trip changed the data");
  }
  return Digest{hex.str(), crc32_of(data), deflated_size};
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
