/* fuzz_textcheck: json_text_ok (the UTF-8 and control-character check
 * before a review is parsed) against the byte-by-byte reference of
 * textref.h: the same answer and the same offending offset, on the input
 * itself and on a mostly-ASCII version of it (long printable runs with the
 * input's own bytes here and there), which is where the check takes its
 * word-at-a-time path. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "fuzzutil.h"
#include "textref.h"

static void compare(const char *s, size_t n)
{
    size_t bad = (size_t)-1, ref_bad = (size_t)-2;
    bool ok = json_text_ok(s, n, &bad);
    bool ref = textref_json_text_ok((const unsigned char *)s, n, &ref_bad);
    FUZZ_CHECK(ok == ref);
    if (!ok)
        FUZZ_CHECK(bad == ref_bad && bad < n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_copy(data, size);
    compare(s, size);
    /* one byte in 16 (those that are 0 mod 16) stays as it is; the others
     * become printable ASCII */
    for (size_t i = 0; i < size; i++)
        if (data[i] % 16)
            s[i] = (char)(0x20 + data[i] % 0x5f);
    compare(s, size);
    /* the same from every start within a word, so that runs end at every
     * alignment */
    for (size_t off = 1; off < 8 && off < size; off++)
        compare(s + off, size - off);
    free(s);
    return 0;
}
