/* links: the HTML link extractor, a purpose-built tokenizer that follows the
 * HTML Standard's tokenization rules as far as link extraction needs: tags
 * and attributes (quoted, unquoted, duplicate names: the first wins; a tag
 * cut off by the end of the document is dropped), comments (including "<!-->"
 * and "<!--->"), doctype and bogus comments, raw text in style/xmp/iframe/
 * noembed/noframes, script data with its "<!--" escape states, RCDATA in
 * title/textarea, "<plaintext>", and character references in attribute
 * values (the Standard's full named table, the legacy no-';' rule for
 * attributes, windows-1252 numbers). The tree builder's effect on the
 * tokenizer is followed where it matters for links: inline SVG and MathML
 * (no raw text, real CDATA, breakout tags, integration points) and <select>
 * (most start tags ignored). Malformed input never fails: it is tokenized as
 * a browser would, as far as these rules go. tests/integration/
 * test_links_diff.py checks all of it against html5lib.
 *
 * It reports raw attribute values (character references decoded); the caller
 * resolves them against the document URL or <base href>. Extracted:
 *   follow:     a[href], area[href], link[href] with rel alternate, next,
 *               prev or canonical, frame[src], iframe[src],
 *               meta http-equiv=refresh content URL
 *   requisites: img[src], img[srcset], source[src|srcset], script[src],
 *               link[href] rel stylesheet or icon, embed[src], video[src|poster],
 *               audio[src], track[src], input[src]
 * plus the first <base href>, <meta name=robots content=nofollow|none>, and
 * rel=nofollow on each link.
 *
 * Pure function over a buffer; no allocation on the hot path except for
 * decoded values; any thread (it runs on the executor pool).
 */
#ifndef CRAWL_CRAWL_LINKS_H
#define CRAWL_CRAWL_LINKS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { LINK_FOLLOW, LINK_REQUISITE } link_kind;

typedef struct link_ref {
    const char *value; /* attribute value, decoded, NUL-terminated (valid only during the callback) */
    size_t len;
    link_kind kind;
    bool nofollow;     /* rel=nofollow on this element */
    const char *tag;   /* "a", "img", ... */
} link_ref;

typedef struct links_info {
    char base[2048];   /* first <base href>, or "" */
    bool meta_nofollow;/* <meta name=robots content=nofollow|none> */
    bool meta_noindex;
    size_t found;      /* links reported */
} links_info;

/* Calls fn for every link in document order, up to max (0 = no limit).
 * Returns the number reported. */
typedef void (*links_fn)(void *ud, const link_ref *l);
size_t links_extract(const char *html, size_t len, size_t max, links_fn fn, void *ud, links_info *info);

#endif
