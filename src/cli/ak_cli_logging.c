/*
 * The `logging` section both connectors share: its notes at start and how
 * it is applied.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/ak_cli.h"

void ak_cli_logging_notes(const char *cmd, const char *cfg_path, const ak_log_level_setting_t *levels,
                          size_t n_levels)
{
    /* Java logger names are accepted so existing files keep working, but
     * aerokafka keeps one log: say so rather than ignore them silently. */
    for (size_t i = 0; i < n_levels; i++)
        if (strcmp(levels[i].logger, "root") != 0)
            fprintf(stderr, "aerokafka %s: note: %s: logging.levels.%s has no effect: aerokafka keeps "
                            "one log, whose level is logging.levels.root\n",
                    cmd, cfg_path, levels[i].logger);
}

int ak_cli_logging_apply(const char *cmd, const char *cfg_path, const ak_log_level_setting_t *levels,
                         size_t n_levels, const char *file, bool console, int64_t max_history)
{
    for (size_t i = 0; i < n_levels; i++)
        if (strcmp(levels[i].logger, "root") == 0)
            ak_log_set_level(levels[i].level);
    if (file && *file) {
        if (!ak_log_open_file(file)) {
            fprintf(stderr, "aerokafka %s: %s: logging.file '%s': %s\n", cmd, cfg_path, file, strerror(errno));
            return -1;
        }
        ak_log_set_console(console);
        ak_log_set_max_history((int)max_history);
    }
    return 0;
}
