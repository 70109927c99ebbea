/* libFuzzer target: the configuration file parser (src/cli/config.c, inih)
 * and the option values it applies (src/cli/options.c), with ${VAR}
 * expansion. The input is written to a file, as conf_load reads paths. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/crawl-fuzz-conf-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    FILE *devnull = fopen("/dev/null", "w");
    conf c;
    memset(&c, 0, sizeof c);
    if (conf_load(path, &c, devnull) == 0) {
        for (size_t i = 0; i < c.njobs; i++) {
            crawl_opts o;
            opts_defaults(&o);
            opts_apply(&o, &c.defaults, devnull);
            opts_apply(&o, &c.jobs[i].set, devnull);
            opts_free(&o);
        }
    }
    conf_free(&c);
    fclose(devnull);
    unlink(path);
    return 0;
}
