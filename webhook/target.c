/* target: the repository layout and the target image reference (see
 * target.h). */
#include "target.h"

#include <stdlib.h>
#include <string.h>

repo_layout_t target_layout(repo_layout_t configured, registry_kind_t default_kind)
{
    if (configured != LAYOUT_AUTO)
        return configured;
    return default_kind == REGISTRY_ECR ? LAYOUT_TAG : LAYOUT_PATH;
}

/* Copies n bytes of p to at (nothing when n is 0: p may then be NULL). */
static char *put(char *at, const char *p, size_t n)
{
    if (n)
        memcpy(at, p, n);
    return at + n;
}

target_status_t target_make(const char *registry, const char *repository, repo_layout_t layout,
                            strview_t name, const imageref_t *ref, char **out, imageref_t *parsed,
                            imageref_err_t *err)
{
    *out = NULL;
    *err = IMAGEREF_OK;
    const char *base = registry ? registry : repository;
    bool tag_layout = !registry && layout == LAYOUT_TAG;
    size_t nb = strlen(base);
    /* base, a separator, the name, a separator, the tag, "@" and the digest */
    size_t len = nb + 1 + name.n + 1 + ref->tag.n + (ref->digest.n ? 1 + ref->digest.n : 0);
    char *t = malloc(len + 1), *at = t;
    if (!t)
        return TARGET_OOM;
    at = put(at, base, nb);
    *at++ = tag_layout ? ':' : '/';
    put(at, name.p, name.n);
    if (tag_layout) {
        /* <repository>:<name>-<tag>, '/' of the name folded into '-' */
        for (size_t i = 0; i < name.n; i++)
            if (at[i] == '/')
                at[i] = '-';
    }
    at += name.n;
    *at++ = tag_layout ? '-' : ':';
    at = put(at, ref->tag.p, ref->tag.n);
    if (ref->digest.n) {
        *at++ = '@';
        at = put(at, ref->digest.p, ref->digest.n);
    }
    *at = '\0';
    *out = t;
    imageref_t tr;
    *err = imageref_parse(t, len, parsed ? parsed : &tr); /* its parts point into *out */
    return *err == IMAGEREF_OK ? TARGET_OK : TARGET_INVALID;
}
