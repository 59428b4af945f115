/* main: the command line — serve, review, check-config, certgen (certgen.c),
 * imagespec-annotation, --version, --help. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admission.h"
#include "buf.h"
#include "certgen.h"
#include "config.h"
#include "config_file.h"
#include "jsonpatch.h"
#include "livecheck.h"
#include "server.h"
#include "specannot.h"
#include "yamldoc.h"
#include "yamlout.h"

#define INPUT_MAX (64u << 20)

#define EXIT_DENIED 3 /* review --fail-on-deny: the request was denied */

static const char usage_serve[] =
    "  serve --config FILE [--listen ADDR:PORT] [--tls-cert FILE] [--tls-key FILE]\n"
    "        run the admission webhook over TLS\n";
static const char usage_review[] =
    "  review [--config FILE] [--explain] [--no-live-checks] [--fail-on-deny] [INPUT]\n"
    "        decide offline: read an AdmissionReview or a Pod (JSON or YAML) from INPUT\n"
    "        or standard input and print the AdmissionReview response; --explain prints\n"
    "        the decision, reasons, warnings, live checks, decoded patch and mutated pod\n"
    "        instead; --no-live-checks skips the registry and namespace checks;\n"
    "        --fail-on-deny exits 3 when the request is denied (for CI)\n"
    "  review --wrap-only [INPUT]\n"
    "        print the dry-run CREATE AdmissionReview for a Pod, without deciding\n";
static const char usage_check_config[] =
    "  check-config --config FILE\n"
    "        validate a configuration file; exit 0 when it is valid\n";
static const char usage_certgen[] =
    "  certgen --namespace NS --secret NAME --service SVC [--webhook-configuration NAME]\n"
    "          [--kubeconfig FILE] [--api-server URL] [--token-file FILE] [--ca-file FILE]\n"
    "          [--timeout-ms N]\n"
    "        in the cluster: keep a CA and a serving certificate for SVC in the\n"
    "        kubernetes.io/tls Secret NAME (made when absent, expiring within 30 days or\n"
    "        not naming SVC), and write its CA into the caBundle of every webhook of\n"
    "        the MutatingWebhookConfiguration NAME\n";
static const char usage_imagespec_annotation[] =
    "  imagespec-annotation [--yaml | --python] [FILE]\n"
    "        print the pod label and annotation that attach the ImageSpec in FILE (YAML\n"
    "        or JSON, flytekit field names) or standard input: a YAML metadata snippet\n"
    "        and Python dicts for flytekit (--yaml or --python: only that one)\n";

static void print_usage(FILE *f, const char *only)
{
    fputs("usage: imagebuilder-webhook <command> [options]\n\ncommands:\n", f);
    if (only) {
        fputs(only, f);
        return;
    }
    fputs(usage_serve, f);
    fputs(usage_review, f);
    fputs(usage_check_config, f);
    fputs(usage_certgen, f);
    fputs(usage_imagespec_annotation, f);
    fputs("  --version, --help\n", f);
}

static bool is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "imagebuilder-webhook: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(run 'imagebuilder-webhook --help' for usage)\n");
    return 2;
}

/* Reads a file ("-" or NULL: standard input), bounded by INPUT_MAX. */
static char *read_input(const char *path, size_t *len)
{
    FILE *f = stdin;
    if (path && strcmp(path, "-") != 0) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr, "imagebuilder-webhook: %s: is a directory\n", path);
            return NULL;
        }
        f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "imagebuilder-webhook: %s: %s\n", path, strerror(errno));
            return NULL;
        }
    }
    buf_t b = BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > INPUT_MAX) {
            fprintf(stderr, "imagebuilder-webhook: %s: input larger than %u MiB\n",
                    path ? path : "stdin", INPUT_MAX >> 20);
            buf_free(&b);
            if (f != stdin)
                fclose(f);
            return NULL;
        }
        buf_append(&b, chunk, n);
    }
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (err) {
        fprintf(stderr, "imagebuilder-webhook: %s: read error\n", path ? path : "stdin");
        buf_free(&b);
        return NULL;
    }
    *len = b.len;
    char *p = buf_steal(&b);
    if (!p)
        fprintf(stderr, "imagebuilder-webhook: out of memory\n");
    return p;
}

static wh_config_t *load_config(const char *path)
{
    config_errors_t errs = {0};
    wh_config_t *cfg = path ? config_load_file(path, &errs) : config_defaults();
    if (!cfg) {
        config_errors_print(&errs, stderr);
        if (!errs.n)
            fprintf(stderr, "imagebuilder-webhook: cannot load the configuration\n");
    }
    config_errors_free(&errs);
    return cfg;
}

/* Parses JSON or YAML input into a JSON value; says why not on stderr. */
static cJSON *parse_document(const char *name, const char *text, size_t len)
{
    char why[256];
    cJSON *v = ydoc_read_json_or_yaml(text, len, why, sizeof why);
    if (!v)
        fprintf(stderr, "imagebuilder-webhook: %s: %s\n", name, why);
    return v;
}

static const char *kind_of(const cJSON *v)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(v, "kind");
    if (cJSON_IsString(k))
        return k->valuestring;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(v, "spec");
    return cJSON_GetObjectItemCaseSensitive(spec, "containers") ? "Pod" : "";
}

static void print_list(buf_t *o, const char *title, char *const *items, size_t n)
{
    if (!n)
        return;
    buf_printf(o, "%s:\n", title);
    for (size_t i = 0; i < n; i++)
        buf_printf(o, "  - %s\n", items[i]);
}

/* Prints the decision for a person. 0, or 1 when the patch does not
 * apply or memory runs out. */
static int explain(const review_t *rv, const admission_response_t *resp, const livecheck_t *lc,
                   const livecheck_scratch_t *scratch)
{
    const decision_t *d = &resp->decision;
    buf_t o = BUF_INIT;
    if (d->outcome == OUTCOME_DENIED)
        buf_printf(&o, "decision: denied (%d)\nmessage: %s\n", d->code, d->message);
    else
        buf_printf(&o, "decision: %s\n", outcome_name(d->outcome));
    if (!rv->is_pod_create)
        buf_printf(&o, "reasons:\n  - not a Pod CREATE (operation \"%s\"): allowed unchanged\n",
                   rv->operation);
    print_list(&o, "reasons", d->reasons, d->n_reasons);
    print_list(&o, "warnings", d->warnings, d->n_warnings);
    buf_t checks = BUF_INIT;
    livecheck_describe(lc, scratch, &checks);
    if (checks.len) {
        buf_puts(&o, "live checks:\n");
        for (char *line = checks.data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            buf_printf(&o, "  - %.*s\n", (int)(nl ? (size_t)(nl - line) : strlen(line)), line);
        }
    }
    buf_free(&checks);
    int rc = 0;
    if (d->patch_json && d->n_ops) {
        buf_printf(&o, "patch (%zu operations):\n", d->n_ops);
        cJSON *patch = cJSON_Parse(d->patch_json);
        if ((!patch || !yamlout_write(patch, &o)) && !o.oom) {
            buf_puts(&o, "the patch cannot be shown\n");
            rc = 1;
        }
        cJSON *pod = cJSON_Duplicate(rv->pod, true);
        char why[256] = "out of memory";
        if (pod && patch && jsonpatch_apply(pod, patch, why, sizeof why)) {
            buf_puts(&o, "mutated pod:\n");
            yamlout_write(pod, &o);
        } else {
            buf_printf(&o, "the patch does not apply: %s\n", why);
            rc = 1;
        }
        cJSON_Delete(pod);
        cJSON_Delete(patch);
    }
    if (o.oom) {
        buf_free(&o);
        fprintf(stderr, "imagebuilder-webhook: out of memory\n");
        return 1;
    }
    fwrite(o.data, 1, o.len, stdout);
    buf_free(&o);
    return rc;
}

typedef struct {
    const char *config, *input;
    bool explain, wrap_only, live, fail_on_deny;
} review_opts_t;

/* The review's body as JSON text (caller frees): an AdmissionReview as
 * given, or a Pod (JSON or YAML) wrapped in a dry-run CREATE review. The
 * server's path reads the review's bytes, so only what was not JSON text
 * is re-encoded. NULL after printing why. */
static char *review_body(const review_opts_t *o, const char *name, size_t *len)
{
    char *text = read_input(o->input, len);
    if (!text)
        return NULL;
    cJSON *doc = parse_document(name, text, *len);
    if (!doc) {
        free(text);
        return NULL;
    }
    const char *kind = kind_of(doc);
    bool is_review = strcmp(kind, "AdmissionReview") == 0;
    if (!is_review && strcmp(kind, "Pod") != 0) {
        fprintf(stderr,
                "imagebuilder-webhook: %s: neither an AdmissionReview nor a Pod (kind \"%s\")\n",
                name, kind);
        cJSON_Delete(doc);
        free(text);
        return NULL;
    }
    if (is_review && text[strspn(text, " \t\r\n")] == '{') {
        cJSON_Delete(doc);
        return text;
    }
    free(text);
    if (!is_review && !(doc = admission_wrap_pod(doc, NULL, true))) {
        fprintf(stderr, "imagebuilder-webhook: out of memory\n");
        return NULL;
    }
    char *body = o->wrap_only ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!body)
        fprintf(stderr, "imagebuilder-webhook: out of memory\n");
    *len = body ? strlen(body) : 0;
    return body;
}

/* Answers the review `body` with the configuration and prints the answer
 * (or, with --explain, the explanation). Returns the exit status. */
static int review_answer(const review_opts_t *o, const wh_config_t *cfg, const char *name,
                         const char *body, size_t len)
{
    review_t rv;
    char why[256];
    int rc = 1;
    livecheck_t *lc = NULL;
    policy_t *policy = policy_new(&cfg->policy);
    if (!policy) {
        fprintf(stderr, "imagebuilder-webhook: out of memory\n");
        return 1;
    }
    if (o->live && !(lc = livecheck_new(&cfg->policy, why, sizeof why))) {
        fprintf(stderr, "imagebuilder-webhook: live checks: %s (use --no-live-checks)\n", why);
        goto out;
    }
    if (!admission_parse(body, len, &rv, why, sizeof why)) {
        fprintf(stderr, "imagebuilder-webhook: %s: %s\n", name, why);
        goto out;
    }
    rv.opts.reasons = o->explain; /* only --explain prints them */
    livecheck_scratch_t scratch = LIVECHECK_SCRATCH_INIT;
    admission_response_t resp;
    if (!livecheck_respond(lc, policy, &rv, &scratch, &resp)) {
        fprintf(stderr, "imagebuilder-webhook: out of memory\n");
        livecheck_scratch_free(&scratch);
        review_free(&rv);
        goto out;
    }
    if (o->explain) {
        rc = explain(&rv, &resp, lc, &scratch);
    } else {
        fwrite(resp.body, 1, resp.len, stdout);
        fputc('\n', stdout);
        rc = 0;
    }
    if (rc == 0 && o->fail_on_deny && resp.decision.outcome == OUTCOME_DENIED)
        rc = EXIT_DENIED;
    livecheck_scratch_free(&scratch);
    admission_response_free(&resp);
    review_free(&rv);
out:
    livecheck_free(lc);
    policy_free(policy);
    return rc;
}

static int cmd_review(int argc, char **argv)
{
    review_opts_t o = {.live = true};
    for (int i = 0; i < argc; i++) {
        if (is_help(argv[i])) {
            print_usage(stdout, usage_review);
            return 0;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            o.config = argv[++i];
        else if (strcmp(argv[i], "--explain") == 0)
            o.explain = true;
        else if (strcmp(argv[i], "--fail-on-deny") == 0)
            o.fail_on_deny = true;
        else if (strcmp(argv[i], "--wrap-only") == 0)
            o.wrap_only = true;
        else if (strcmp(argv[i], "--no-live-checks") == 0)
            o.live = false;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage_error("review: unknown option '%s'", argv[i]);
        else if (o.input)
            return usage_error("review: more than one input ('%s')", argv[i]);
        else
            o.input = argv[i];
    }
    const char *name = o.input && strcmp(o.input, "-") ? o.input : "stdin";
    size_t len = 0;
    char *body = review_body(&o, name, &len);
    if (!body)
        return 1;
    if (o.wrap_only) {
        printf("%s\n", body);
        free(body);
        return fflush(stdout) != 0;
    }
    int rc = 1;
    wh_config_t *cfg = load_config(o.config);
    if (cfg)
        rc = review_answer(&o, cfg, name, body, len);
    config_free(cfg);
    free(body);
    if (fflush(stdout) != 0)
        rc = 1;
    return rc;
}

static int cmd_check_config(int argc, char **argv)
{
    const char *config = NULL;
    for (int i = 0; i < argc; i++) {
        if (is_help(argv[i])) {
            print_usage(stdout, usage_check_config);
            return 0;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (!config && argv[i][0] != '-')
            config = argv[i];
        else
            return usage_error("check-config: unexpected argument '%s'", argv[i]);
    }
    if (!config)
        return usage_error("check-config: %s", "--config FILE is required");
    wh_config_t *cfg = load_config(config);
    if (!cfg)
        return 1;
    printf("%s: valid (defaultRepository \"%s\", authenticationType %s, layout %s, pod "
           "selection %s, production namespace \"%s\")\n",
           config, cfg->policy.default_repository, auth_type_name(cfg->policy.auth),
           repo_layout_name(cfg->policy.layout), pod_select_name(cfg->policy.pod_select),
           cfg->policy.production_namespace);
    config_free(cfg);
    return 0;
}

static int cmd_imagespec_annotation(int argc, char **argv)
{
    const char *input = NULL;
    unsigned parts = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--yaml") == 0)
            parts |= SPECANNOT_YAML;
        else if (strcmp(argv[i], "--python") == 0)
            parts |= SPECANNOT_PYTHON;
        else if (argv[i][0] == '-' && argv[i][1])
            return usage_error("imagespec-annotation: unknown option '%s'", argv[i]);
        else if (input)
            return usage_error("imagespec-annotation: more than one input ('%s')", argv[i]);
        else
            input = argv[i];
    }
    size_t len = 0;
    char *text = read_input(input, &len);
    if (!text)
        return 1;
    buf_t out = BUF_INIT;
    char why[512];
    bool ok = specannot_render(text, len, parts ? parts : SPECANNOT_YAML | SPECANNOT_PYTHON, &out,
                               why, sizeof why);
    free(text);
    if (ok)
        fwrite(out.data, 1, out.len, stdout);
    else
        fprintf(stderr, "imagebuilder-webhook: %s: %s\n",
                input && strcmp(input, "-") ? input : "stdin", why);
    buf_free(&out);
    if (fflush(stdout) != 0)
        ok = false;
    return ok ? 0 : 1;
}

static int cmd_serve(int argc, char **argv)
{
    server_options_t opts = {0};
    for (int i = 0; i < argc; i++) {
        const char **slot = NULL;
        if (is_help(argv[i])) {
            print_usage(stdout, usage_serve);
            return 0;
        }
        if (strcmp(argv[i], "--config") == 0)
            slot = &opts.config_path;
        else if (strcmp(argv[i], "--listen") == 0)
            slot = &opts.listen;
        else if (strcmp(argv[i], "--tls-cert") == 0)
            slot = &opts.tls_cert;
        else if (strcmp(argv[i], "--tls-key") == 0)
            slot = &opts.tls_key;
        else
            return usage_error("serve: unknown argument '%s'", argv[i]);
        if (i + 1 >= argc)
            return usage_error("serve: %s needs a value", argv[i]);
        *slot = argv[++i];
    }
    if (!opts.config_path)
        return usage_error("serve: %s", "--config FILE is required");
    return server_run(&opts);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "missing command");
    const char *cmd = argv[1];
    if (is_help(cmd) || strcmp(cmd, "help") == 0) {
        print_usage(stdout, NULL);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("imagebuilder-webhook %s\n", WH_VERSION);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(cmd, "review") == 0)
        return cmd_review(argc - 2, argv + 2);
    if (strcmp(cmd, "check-config") == 0)
        return cmd_check_config(argc - 2, argv + 2);
    if (strcmp(cmd, "imagespec-annotation") == 0)
        return cmd_imagespec_annotation(argc - 2, argv + 2);
    if (strcmp(cmd, "certgen") == 0)
        return certgen_main(argc - 2, argv + 2);
    return usage_error("unknown command '%s'", cmd);
}
