/* fuzz_imagespec: the ImageSpec annotation reader. A parsed list must be
 * bounded, every spec's text must be its own object inside the annotation
 * (strict JSON), every union spec must have a lowercase name and a
 * registry that the flytekit rule accepts; a refusal must say why. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzzutil.h"
#include "imageref.h"
#include "imagespec.h"
#include "jsonscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);
    imagespec_list_t l;
    char why[512];
    why[0] = '\0';
    if (imagespec_parse(s, size, &l, why, sizeof why)) {
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
