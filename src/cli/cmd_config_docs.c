/*
 * aerokafka config-docs (hidden): prints the configuration reference,
 * rendered from the config tables, as Markdown. docs/CONFIGURATION.md is
 * this output; tests/cli/test_config_docs.sh keeps the two identical.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/ak_cli.h"
#include "inbound/ak_inbound_config.h"
#include "outbound/ak_outbound_config.h"

int ak_cmd_config_docs(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: aerokafka config-docs\n\n"
               "Prints the configuration reference (docs/CONFIGURATION.md) as Markdown:\n"
               "every key of every section, its type, default and meaning.\n"
               "Regenerate the file with: aerokafka config-docs > docs/CONFIGURATION.md\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "aerokafka config-docs: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    ak_buf_t out;
    ak_buf_init(&out);
    ak_outbound_config_render_docs(&out);
    ak_inbound_config_render_docs(&out);
    if (ak_buf_failed(&out)) {
        ak_buf_free(&out);
        fprintf(stderr, "aerokafka config-docs: out of memory\n");
        return 1;
    }
    bool ok = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0;
    ak_buf_free(&out);
    return ok ? 0 : 1;
}
