#include "common/ak_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static ak_log_level_t ak_log_level = AK_LOG_INFO;
static int ak_log_fd = -1; /* -1: stderr */
static bool ak_log_console;
/* Daily rotation of the log file: at the first line of a new (UTC) day the
 * file is renamed PATH.YYYY-MM-DD and a new one started; files older than
 * max_history days are removed. */
static pthread_mutex_t ak_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char ak_log_path[4096];
static int ak_log_day = -1;     /* days since 1970 of the open file */
static int ak_log_max_history;  /* 0: keep every rotated file */

static const char *const ak_log_names[] = {"trace", "debug", "info", "warn", "error", "off"};

bool ak_log_level_parse(const char *name, ak_log_level_t *out)
{
    for (int i = 0; i <= AK_LOG_OFF; i++) {
        if (strcasecmp(name, ak_log_names[i]) == 0) {
            *out = (ak_log_level_t)i;
            return true;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = AK_LOG_WARN;
        return true;
    }
    return false;
}

const char *ak_log_level_name(ak_log_level_t level)
{
    return level <= AK_LOG_OFF ? ak_log_names[level] : "?";
}

void ak_log_set_level(ak_log_level_t level)
{
    ak_log_level = level;
}

ak_log_level_t ak_log_get_level(void)
{
    return ak_log_level;
}

static int ak_log_today(void)
{
    return (int)(time(NULL) / 86400);
}

static void ak_log_day_name(int day, char out[16])
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

bool ak_log_open_file(const char *path)
{
    if (!path || !*path)
        return true;
    if (strlen(path) >= sizeof ak_log_path - 16)
        return false;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    if (ak_log_fd >= 0)
        close(ak_log_fd);
    ak_log_fd = fd;
    snprintf(ak_log_path, sizeof ak_log_path, "%s", path);
    ak_log_day = ak_log_today();
    return true;
}

void ak_log_set_max_history(int days)
{
    ak_log_max_history = days;
}

/* Called with ak_log_lock held. */
static void ak_log_rotate(int today)
{
    char name[16], rotated[sizeof ak_log_path + 20];
    ak_log_day_name(ak_log_day, name);
    snprintf(rotated, sizeof rotated, "%s.%s", ak_log_path, name);
    rename(ak_log_path, rotated);
    int fd = open(ak_log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        close(ak_log_fd);
        ak_log_fd = fd;
    }
    ak_log_day = today;
    if (ak_log_max_history > 0) {
        /* remove the file that just fell out of the window (and a few
         * before it, in case the process slept through some days) */
        for (int back = ak_log_max_history + 1; back <= ak_log_max_history + 7; back++) {
            ak_log_day_name(today - back, name);
            snprintf(rotated, sizeof rotated, "%s.%s", ak_log_path, name);
            unlink(rotated);
        }
    }
}

void ak_log_set_console(bool console)
{
    ak_log_console = console;
}

void ak_log_close(void)
{
    if (ak_log_fd >= 0)
        close(ak_log_fd);
    ak_log_fd = -1;
}

bool ak_log_enabled(ak_log_level_t level)
{
    return level >= ak_log_level && ak_log_level != AK_LOG_OFF;
}

void ak_log(ak_log_level_t level, const char *component, const char *fmt, ...)
{
    if (!ak_log_enabled(level))
        return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     level == AK_LOG_WARN ? "WARN" : level == AK_LOG_ERROR ? "ERROR"
                                                   : level == AK_LOG_INFO  ? "INFO"
                                                   : level == AK_LOG_DEBUG ? "DEBUG"
                                                                           : "TRACE",
                     component);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    if (ak_log_fd >= 0) {
        int today = (int)(ts.tv_sec / 86400);
        pthread_mutex_lock(&ak_log_lock);
        if (today != ak_log_day && ak_log_day >= 0)
            ak_log_rotate(today);
        pthread_mutex_unlock(&ak_log_lock);
    }
    int fd = ak_log_fd >= 0 ? ak_log_fd : STDERR_FILENO;
    ssize_t w = write(fd, line, len);
    if (ak_log_fd >= 0 && ak_log_console)
        w = write(STDERR_FILENO, line, len);
    (void)w;
}
