/* Unit tests: the HTML link tokenizer against the HTML Standard's tokenizer
 * edge cases that matter for link extraction, plus a randomized robustness
 * run (meaningful under ASan/UBSan: no read outside the input, no crash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/links.h"
#include "testutil.h"

typedef struct got {
    char v[32][256];
    int n;
    bool nofollow[32];
} got;

static void collect(void *ud, const link_ref *l)
{
    got *g = ud;
    if (g->n < 32) {
        snprintf(g->v[g->n], sizeof g->v[0], "%.*s", (int)l->len, l->value);
        g->nofollow[g->n++] = l->nofollow;
    }
}

static got extract(const char *html, links_info *info)
{
    got g;
    memset(&g, 0, sizeof g);
    links_info tmp;
    links_extract(html, strlen(html), 0, collect, &g, info ? info : &tmp);
    return g;
}

#define EXPECT(html, ...)                                                                                              \
    do {                                                                                                               \
        const char *want[] = {__VA_ARGS__};                                                                           \
        got g = extract(html, NULL);                                                                                   \
        int nw = (int)(sizeof want / sizeof want[0]);                                                                  \
        if (nw == 1 && want[0] == NULL)                                                                                \
            nw = 0;                                                                                                    \
        ck_assert_msg(g.n == nw, "%s: %d links, want %d (first: %s)", html, g.n, nw, g.n ? g.v[0] : "");              \
        for (int i = 0; i < nw; i++)                                                                                   \
            ck_assert_msg(strcmp(g.v[i], want[i]) == 0, "%s: link %d is '%s', want '%s'", html, i, g.v[i], want[i]); \
    } while (0)

START_TEST(test_tokenizer_edge_cases)
{
    EXPECT("<a href=x>", "x");
    EXPECT("<A HREF='X'>", "X");
    EXPECT("<a href = \"x y\" >", "x y");
    EXPECT("<a href=x href=y>", "x");                 /* duplicate attribute: the first wins */
    EXPECT("<a title='>' href=x>", "x");              /* '>' inside a quoted value */
    EXPECT("<a\nhref\n=\nx>", "x");
    EXPECT("<a href>", NULL);                          /* empty value: nothing */
    EXPECT("<a/href=x>", "x");                         /* '/' between attributes */
    EXPECT("<!--><a href=after>", "after");            /* "<!-->" is a complete comment */
    EXPECT("<!---><a href=after>", "after");
    EXPECT("<!-- <a href=no> --!><a href=yes>", "yes");
    EXPECT("<!-- -- <a href=no> --><a href=yes>", "yes");
    EXPECT("<!DOCTYPE html><a href=x>", "x");
    EXPECT("<![CDATA[<a href=x>]]><a href=y>", "y");   /* CDATA in HTML is a bogus comment to '>' */
    EXPECT("<?php echo '<a href=no>' ?><a href=y>", "y"); /* a bogus comment, to the first '>' */
    EXPECT("<script><a href=no></script><a href=yes>", "yes");
    EXPECT("<script>x='</scriptx><a href=no>'</script ><a href=yes>", "yes");
    EXPECT("<SCRIPT src=s.js></SCRIPT><a href=yes>", "s.js", "yes"); /* requisites are reported too */
    EXPECT("<style>a{} <a href=no></style><a href=yes>", "yes");
    EXPECT("<title><a href=no></title><a href=yes>", "yes");
    EXPECT("<textarea><a href=no></textarea><a href=yes>", "yes");
    EXPECT("<plaintext><a href=no>", NULL);
    EXPECT("<a href='&amp;&lt;&#65;&#x42;&hearts;&bogus;&amp'>", "&<AB\xe2\x99\xa5&bogus;&");
    EXPECT("<a href='?a=1&copy=2'>", "?a=1&copy=2");   /* no ';' before '=': not a reference */
    EXPECT("a < b <a href=x> c > d", "x");
    EXPECT("<a href=x", NULL);                          /* EOF inside a tag: the tag is never emitted */
    EXPECT("<a href='x>", NULL);
    EXPECT("<a href=x/><b>", "x/");                     /* '/' inside an unquoted value */
    /* character references as the Standard decodes them in attributes */
    EXPECT("<a href='&#128;&#x9F;&#x81;'>", "\xe2\x82\xac\xc5\xb8\xc2\x81"); /* windows-1252 for 0x80-0x9F */
    EXPECT("<a href='&copy &not&x &notit; &notin; &AMP &NotEqualTilde;'>",
           "\xc2\xa9 \xc2\xac&x &notit; \xe2\x88\x89 & \xe2\x89\x82\xcc\xb8"); /* legacy names, 2-code-point names */
    EXPECT("<a href='&hellip &hellip;'>", "&hellip \xe2\x80\xa6"); /* not a legacy name: needs ';' */
    EXPECT("<a href='a\r\nb\rc'>", "a\nb\nc");     /* input stream preprocessing */
    /* foreign content: no raw text, real CDATA, breakout tags, integration points */
    EXPECT("<svg><style><a href=in-svg></style></svg>", "in-svg");
    EXPECT("<svg><![CDATA[ > <a href=no> ]]><a href=yes></svg>", "yes");
    EXPECT("<math><title><a href=x></math>", "x");
    EXPECT("<svg><p><style><a href=no></style><a href=yes>", "yes"); /* <p> ends foreign content */
    EXPECT("<svg><foreignObject><style><a href=no></style></foreignObject><style><a href=yes>", "yes");
    EXPECT("<svg/><style><a href=no></style><a href=yes>", "yes"); /* self-closed: still HTML */
    /* in <select> an ignored <title> switches nothing; <textarea> closes the select */
    EXPECT("<select><title><a href=yes></title></select>", "yes");
    EXPECT("<select><textarea><a href=no></textarea><a href=yes>", "yes");
    /* script data escapes: inside "<!--", "<script>" hides the next "</script>" */
    EXPECT("<script><!--<script></script><a href=no></script>--></script><a href=yes>", "yes");
    EXPECT("<script><!--</script><a href=yes>", "yes");
    EXPECT("<script><!--><a href=no></script><a href=yes>", "yes");
    EXPECT("<", NULL);
    EXPECT("</a href='<a href=no>'><a href=yes>", "yes"); /* attributes of end tags are parsed too */
    EXPECT("<area href=a><link rel=next href=n><link rel=stylesheet href=s><frame src=f><iframe src=i></iframe>",
           "a", "n", "s", "f", "i");
    EXPECT("<meta http-equiv=refresh content=\"0; url='r.html'\">", "r.html");
    EXPECT("<meta http-equiv=Refresh content=\"5;URL=http://h/x\">", "http://h/x");
    links_info info;
    got g = extract("<base href='/b/'><base href='/c/'><a href=x rel='external NoFollow'>"
                    "<meta name=robots content='noindex,nofollow'>",
                    &info);
    ck_assert_str_eq(info.base, "/b/");
    ck_assert(info.meta_nofollow && info.meta_noindex);
    ck_assert_int_eq(g.n, 1);
    ck_assert(g.nofollow[0]);
}
END_TEST

static void noop(void *ud, const link_ref *l)
{
    size_t *sum = ud;
    *sum += l->len;
    ck_assert(l->value[l->len] == 0);
}

START_TEST(test_random_input_robustness)
{
    static const char *tokens[] = {"<a ", "<a href=", "href=", "'", "\"", ">", "<!--", "-->", "--!>", "<script>",
                                   "</script", "&amp;", "&#", "&#x", "x", " ", "=", "/", "<", "<!", "]]>", "<title>",
                                   "</title>", "src=", "<img ", "srcset=", ",", "<meta http-equiv=refresh content=",
                                   "url=", ";", "\n", "<base href=", "&", "9", "<plaintext>", "<?", "</"};
    unsigned seed = 12345;
    size_t sum = 0;
    char tmp[2048];
    for (int round = 0; round < 5000; round++) {
        size_t len = 0;
        int nt = rand_r(&seed) % 60;
        for (int t = 0; t < nt; t++) {
            const char *tok = tokens[(size_t)rand_r(&seed) % (sizeof tokens / sizeof tokens[0])];
            size_t tl = strlen(tok);
            if (len + tl < sizeof tmp) {
                memcpy(tmp + len, tok, tl);
                len += tl;
            }
        }
        char *buf = malloc(len ? len : 1); /* exactly len bytes: ASan sees any overread */
        memcpy(buf, tmp, len);
        links_info info;
        links_extract(buf, len, 0, noop, &sum, &info);
        free(buf);
    }
    ck_assert(sum > 0);
}
END_TEST

static Suite *links_suite(void)
{
    Suite *s = suite_create("links");
    TCase *tc = tcase_create("links");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_tokenizer_edge_cases);
    tcase_add_test(tc, test_random_input_robustness);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(links_suite()); }
