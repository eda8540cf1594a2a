#ifndef SEMID_CSQLITE_SHIM_H
#define SEMID_CSQLITE_SHIM_H
#include <sqlite3.h>

/* SQLITE_TRANSIENT is a macro Swift cannot import: it is the destructor value -1. */
static inline sqlite3_destructor_type semid_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
