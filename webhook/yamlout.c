/* yamlout: JSON value -> YAML text through libyaml's emitter (see yamlout.h). */
#include "yamlout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    return buf_append(data, buffer, size) ? 1 : 0;
}

static bool scalar(yaml_emitter_t *em, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    return yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
                                        style) &&
           yaml_emitter_emit(em, &ev);
}

/* Strings that a YAML reader would take for another type are quoted. */
static bool needs_quotes(const char *s)
{
    static const char *const words[] = {
        "true", "false", "null", "~",   "yes", "no",  "on", "off", "True", "False", "Null",
        "TRUE", "FALSE", "NULL", "Yes", "No",  "YES", "NO", "On",  "Off",  "ON",    "OFF"};
    if (!*s)
        return true;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    char *end;
    (void)strtod(s, &end);
    return *end == '\0';
}

static bool emit(yaml_emitter_t *em, const cJSON *v, int depth);

/* A raw node: the JSON text it holds, as the value it stands for. */
static bool emit_raw(yaml_emitter_t *em, const cJSON *v, int depth)
{
    cJSON *parsed = v->valuestring ? cJSON_Parse(v->valuestring) : NULL;
    bool ok = parsed && emit(em, parsed, depth);
    cJSON_Delete(parsed);
    return ok;
}

static bool emit(yaml_emitter_t *em, const cJSON *v, int depth)
{
    yaml_event_t ev;
    if (depth > 256)
        return false;
    if (cJSON_IsRaw(v))
        return emit_raw(em, v, depth);
    if (cJSON_IsObject(v)) {
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return false;
        for (const cJSON *c = v->child; c; c = c->next)
            if (!scalar(em, c->string, YAML_ANY_SCALAR_STYLE) || !emit(em, c, depth + 1))
                return false;
        return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
    }
    if (cJSON_IsArray(v)) {
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return false;
        for (const cJSON *c = v->child; c; c = c->next)
            if (!emit(em, c, depth + 1))
                return false;
        return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
    }
    if (cJSON_IsString(v))
        return scalar(em, v->valuestring,
                      needs_quotes(v->valuestring) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                   : YAML_ANY_SCALAR_STYLE);
    if (cJSON_IsBool(v))
        return scalar(em, cJSON_IsTrue(v) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
    if (cJSON_IsNumber(v)) {
        char num[64];
        double d = v->valuedouble;
        if (d == (double)(long long)d && d > -9e15 && d < 9e15)
            snprintf(num, sizeof num, "%lld", (long long)d);
        else
            snprintf(num, sizeof num, "%.17g", d);
        return scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
    }
    return scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
}

bool yamlout_write(const cJSON *value, buf_t *out)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em))
        return false;
    yaml_emitter_set_output(&em, write_handler, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    bool ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
              yaml_emitter_emit(&em, &ev) &&
              yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
              yaml_emitter_emit(&em, &ev) && emit(&em, value, 0) &&
              yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
              yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
              yaml_emitter_flush(&em);
    yaml_emitter_delete(&em);
    return ok && !out->oom;
}
