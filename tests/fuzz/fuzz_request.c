/* libFuzzer target: request object lines (src/net/request.c), the JSON
 * objects an input line may hold. Asserts: a parse either fails with a
 * message or gives a URL and a spec whose method is a token, whose header
 * lines hold no line break and whose body length is consistent. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "net/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = 0;
    char *url = NULL, why[160] = "";
    request_spec *s = NULL;
    int rc = request_from_json(line, &url, &s, why, sizeof why);
    if (rc == 0) {
        assert(url && s);
        assert(!s->method || request_is_token(s->method));
        for (struct curl_slist *h = s->headers; h; h = h->next)
            assert(!strpbrk(h->data, "\r\n"));
        assert(!s->body || strlen(s->body) <= s->body_len);
        (void)request_method(s);
        request_spec_clear(s);
        free(s);
        free(url);
    } else {
        assert(why[0] && !url && !s);
    }
    free(line);
    return 0;
}
