#include "tdsqlite.h"

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <string.h>
#include <zlib.h>

/* A fixed table is enough for the few options the fixture stores; callers serialise access. */
#define TDSQLITE_ROWS 32

static struct {
  unsigned long key_crc;
  char key[64];
  char value[1024];
} rows[TDSQLITE_ROWS];

int tdsqlite_open(void) {
  /* SQLite loads extensions with dl*; do the same minimal thing. */
  void *self = dlopen(NULL, RTLD_LAZY);
  if (self == NULL) {
    return 0;
  }
  dlclose(self);
  return 1;
}

int tdsqlite_put(const char *key, const char *value) {
  unsigned long key_crc = crc32(0L, (const Bytef *)key, (uInt)strlen(key));
  int i;
  if (strlen(key) >= sizeof(rows[0].key) || strlen(value) >= sizeof(rows[0].value)) {
    return 0;
  }
  for (i = 0; i < TDSQLITE_ROWS; i++) {
    if (rows[i].key[0] == '\0' || (rows[i].key_crc == key_crc && strcmp(rows[i].key, key) == 0)) {
      OPENSSL_cleanse(rows[i].value, sizeof(rows[i].value)); /* old values may be secrets */
      rows[i].key_crc = key_crc;
      strcpy(rows[i].key, key);
      strcpy(rows[i].value, value);
      return 1;
    }
  }
  return 0;
}

const char *tdsqlite_get(const char *key) {
  unsigned long key_crc = crc32(0L, (const Bytef *)key, (uInt)strlen(key));
  int i;
  for (i = 0; i < TDSQLITE_ROWS && rows[i].key[0] != '\0'; i++) {
    if (rows[i].key_crc == key_crc && strcmp(rows[i].key, key) == 0) {
      return rows[i].value;
    }
  }
  return NULL;
}
