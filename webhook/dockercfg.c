/* dockercfg: Docker config.json credentials and credential helpers (see dockercfg.h). */
#define _GNU_SOURCE /* pipe2 */
#include "dockercfg.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include "base64.h"
#include "clock.h"
#include "errmsg.h"
#include "file.h"
#include "secret.h"

extern char **environ;

#define HELPER_OUT_MAX (64 * 1024)

bool dockercfg_norm_host(const char *s, char *out, size_t outsz)
{
    if (strncasecmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        s += 7;
    size_t n = strcspn(s, "/");
    if (n == 0 || n >= outsz)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = '\0';
    return true;
}

bool dockercfg_helper_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

void dockercfg_cred_free(dockercfg_cred_t *c)
{
    if (!c)
        return;
    free(c->username);
    secret_free(c->secret);
    c->username = c->secret = NULL;
    c->identity_token = false;
}

static void auth_free(dockercfg_auth_t *a)
{
    free(a->host);
    free(a->username);
    secret_free(a->password);
    secret_free(a->identity_token);
}

void dockercfg_free(dockercfg_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_auths; i++)
        auth_free(&c->auths[i]);
    for (size_t i = 0; i < c->n_helpers; i++) {
        free(c->helpers[i].host);
        free(c->helpers[i].helper);
    }
    free(c->auths);
    free(c->helpers);
    free(c->creds_store);
    memset(c, 0, sizeof *c);
}

/* Decodes standard base64 "user:pass" into the two parts. */
static bool decode_auth(const char *b64, char **user, char **pass)
{
    size_t n = strlen(b64), len = 0;
    if (n > 16384)
        return false;
    unsigned char *raw = base64_decode(b64, n, 0, &len);
    if (!raw)
        return false;
    char *colon = memchr(raw, '\0', len) ? NULL : strchr((char *)raw, ':');
    if (colon) {
        *colon = '\0';
        *user = strdup((char *)raw);
        *pass = strdup(colon + 1);
    }
    secret_free_n(raw, len);
    if (!colon)
        return false;
    if (!*user || !*pass) {
        free(*user);
        free(*pass);
        *user = *pass = NULL;
        return false;
    }
    return true;
}

static char *dup_str_item(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return NULL;
    return strdup(v->valuestring);
}

typedef enum { PARSE_OK, PARSE_BAD, PARSE_OOM } parse_t;

static parse_t parse_auths(const cJSON *auths, dockercfg_t *out, char *err, size_t errsz)
{
    int na = cJSON_GetArraySize(auths);
    if (na > 0 && !(out->auths = calloc((size_t)na, sizeof *out->auths)))
        return PARSE_OOM;
    char host[512];
    const cJSON *it;
    cJSON_ArrayForEach(it, auths)
    {
        if (!cJSON_IsObject(it) || !dockercfg_norm_host(it->string, host, sizeof host)) {
            errmsg_set(err, errsz, "docker config: bad `auths` entry '%s'", it->string);
            return PARSE_BAD;
        }
        dockercfg_auth_t *a = &out->auths[out->n_auths++];
        if (!(a->host = strdup(host)))
            return PARSE_OOM;
        const cJSON *au = cJSON_GetObjectItemCaseSensitive(it, "auth");
        if (cJSON_IsString(au) && au->valuestring[0]) {
            if (!decode_auth(au->valuestring, &a->username, &a->password)) {
                errmsg_set(err, errsz,
                           "docker config: `auths.%s.auth` is not base64 of user:password",
                           it->string);
                return PARSE_BAD;
            }
        } else {
            a->username = dup_str_item(it, "username");
            a->password = dup_str_item(it, "password");
        }
        a->identity_token = dup_str_item(it, "identitytoken");
    }
    return PARSE_OK;
}

static parse_t parse_helpers(const cJSON *helpers, dockercfg_t *out, char *err, size_t errsz)
{
    int nh = cJSON_GetArraySize(helpers);
    if (nh > 0 && !(out->helpers = calloc((size_t)nh, sizeof *out->helpers)))
        return PARSE_OOM;
    char host[512];
    const cJSON *it;
    cJSON_ArrayForEach(it, helpers)
    {
        if (!cJSON_IsString(it) || !dockercfg_helper_name_valid(it->valuestring) ||
            !dockercfg_norm_host(it->string, host, sizeof host)) {
            errmsg_set(err, errsz,
                       "docker config: `credHelpers.%s` must name a helper with letters, digits, "
                       "'.', '_' or '-'",
                       it->string);
            return PARSE_BAD;
        }
        dockercfg_helper_t *h = &out->helpers[out->n_helpers++];
        h->host = strdup(host);
        h->helper = strdup(it->valuestring);
        if (!h->host || !h->helper)
            return PARSE_OOM;
    }
    return PARSE_OK;
}

static parse_t parse_store(const cJSON *store, dockercfg_t *out, char *err, size_t errsz)
{
    if (!store || cJSON_IsNull(store))
        return PARSE_OK;
    if (!cJSON_IsString(store) ||
        (store->valuestring[0] && !dockercfg_helper_name_valid(store->valuestring))) {
        errmsg_set(err, errsz,
                   "docker config: `credsStore` must name a helper with letters, digits, "
                   "'.', '_' or '-'");
        return PARSE_BAD;
    }
    if (store->valuestring[0] && !(out->creds_store = strdup(store->valuestring)))
        return PARSE_OOM;
    return PARSE_OK;
}

bool dockercfg_parse(const char *json, size_t len, dockercfg_t *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        errmsg_set(err, errsz, "docker config is not a JSON object");
        return false;
    }
    const cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
    const cJSON *helpers = cJSON_GetObjectItemCaseSensitive(root, "credHelpers");
    parse_t r = PARSE_BAD;
    if (auths && !cJSON_IsObject(auths))
        errmsg_set(err, errsz, "docker config: `auths` is not an object");
    else if (helpers && !cJSON_IsObject(helpers))
        errmsg_set(err, errsz, "docker config: `credHelpers` is not an object");
    else if ((r = parse_auths(auths, out, err, errsz)) == PARSE_OK &&
             (r = parse_helpers(helpers, out, err, errsz)) == PARSE_OK)
        r = parse_store(cJSON_GetObjectItemCaseSensitive(root, "credsStore"), out, err, errsz);
    if (r == PARSE_OOM)
        errmsg_set(err, errsz, "docker config: out of memory");
    cJSON_Delete(root);
    if (r != PARSE_OK)
        dockercfg_free(out);
    return r == PARSE_OK;
}

bool dockercfg_load(const char *path, dockercfg_t *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    char why[160];
    size_t n = 0;
    char *data = file_read(path, 1024 * 1024, &n, why, sizeof why);
    if (!data) {
        errmsg_set(err, errsz, "docker config %s: %s", path, why);
        return false;
    }
    bool ok = dockercfg_parse(data, n, out, err, errsz);
    secret_free_n(data, n); /* it holds credentials */
    return ok;
}

static bool is_docker_hub(const char *h)
{
    return strcmp(h, "docker.io") == 0 || strcmp(h, "index.docker.io") == 0 ||
           strcmp(h, "registry-1.docker.io") == 0 || strcmp(h, "registry.hub.docker.com") == 0;
}

void dockercfg_lookup(const dockercfg_t *c, const char *host, const dockercfg_auth_t **auth,
                      const char **helper)
{
    *auth = NULL;
    *helper = NULL;
    char h[512];
    if (!c || !dockercfg_norm_host(host, h, sizeof h))
        return;
    bool hub = is_docker_hub(h);
    for (size_t i = 0; i < c->n_helpers; i++)
        if (strcmp(c->helpers[i].host, h) == 0 || (hub && is_docker_hub(c->helpers[i].host))) {
            *helper = c->helpers[i].helper;
            return;
        }
    for (size_t i = 0; i < c->n_auths; i++)
        if (strcmp(c->auths[i].host, h) == 0 || (hub && is_docker_hub(c->auths[i].host))) {
            *auth = &c->auths[i];
            return;
        }
    if (c->creds_store)
        *helper = c->creds_store;
}

const char *dockercfg_helper_server(const char *host, char *buf, size_t bufsz)
{
    char h[512];
    if (dockercfg_norm_host(host, h, sizeof h) && is_docker_hub(h))
        return "https://index.docker.io/v1/";
    snprintf(buf, bufsz, "%s", host);
    return buf;
}

bool dockercfg_cred_from_auth(const dockercfg_auth_t *a, dockercfg_cred_t *out)
{
    memset(out, 0, sizeof *out);
    if (a->identity_token) {
        out->identity_token = true;
        out->username = strdup(a->username ? a->username : "<token>");
        out->secret = strdup(a->identity_token);
    } else if (a->username && a->password) {
        out->username = strdup(a->username);
        out->secret = strdup(a->password);
    } else {
        return false;
    }
    if (!out->username || !out->secret) {
        dockercfg_cred_free(out);
        return false;
    }
    return true;
}

bool dockercfg_parse_helper_output(const char *json, size_t len, dockercfg_cred_t *out, char *err,
                                   size_t errsz)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        errmsg_set(err, errsz, "credential helper answer is not a JSON object");
        return false;
    }
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "Username");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "Secret");
    bool ok = false;
    if (!cJSON_IsString(u) || !cJSON_IsString(s) || !s->valuestring[0]) {
        errmsg_set(err, errsz, "credential helper answer has no Username/Secret");
    } else {
        out->username = strdup(u->valuestring);
        out->secret = strdup(s->valuestring);
        out->identity_token = strcmp(u->valuestring, "<token>") == 0;
        ok = out->username && out->secret;
        if (!ok) {
            dockercfg_cred_free(out);
            errmsg_set(err, errsz, "credential helper: out of memory");
        }
    }
    cJSON_Delete(root);
    return ok;
}

/* Starts `prog get` with its stdin and stdout on pipes (stderr discarded). */
static bool spawn_helper(char *prog, pid_t *pid, int *to_child, int *from_child, char *err,
                         size_t errsz)
{
    int in[2] = {-1, -1}, outp[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(outp, O_CLOEXEC) != 0) {
        if (in[0] >= 0) {
            close(in[0]);
            close(in[1]);
        }
        errmsg_set(err, errsz, "cannot create pipes for %s", prog);
        return false;
    }
    posix_spawn_file_actions_t fa;
    bool fa_ok = posix_spawn_file_actions_init(&fa) == 0;
    if (fa_ok)
        fa_ok = posix_spawn_file_actions_adddup2(&fa, in[0], 0) == 0 &&
                posix_spawn_file_actions_adddup2(&fa, outp[1], 1) == 0 &&
                posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) == 0;
    char *argv[] = {prog, "get", NULL};
    int rc = fa_ok ? posix_spawnp(pid, prog, &fa, NULL, argv, environ) : -1;
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(outp[1]);
    if (rc != 0) {
        close(in[1]);
        close(outp[0]);
        errmsg_set(err, errsz, "cannot run %s (not in PATH?)", prog);
        return false;
    }
    *to_child = in[1];
    *from_child = outp[0];
    return true;
}

/* Writes the URL to the helper's stdin and closes it. The URL is short:
 * one write into an empty pipe does not block. A helper that exits early
 * makes it fail with EPIPE, which is fine: SIGPIPE is held and dropped. */
static void send_url(int fd, const char *url)
{
    sigset_t pipeset, oldset;
    sigemptyset(&pipeset);
    sigaddset(&pipeset, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeset, &oldset);
    ssize_t wn = write(fd, url, strlen(url));
    (void)wn;
    close(fd);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipeset, NULL, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &oldset, NULL);
}

typedef enum { OUT_DONE, OUT_TIMED_OUT, OUT_TOO_BIG } output_t;

/* Reads the helper's stdout until EOF, the deadline or HELPER_OUT_MAX. */
static output_t read_output(int fd, uint64_t deadline, char *buf, size_t *len)
{
    for (;;) {
        uint64_t now = clock_mono_ms();
        if (now >= deadline)
            return OUT_TIMED_OUT;
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)(deadline - now));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return pr == 0 ? OUT_TIMED_OUT : OUT_DONE;
        if (*len == HELPER_OUT_MAX)
            return OUT_TOO_BIG;
        ssize_t r = read(fd, buf + *len, HELPER_OUT_MAX - *len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return OUT_DONE;
        *len += (size_t)r;
    }
}

bool dockercfg_run_helper(const char *helper, const char *server_url, unsigned timeout_ms,
                          dockercfg_cred_t *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    if (!dockercfg_helper_name_valid(helper)) {
        errmsg_set(err, errsz, "invalid credential helper name '%s'", helper);
        return false;
    }
    char prog[96];
    snprintf(prog, sizeof prog, "docker-credential-%s", helper);
    pid_t pid = -1;
    int to_child, from_child;
    if (!spawn_helper(prog, &pid, &to_child, &from_child, err, errsz))
        return false;
    send_url(to_child, server_url);
    char *buf = malloc(HELPER_OUT_MAX + 1);
    size_t len = 0;
    output_t o = buf ? read_output(from_child, clock_mono_ms() + timeout_ms, buf, &len) : OUT_DONE;
    close(from_child);
    if (o != OUT_DONE || !buf)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    bool ok = false;
    if (!buf) {
        errmsg_set(err, errsz, "credential helper: out of memory");
    } else if (o == OUT_TIMED_OUT) {
        errmsg_set(err, errsz, "%s timed out", prog);
    } else if (o == OUT_TOO_BIG) {
        errmsg_set(err, errsz, "%s printed more than 64 KiB", prog);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        buf[len] = '\0';
        size_t l = strcspn(buf, "\r\n");
        buf[l < 120 ? l : 120] = '\0';
        errmsg_set(err, errsz, "%s failed: %s", prog, buf);
    } else {
        ok = dockercfg_parse_helper_output(buf, len, out, err, errsz);
    }
    secret_free_n(buf, len);
    return ok;
}
