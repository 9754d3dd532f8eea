/* The options every binary answers alike: --help (exits 0, lists the options
 * and the configuration keys the program reads) and --version (the package
 * version, and the git revision when built from a checkout). Neither reads
 * the configuration or touches the database. */
#ifndef COMMERCE_CLI_H
#define COMMERCE_CLI_H

/* When arg is --help or -h, or --version or -V: print to stdout and return 1
 * (the caller exits 0). Else 0. usage is the synopsis and option lines;
 * program is the CONFIG_FOR_* bit of the keys it reads (0: it reads no
 * configuration file). */
int cli_standard(const char *arg, const char *name, const char *usage, unsigned program);

#endif
