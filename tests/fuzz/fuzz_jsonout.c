/* fuzz_jsonout: the JSON string escaper. Whatever the bytes, the string it
 * writes is the one cJSON's printer writes for the same string (up to the
 * first NUL, where cJSON's strings end), the whole input escaped matches a
 * byte-by-byte reference, cJSON reads the written string back as the input,
 * and text already in the buffer stays as it was. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzzutil.h"
#include "jsonout.h"

static void reference(buf_t *b, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        char e[7] = {'\\', 0, 0, 0, 0, 0, 0};
        switch (c) {
        case '"':
        case '\\':
            e[1] = (char)c;
            break;
        case '\b':
            e[1] = 'b';
            break;
        case '\f':
            e[1] = 'f';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        default:
            if (c < 0x20) {
                e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4], e[5] = hex[c & 15];
            } else {
                e[0] = (char)c;
            }
        }
        buf_puts(b, e);
    }
    buf_putc(b, '"');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the first byte picks how much text is in the buffer already */
    size_t prefix = size ? data[0] % 24 : 0;
    const uint8_t *in = size ? data + 1 : data;
    size_t n = size ? size - 1 : 0;
    char *exact = fuzz_copy(in, n);
    buf_t got = BUF_INIT, want = BUF_INIT;
    for (size_t i = 0; i < prefix; i++)
        buf_putc(&got, (char)('a' + i));
    FUZZ_CHECK(json_put_string(&got, exact, n));
    for (size_t i = 0; i < prefix; i++)
        FUZZ_CHECK(got.data[i] == (char)('a' + i));
    reference(&want, in, n);
    FUZZ_CHECK(!got.oom && !want.oom);
    FUZZ_CHECK(got.len == prefix + want.len);
    FUZZ_CHECK(memcmp(got.data + prefix, want.data, want.len) == 0);
    FUZZ_CHECK(got.data[got.len] == '\0');

    /* cJSON, on the string up to its first NUL */
    char *z = fuzz_dup(in, n);
    size_t zn = strlen(z);
    buf_t mine = BUF_INIT;
    FUZZ_CHECK(json_put_string(&mine, z, zn));
    cJSON *str = cJSON_CreateString(z);
    char *printed = str ? cJSON_PrintUnformatted(str) : NULL;
    FUZZ_CHECK(printed != NULL);
    FUZZ_CHECK(strcmp(mine.data, printed) == 0);
    cJSON *back = cJSON_Parse(mine.data);
    FUZZ_CHECK(cJSON_IsString(back) && strcmp(back->valuestring, z) == 0);
    cJSON_Delete(back);
    cJSON_free(printed);
    cJSON_Delete(str);

    buf_free(&mine);
    buf_free(&got);
    buf_free(&want);
    free(z);
    free(exact);
    return 0;
}
