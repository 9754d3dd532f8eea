/* mkkeys DIR: the test stack's token keys (see tests/lib/keys.h). */
#include <stdio.h>

#include "lib/keys.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkkeys DIR\n");
        return 2;
    }
    if (tk_write_test_keys(argv[1]) != 0) {
        fprintf(stderr, "mkkeys: cannot write keys into %s\n", argv[1]);
        return 1;
    }
    return 0;
}
