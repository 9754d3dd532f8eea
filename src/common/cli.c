#include "common/cli.h"

#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/revision.h"

int cli_standard(const char *arg, const char *name, const char *usage, unsigned program)
{
    if (!arg)
        return 0;
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        if (strcmp(COMMERCE_REVISION, "release") == 0)
            printf("%s (commerce) %s\n", name, COMMERCE_VERSION);
        else
            printf("%s (commerce) %s, git %s\n", name, COMMERCE_VERSION, COMMERCE_REVISION);
        return 1;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        printf("%s\n  -h, --help      this text\n  -V, --version   the version\n", usage);
        if (program) {
            printf("\n");
            config_help(stdout, program);
        }
        printf("\nSee %s(8).\n", name);
        return 1;
    }
    return 0;
}
