/* imagespec: reading the ImageSpec annotation (see imagespec.h). */
#include "imagespec.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imageref.h"
#include "jsonscan.h"

/* A field that must be a string when present; JSON null counts as absent. */
static bool opt_string(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v))
        return false;
    *out = v->valuestring;
    return true;
}

/* "ImageSpec \"name\"" or "ImageSpec #i" for messages. */
static void spec_label(char *dst, size_t n, const char *name, size_t i)
{
    if (name && *name) {
        char safe[64];
        size_t k = 0;
        for (; name[k] && k < sizeof safe - 1; k++)
            safe[k] = (unsigned char)name[k] < 0x20 ? ' ' : name[k];
        safe[k] = '\0';
        snprintf(dst, n, "ImageSpec \"%s%s\"", safe, name[k] ? "..." : "");
    } else {
        snprintf(dst, n, "ImageSpec #%zu", i + 1);
    }
}

static bool read_union_spec(imagespec_t *s, size_t i, char *why, size_t whysz)
{
    const cJSON *o = s->json;
    const char *name;
    char label[96];
    if (!opt_string(o, "name", &name) || !name || !*name) {
        spec_label(label, sizeof label, NULL, i);
        snprintf(why, whysz, "%s has no \"name\": set the image name in the ImageSpec", label);
        return false;
    }
    size_t n = strlen(name);
    spec_label(label, sizeof label, name, i);
    s->name = malloc(n + 1);
    if (!s->name) {
        snprintf(why, whysz, "out of memory");
        return false;
    }
    for (size_t k = 0; k <= n; k++)
        s->name[k] = (char)tolower((unsigned char)name[k]);

    imageref_t ref;
    imageref_err_t e = imageref_parse(s->name, n, &ref);
    if (e != IMAGEREF_OK) {
        snprintf(why, whysz, "%s: name is not a valid image name (%s)", label,
                 imageref_strerror(e));
        return false;
    }
    if (ref.tag.n || ref.digest.n) {
        snprintf(why, whysz, "%s: name must not carry a tag or digest; the tag is the spec hash",
                 label);
        return false;
    }
    if (ref.domain.n) {
        snprintf(why, whysz,
                 "%s: name must not include a registry host; move \"%.*s\" to \"registry\"", label,
                 (int)(ref.domain.n > 64 ? 64 : ref.domain.n), ref.domain.p);
        return false;
    }

    const char *reg;
    if (!opt_string(o, "registry", &reg)) {
        snprintf(why, whysz, "%s: \"registry\" must be a string", label);
        return false;
    }
    if (reg && *reg) {
        const char *rwhy = NULL;
        if (!imageref_parse_registry(reg, strlen(reg), s->registry, sizeof s->registry,
                                     &s->scheme_stripped, &rwhy)) {
            snprintf(why, whysz, "%s: registry \"%.80s\" is invalid: %s", label, reg,
                     rwhy ? rwhy : "bad format");
            return false;
        }
        s->has_registry = true;
    }

    const cJSON *bo = cJSON_GetObjectItemCaseSensitive(o, "builder_options");
    if (bo && !cJSON_IsNull(bo)) {
        if (!cJSON_IsObject(bo)) {
            snprintf(why, whysz, "%s: \"builder_options\" must be an object", label);
            return false;
        }
        if (!opt_string(bo, "imagepull_secret_name", &s->pull_secret)) {
            snprintf(why, whysz, "%s: builder_options.imagepull_secret_name must be a string",
                     label);
            return false;
        }
        if (s->pull_secret && !*s->pull_secret)
            s->pull_secret = NULL;
    }
    return true;
}

/* What cJSON cannot see: strict JSON, no key twice, no \u0000; the byte
 * ranges of the specs in `ranges` (room for IMAGESPEC_MAX_SPECS). */
static bool scan_strict(const char *text, size_t len, jsonscan_range_t *ranges, char *why,
                        size_t whysz)
{
    jsonscan_result_t r;
    jsonscan_status_t st = jsonscan(text, len, ranges, IMAGESPEC_MAX_SPECS, &r);
    if (st == JSONSCAN_DUPLICATE)
        snprintf(why, whysz,
                 "key \"%s\" is given twice in one object (at %s); JSON readers disagree on "
                 "which one counts: give each key once",
                 r.name, r.path);
    else if (st == JSONSCAN_NUL)
        snprintf(why, whysz,
                 "a string holds \\u0000 (at %s); JSON readers disagree on where it ends: "
                 "remove it",
                 r.path[0] ? r.path : "the top level");
    else if (st != JSONSCAN_OK)
        snprintf(why, whysz, "%s (error near byte %zu)", jsonscan_strerror(st), r.offset);
    if (st == JSONSCAN_OK && !r.is_array)
        ranges[0] = r.value;
    return st == JSONSCAN_OK;
}

/* Parses the text into out->root; false with a reason. */
static bool parse_text(const char *text, size_t len, imagespec_list_t *out,
                       jsonscan_range_t *ranges, char *why, size_t whysz)
{
    if (len > IMAGESPEC_MAX_BYTES) {
        snprintf(why, whysz,
                 "%zu bytes; at most %u (256 KiB, what the API server accepts for all of a "
                 "pod's annotations together) are read: make the ImageSpec smaller",
                 len, IMAGESPEC_MAX_BYTES);
        return false;
    }
    size_t bad = 0;
    if (!json_text_ok(text, len, &bad)) {
        snprintf(why, whysz, "not JSON text (a control character or invalid UTF-8 at byte %zu)",
                 bad);
        return false;
    }
    const char *end = NULL;
    out->root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!out->root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        snprintf(why, whysz, "not valid JSON (error near byte %zu)", off);
        return false;
    }
    for (; end && (size_t)(end - text) < len; end++) {
        if (!isspace((unsigned char)*end)) {
            snprintf(why, whysz, "text after the JSON value (byte %zu)", (size_t)(end - text));
            return false;
        }
    }
    return scan_strict(text, len, ranges, why, whysz);
}

bool imagespec_parse(const char *text, size_t len, imagespec_list_t *out, char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    jsonscan_range_t ranges[IMAGESPEC_MAX_SPECS];
    if (!parse_text(text, len, out, ranges, why, whysz))
        goto fail;
    size_t count;
    if (cJSON_IsObject(out->root)) {
        count = 1;
    } else if (cJSON_IsArray(out->root)) {
        count = (size_t)cJSON_GetArraySize(out->root);
        if (count == 0) {
            snprintf(why, whysz, "an empty array: give at least one ImageSpec object");
            goto fail;
        }
        if (count > IMAGESPEC_MAX_SPECS) {
            snprintf(why, whysz, "%zu ImageSpecs; at most %d are supported", count,
                     IMAGESPEC_MAX_SPECS);
            goto fail;
        }
    } else {
        snprintf(why, whysz, "not a JSON object or an array of objects");
        goto fail;
    }
    out->specs = calloc(count, sizeof *out->specs);
    if (!out->specs) {
        snprintf(why, whysz, "out of memory");
        goto fail;
    }
    const cJSON *item = cJSON_IsObject(out->root) ? out->root : out->root->child;
    for (size_t i = 0; i < count; i++, item = item->next) {
        imagespec_t *s = &out->specs[out->n++];
        s->json = item;
        s->text = text + ranges[i].off;
        s->text_len = ranges[i].len;
        if (!cJSON_IsObject(item)) {
            snprintf(why, whysz, "entry #%zu is not a JSON object", i + 1);
            goto fail;
        }
        s->given_name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "name"));
        if (!opt_string(item, "builder", &s->builder)) {
            char label[96];
            const char *nm = NULL;
            opt_string(item, "name", &nm);
            spec_label(label, sizeof label, nm, i);
            snprintf(why, whysz, "%s: \"builder\" must be a string", label);
            goto fail;
        }
        s->is_union =
            s->builder && (!strcmp(s->builder, "union") || !strcmp(s->builder, "unionai"));
        if (s->is_union && !read_union_spec(s, i, why, whysz))
            goto fail;
    }
    return true;
fail:
    imagespec_list_free(out);
    return false;
}

void imagespec_list_free(imagespec_list_t *l)
{
    if (l->borrowed) {
        memset(l, 0, sizeof *l);
        return;
    }
    for (size_t i = 0; i < l->n; i++)
        free(l->specs[i].name);
    free(l->specs);
    cJSON_Delete(l->root);
    memset(l, 0, sizeof *l);
}
