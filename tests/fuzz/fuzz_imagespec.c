/* fuzz_imagespec: the ImageSpec annotation reader. A parsed list must be
 * bounded, every spec's text must be its own object inside the annotation
 * (strict JSON), every union spec must have a lowercase name and a
 * registry that the flytekit rule accepts; a refusal must say why. The
 * cache of parsed annotations (specache.h), small so that it evicts, must
 * answer each input as the reader does, on a miss and on a hit. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzzutil.h"
#include "imageref.h"
#include "imagespec.h"
#include "jsonscan.h"
#include "specache.h"

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The cache answers `s` as imagespec_parse answered it (`ok`, `l`, `why`). */
static void cache_agrees(const char *s, size_t size, bool ok, const imagespec_list_t *l,
                         const char *why)
{
    static specache_t *c;
    if (!c)
        c = specache_new(4, 8192, 2048);
    FUZZ_CHECK(c != NULL);
    for (int round = 0; round < 2; round++) {
        imagespec_list_t g;
        char gwhy[512] = "";
        FUZZ_CHECK(specache_parse(c, s, size, &g, gwhy, sizeof gwhy) == ok);
        FUZZ_CHECK(strcmp(gwhy, ok ? "" : why) == 0);
        FUZZ_CHECK(!ok || g.n == l->n);
        for (size_t i = 0; ok && i < l->n; i++) {
            const imagespec_t *a = &g.specs[i], *b = &l->specs[i];
            FUZZ_CHECK(a->text_len == b->text_len && !memcmp(a->text, b->text, b->text_len));
            FUZZ_CHECK(same_str(a->name, b->name) && same_str(a->builder, b->builder));
            FUZZ_CHECK(same_str(a->pull_secret, b->pull_secret));
            FUZZ_CHECK(same_str(a->given_name, b->given_name));
            FUZZ_CHECK(a->is_union == b->is_union && a->has_registry == b->has_registry);
            FUZZ_CHECK(a->scheme_stripped == b->scheme_stripped);
            FUZZ_CHECK(strcmp(a->registry, b->registry) == 0);
        }
        imagespec_list_free(&g);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);
    imagespec_list_t l;
    char why[512];
    why[0] = '\0';
    bool ok = imagespec_parse(s, size, &l, why, sizeof why);
    cache_agrees(s, size, ok, &l, why);
    if (ok) {
        FUZZ_CHECK(l.n <= IMAGESPEC_MAX_SPECS);
        for (size_t i = 0; i < l.n; i++) {
            const imagespec_t *sp = &l.specs[i];
            FUZZ_CHECK(sp->json != NULL);
            /* the spec's own text: inside the annotation, an object by itself */
            FUZZ_CHECK(sp->text >= s && sp->text_len > 0 && sp->text + sp->text_len <= s + size);
            FUZZ_CHECK(sp->text[0] == '{' && sp->text[sp->text_len - 1] == '}');
            jsonscan_result_t r;
            FUZZ_CHECK(jsonscan(sp->text, sp->text_len, NULL, 0, &r) == JSONSCAN_OK);
            if (!sp->is_union)
                continue;
            FUZZ_CHECK(sp->name != NULL && sp->name[0] != '\0');
            for (const char *p = sp->name; *p; p++)
                FUZZ_CHECK(!isupper((unsigned char)*p));
            if (sp->has_registry) {
                size_t n = strnlen(sp->registry, sizeof sp->registry);
                FUZZ_CHECK(n > 0 && n < sizeof sp->registry);
                char out[IMAGESPEC_REGISTRY_MAX];
                FUZZ_CHECK(imageref_parse_registry(sp->registry, n, out, sizeof out, NULL, NULL));
            }
        }
        imagespec_list_free(&l);
    } else {
        FUZZ_CHECK(memchr(why, '\0', sizeof why) != NULL && why[0] != '\0');
    }
    free(s);
    return 0;
}
