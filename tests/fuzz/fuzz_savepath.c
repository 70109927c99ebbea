/* libFuzzer target: the save-path mapping (src/out/savepath.c). Asserts: a
 * mapped path is relative, within PATH_MAX, has no empty, "." or ".."
 * segment (nothing climbs out of DIR), whatever the layout switches (-nH,
 * -nd, --cut-dirs, -E), which the first input byte picks. */
#include <linux/limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "out/savepath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 16);
    if (!url)
        return 0;
    memcpy(url, "http://", 7);
    memcpy(url + 7, data, size);
    url[7 + size] = 0;
    if (strlen(url) != 7 + size) { /* NUL inside: not a URL string */
        free(url);
        return 0;
    }
    char out[PATH_MAX];
    unsigned sw = size ? data[0] : 0;
    savepath_opts o = {.no_host_dirs = sw & 1,
                       .no_dirs = sw & 2,
                       .cut_dirs = (int)(sw >> 4 & 7),
                       .adjust_ext = sw & 4,
                       .content_type = sw & 8 ? "text/html" : "text/css"};
    if (savepath_for_url_opts(url, &o, out, sizeof out) == 0) {
        size_t n = strlen(out);
        if (n == 0 || n >= PATH_MAX || out[0] == '/')
            abort();
        for (char *seg = out; seg;) {
            char *slash = strchr(seg, '/');
            size_t l = slash ? (size_t)(slash - seg) : strlen(seg);
            if (l == 0 || (l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.'))
                abort();
            seg = slash ? slash + 1 : NULL;
        }
    }
    free(url);
    return 0;
}
