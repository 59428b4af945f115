/* fuzz_imageref: the image reference grammar and the ImageSpec registry rule.
 * Checks that every part returned lies inside the input, respects the
 * length limits, that a parsed reference parses again to the same parts,
 * that whitespace is found wherever it is, and where a tag starts. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzzutil.h"
#include "imageref.h"

static bool inside(strview_t v, const char *s, size_t n)
{
    if (v.n == 0)
        return true;
    return v.p >= s && v.p + v.n <= s + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* no NUL after the bytes: the parser must honour `n` */
    char *s = fuzz_copy(data, size);

    imageref_t r;
    imageref_err_t e = imageref_parse(s, size, &r);
    FUZZ_CHECK(imageref_strerror(e) != NULL);
    /* whitespace is reported exactly when a byte is a space, a control
     * character or DEL (checked here one byte at a time) */
    bool ws = false;
    for (size_t i = 0; i < size; i++)
        ws = ws || data[i] <= 0x20 || data[i] == 0x7f;
    FUZZ_CHECK(size == 0 || (e == IMAGEREF_WHITESPACE) == ws);
    /* a tag is what follows the last ':' when no '/' comes after it */
    if (e == IMAGEREF_OK && r.tag.n) {
        FUZZ_CHECK(r.tag.p[-1] == ':' && memchr(r.tag.p, '/', r.tag.n) == NULL);
        FUZZ_CHECK(memchr(r.tag.p, ':', r.tag.n) == NULL);
    }
    if (e == IMAGEREF_OK) {
        FUZZ_CHECK(inside(r.name, s, size) && inside(r.domain, s, size) &&
                   inside(r.path, s, size) && inside(r.tag, s, size) && inside(r.digest, s, size));
        FUZZ_CHECK(r.name.n > 0 && r.name.n <= IMAGEREF_NAME_MAX);
        FUZZ_CHECK(r.tag.n <= IMAGEREF_TAG_MAX);
        FUZZ_CHECK(memchr(s, ' ', size) == NULL);
        strview_t host = imageref_domain_host(r.domain);
        FUZZ_CHECK(host.n <= r.domain.n);
        /* The name alone is a reference too, with the same domain and path
         * (unless it is 64 hex digits: alone, that reads as an image id). */
        imageref_t again;
        imageref_err_t e2 = imageref_parse(r.name.p, r.name.n, &again);
        FUZZ_CHECK(e2 == IMAGEREF_OK || (e2 == IMAGEREF_HEX_NAME && r.name.n == 64));
        if (e2 == IMAGEREF_OK)
            FUZZ_CHECK(again.domain.n == r.domain.n && again.path.n == r.path.n);
    }

    char out[300];
    bool stripped = false;
    const char *why = NULL;
    if (imageref_parse_registry(s, size, out, sizeof out, &stripped, &why)) {
        size_t n = strnlen(out, sizeof out);
        FUZZ_CHECK(n < sizeof out);
        /* The normalised form is accepted again, unchanged, with no scheme. */
        char out2[300];
        bool stripped2 = true;
        const char *why2 = NULL;
        FUZZ_CHECK(imageref_parse_registry(out, n, out2, sizeof out2, &stripped2, &why2));
        FUZZ_CHECK(strcmp(out, out2) == 0 && !stripped2);
    } else {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
    }
    /* A tiny output buffer must be refused, not overrun. */
    char small[4];
    (void)imageref_parse_registry(s, size, small, sizeof small, &stripped, &why);
    free(s);
    return 0;
}
