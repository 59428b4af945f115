/* specannot: an ImageSpec turned into the label and annotation to paste
 * (see specannot.h). */
#include "specannot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "decide.h"
#include "errmsg.h"
#include "imagespec.h"
#include "yamldoc.h"
#include "yamlout.h"

/* YAML reads python_version: 3.10 as the number 3.1, and flytekit would
 * hash that number: ask for a string. */
static bool versions_are_strings(const cJSON *root, char *why, size_t whysz)
{
    const cJSON *item = cJSON_IsArray(root) ? root->child : root;
    for (size_t i = 1; item; item = cJSON_IsArray(root) ? item->next : NULL, i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, "python_version");
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v)) {
            errmsg_set(why, whysz,
                       "ImageSpec #%zu: python_version must be a string; write it in quotes, "
                       "e.g. \"3.10\" (unquoted, YAML reads 3.10 as the number 3.1)",
                       i);
            return false;
        }
    }
    return true;
}

/* One comment line per union spec: the images that run it. */
static void image_hints(const imagespec_list_t *specs, buf_t *out)
{
    for (size_t s = 0; s < specs->n; s++) {
        const imagespec_t *sp = &specs->specs[s];
        if (!sp->is_union)
            continue;
        buf_printf(out, "# ImageSpec \"%s\": run it as %s:<tag>", sp->name, sp->name);
        if (sp->has_registry)
            buf_printf(out, " or %s/%s:<tag>", sp->registry, sp->name);
        else
            buf_printf(out, " or under a logical registry, e.g. cr.union.ai/%s:<tag>", sp->name);
        buf_puts(out, ", <tag> being the hash flytekit computes from this same spec\n");
    }
}

static bool render_yaml(const char *annotation, buf_t *out)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(doc, "metadata");
    cJSON *labels = cJSON_AddObjectToObject(meta, "labels");
    cJSON *annots = cJSON_AddObjectToObject(meta, "annotations");
    bool ok = labels && annots && cJSON_AddStringToObject(labels, WH_LABEL_BUILDER, "union") &&
              cJSON_AddStringToObject(annots, WH_ANNOT_SPEC, annotation);
    if (ok) {
        buf_puts(out, "# Pod metadata (or a PodTemplate's template.metadata):\n");
        ok = yamlout_write(doc, out);
    }
    cJSON_Delete(doc);
    return ok;
}

/* A JSON string literal is a Python string literal too: cJSON escapes
 * only ", \, and control characters (\b \f \n \r \t \u00XX), all of which
 * Python reads the same way. */
static bool render_python(const char *annotation, buf_t *out)
{
    cJSON *s = cJSON_CreateString(annotation);
    char *lit = s ? cJSON_PrintUnformatted(s) : NULL;
    cJSON_Delete(s);
    if (!lit)
        return false;
    buf_puts(out, "# flytekit: @task(labels=LABELS, annotations=ANNOTATIONS) (flytekit >= 1.16.2)\n"
                  "# or @task(pod_template=PodTemplate(labels=LABELS, annotations=ANNOTATIONS))\n");
    buf_printf(out, "LABELS = {\"" WH_LABEL_BUILDER "\": \"union\"}\n");
    buf_printf(out, "ANNOTATIONS = {\"" WH_ANNOT_SPEC "\": %s}\n", lit);
    free(lit);
    return true;
}

static bool render(const char *annotation, const imagespec_list_t *specs, unsigned parts,
                   buf_t *out)
{
    image_hints(specs, out);
    if ((parts & SPECANNOT_YAML) && !render_yaml(annotation, out))
        return false;
    if ((parts & SPECANNOT_YAML) && (parts & SPECANNOT_PYTHON))
        buf_puts(out, "\n");
    if ((parts & SPECANNOT_PYTHON) && !render_python(annotation, out))
        return false;
    return !out->oom;
}

bool specannot_render(const char *text, size_t len, unsigned parts, buf_t *out, char *why,
                      size_t whysz)
{
    cJSON *root = ydoc_read_json_or_yaml(text, len, why, whysz);
    if (!root)
        return false;
    bool ok = false;
    imagespec_list_t specs = {0};
    char *annotation = NULL;
    if (!cJSON_IsObject(root) && !cJSON_IsArray(root)) {
        errmsg_set(why, whysz, "not an ImageSpec: write a map of flytekit fields, or a list");
        goto out;
    }
    if (!versions_are_strings(root, why, whysz))
        goto out;
    annotation = cJSON_PrintUnformatted(root);
    if (!annotation) {
        errmsg_set(why, whysz, "out of memory");
        goto out;
    }
    if (!imagespec_parse(annotation, strlen(annotation), &specs, why, whysz))
        goto out;
    size_t n_union = 0;
    for (size_t s = 0; s < specs.n; s++)
        n_union += specs.specs[s].is_union;
    if (n_union == 0) {
        errmsg_set(why, whysz,
                   "no ImageSpec has builder union (or unionai), so the webhook would build "
                   "nothing; add builder: union");
        goto out;
    }
    ok = render(annotation, &specs, parts, out);
    if (!ok)
        errmsg_set(why, whysz, "out of memory");
out:
    imagespec_list_free(&specs);
    free(annotation);
    cJSON_Delete(root);
    return ok;
}
