/* tdsqlite: a tiny key-value table in C, standing in for TDLib's bundled SQLite. */
#ifndef TDSQLITE_H
#define TDSQLITE_H

#ifdef __cplusplus
extern "C" {
#endif

int tdsqlite_open(void);
int tdsqlite_put(const char *key, const char *value);
const char *tdsqlite_get(const char *key);

#ifdef __cplusplus
}
#endif

#endif
