/* config: configuration files for batch jobs (crawl.conf(5)).
 *
 * INI syntax, parsed with inih: a [defaults] section and one [job NAME]
 * section per job; every key is an option's long name. Values may use
 * ${NAME} to take an environment variable ($$ is a literal $), so secrets
 * stay out of the file. Every problem is reported as "FILE:LINE: message";
 * loading goes on after an error so that all of them are reported at once.
 *
 * Ownership: a conf owns its assignment lists and strings (conf_free).
 * Single-threaded.
 */
#ifndef CRAWL_CLI_CONFIG_H
#define CRAWL_CLI_CONFIG_H

#include <stdio.h>

#include "options.h"

typedef struct conf_job {
    char *name;
    int line;
    opt_list set;
} conf_job;

typedef struct conf {
    char *path;
    opt_list defaults;
    conf_job *jobs;
    size_t njobs;
} conf;

/* Returns the number of errors printed to err (0 = loaded). */
int conf_load(const char *path, conf *out, FILE *err);
void conf_free(conf *c);

#endif
