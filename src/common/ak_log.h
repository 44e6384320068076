/*
 * ak_log: levelled log lines to stderr or a file.
 *
 *   2026-11-24T23:30:01.123Z INFO  outbound: listening on 0.0.0.0:8080 (tcp)
 *
 * Only commands and connectors log; library layers return errors instead.
 * Thread-safe (one write(2) per line).
 */
#ifndef AK_LOG_H
#define AK_LOG_H

#include <stdbool.h>

typedef enum ak_log_level {
    AK_LOG_TRACE = 0,
    AK_LOG_DEBUG,
    AK_LOG_INFO,
    AK_LOG_WARN,
    AK_LOG_ERROR,
    AK_LOG_OFF,
} ak_log_level_t;

/* One `logging.levels` entry of a connector's file. */
typedef struct ak_log_level_setting {
    char *logger;          /* "root", "com.aerospike.connect", ... */
    ak_log_level_t level;
} ak_log_level_setting_t;

/* "trace", "debug", "info", "warn" (or "warning"), "error", "off". */
bool ak_log_level_parse(const char *name, ak_log_level_t *out);
const char *ak_log_level_name(ak_log_level_t level);

void ak_log_set_level(ak_log_level_t level);
ak_log_level_t ak_log_get_level(void);
/* Appends to path (NULL or "" = stderr). Returns false with errno set. */
bool ak_log_open_file(const char *path);
/* Keep this many days of rotated files (PATH.YYYY-MM-DD, rotated at the
 * first line of each UTC day); 0 keeps them all. */
void ak_log_set_max_history(int days);
/* Also copy lines to stderr when logging to a file. */
void ak_log_set_console(bool console);
void ak_log_close(void);

bool ak_log_enabled(ak_log_level_t level);
void ak_log(ak_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
