/* target: the repository layout and the target image reference (see
 * target.h). */
#include "target.h"

#include "buf.h"

repo_layout_t target_layout(repo_layout_t configured, registry_kind_t default_kind)
{
    if (configured != LAYOUT_AUTO)
        return configured;
    return default_kind == REGISTRY_ECR ? LAYOUT_TAG : LAYOUT_PATH;
}

target_status_t target_make(const char *registry, const char *repository, repo_layout_t layout,
                            strview_t name, const imageref_t *ref, char **out, imageref_err_t *err)
{
    *out = NULL;
    *err = IMAGEREF_OK;
    buf_t b = BUF_INIT;
    buf_puts(&b, registry ? registry : repository);
    if (!registry && layout == LAYOUT_TAG) {
        /* <repository>:<name>-<tag>, '/' of the name folded into '-' */
        buf_putc(&b, ':');
        for (size_t i = 0; i < name.n; i++)
            buf_putc(&b, name.p[i] == '/' ? '-' : name.p[i]);
        buf_putc(&b, '-');
    } else {
        buf_putc(&b, '/');
        buf_append(&b, name.p, name.n);
        buf_putc(&b, ':');
    }
    buf_append(&b, ref->tag.p, ref->tag.n);
    if (ref->digest.n) {
        buf_putc(&b, '@');
        buf_append(&b, ref->digest.p, ref->digest.n);
    }
    if (b.oom) {
        buf_free(&b);
        return TARGET_OOM;
    }
    imageref_t tr;
    *err = imageref_parse(b.data, b.len, &tr);
    *out = buf_steal(&b);
    if (!*out)
        return TARGET_OOM;
    return *err == IMAGEREF_OK ? TARGET_OK : TARGET_INVALID;
}
