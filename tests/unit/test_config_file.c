/* Tests for config_file: reading configuration files (missing,
 * unreadable, directories, FIFOs, oversized, exactly at the limit),
 * printing errors, files read again while they change, and the example
 * files under tests/config/ read from
 * disk (good-*.yaml load; bad-*.yaml give exactly the errors their
 * "# expect: LINE:COL: text" lines list). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "config_file.h"

static wh_config_t *load(const char *yaml, config_errors_t *errs)
{
    return config_load_buffer("config.yaml", yaml, strlen(yaml), errs);
}

static bool has_error(const config_errors_t *errs, size_t line, size_t col, const char *text)
{
    for (size_t i = 0; i < errs->n; i++)
        if (errs->items[i].line == line && errs->items[i].col == col &&
            strstr(errs->items[i].msg, text))
            return true;
    return false;
}

/* What config_errors_print writes. */
static char *dump_errors(const config_errors_t *errs)
{
    char *out = NULL;
    size_t outn = 0;
    FILE *f = open_memstream(&out, &outn);
    ck_assert_ptr_nonnull(f);
    config_errors_print(errs, f);
    fclose(f);
    return out;
}

/* ---- printing and file errors ---------------------------------------------------- */

START_TEST(errors_print_format)
{
    config_errors_t errs = {0};
    ck_assert_ptr_null(load("imageBuilder:\n  authenticationType: gogle\n", &errs));
    ck_assert_ptr_null(config_load_file("/nonexistent/dir/config.yaml", &errs));
    ck_assert_uint_eq(errs.n, 2);
    char *out = dump_errors(&errs);
    ck_assert_str_eq(out, "config.yaml:2:23: error: imageBuilder.authenticationType: \"gogle\" is "
                          "not one of noop, google, aws, azure, basic\n"
                          "/nonexistent/dir/config.yaml: error: cannot open the file: No such "
                          "file or directory; check the path and its permissions\n");
    free(out);
    config_errors_free(&errs);
}
END_TEST

START_TEST(file_errors)
{
    char dir[] = "/tmp/wh-config-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    config_errors_t errs = {0};

    ck_assert_ptr_null(config_load_file(dir, &errs));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.items[0].file, dir);
    ck_assert_uint_eq(errs.items[0].line, 0);
    ck_assert_ptr_nonnull(strstr(errs.items[0].msg, "is a directory"));
    config_errors_free(&errs);

    char path[128];
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_ptr_null(config_load_file(path, &errs));
    ck_assert_ptr_nonnull(strstr(errs.items[0].msg, "is not a regular file"));
    config_errors_free(&errs);
    unlink(path);

    snprintf(path, sizeof path, "%s/missing.yaml", dir);
    ck_assert_ptr_null(config_load_file(path, &errs));
    ck_assert_ptr_nonnull(strstr(errs.items[0].msg, strerror(ENOENT)));
    config_errors_free(&errs);

    ck_assert_ptr_null(config_load_file("", &errs));
    ck_assert_uint_eq(errs.n, 1);
    config_errors_free(&errs);

    /* too large */
    snprintf(path, sizeof path, "%s/big.yaml", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 4 * 1024 * 1024, SEEK_SET), 0);
    fputc('\n', f);
    fclose(f);
    ck_assert_ptr_null(config_load_file(path, &errs));
    ck_assert_ptr_nonnull(strstr(errs.items[0].msg, "larger than 4 MiB"));
    config_errors_free(&errs);
    unlink(path);

    /* exactly 4 MiB of comment is still read */
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputc('#', f);
    ck_assert_int_eq(fseek(f, 4 * 1024 * 1024 - 1, SEEK_SET), 0);
    fputc('\n', f);
    fclose(f);
    /* (the hole reads as NUL bytes, which YAML refuses: a YAML error, not a size error) */
    ck_assert_ptr_null(config_load_file(path, &errs));
    ck_assert_ptr_null(strstr(errs.items[0].msg, "larger than"));
    config_errors_free(&errs);
    unlink(path);

    /* unreadable (only meaningful when not running as root) */
    snprintf(path, sizeof path, "%s/secret.yaml", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("imageBuilder: {}\n", f);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0), 0);
    wh_config_t *c = config_load_file(path, &errs);
    if (geteuid() != 0) {
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(strstr(errs.items[0].msg, strerror(EACCES)));
    } else {
        ck_assert_ptr_nonnull(c);
    }
    config_free(c);
    config_errors_free(&errs);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* ---- files that change while they are read ---------------------------------- */

typedef struct {
    const char *path;
    int rounds; /* rewrites; 0: until `stop` */
    atomic_bool stop;
    /* The file's last change, and the longest time it went unchanged
     * since a caller last reset max_gap_ms (counted up to the writer's end,
     * so a writer stalled before its first or after its last piece counts). */
    double last_ms, max_gap_ms;
} writer_t;

static double now_ms(void);

static void note_gap(writer_t *w, bool changed)
{
    double t = now_ms();
    if (w->last_ms > 0 && t - w->last_ms > w->max_gap_ms)
        w->max_gap_ms = t - w->last_ms;
    if (changed)
        w->last_ms = t;
}

/* Rewrites the file the way a careless writer does: truncate, then the
 * text in three pieces, a millisecond apart. The last round leaves it whole. */
static void *rewrite(void *arg)
{
    writer_t *w = arg;
    static const char *const pieces[] = {"imageBuilder:\n", "  defaultRepository: ghcr.io/",
                                         "acme/final\n"};
    for (int r = 0; w->rounds ? r < w->rounds : !atomic_load(&w->stop); r++) {
        for (size_t i = 0; i < 3; i++) {
            FILE *f = fopen(w->path, i ? "a" : "w");
            ck_assert_ptr_nonnull(f);
            fputs(pieces[i], f);
            fclose(f);
            note_gap(w, true);
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    note_gap(w, false);
    return NULL;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

START_TEST(files_are_read_once_they_hold_still)
{
    char dir[] = "/tmp/wh-stable-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/config.yaml", dir);

    /* just written: read again a quiet period later, and loaded */
    writer_t w = {.path = path, .rounds = 1};
    rewrite(&w);
    config_errors_t errs = {0};
    double t0 = now_ms();
    wh_config_t *c = config_load_file(path, &errs);
    ck_assert_ptr_nonnull(c);
    ck_assert_double_ge(now_ms() - t0, 200);
    ck_assert_str_eq(c->policy.default_repository, "ghcr.io/acme/final");
    config_free(c);

    /* rewritten 100 times while it is read: the whole file, never a piece */
    pthread_t th;
    w.rounds = 100;
    ck_assert_int_eq(pthread_create(&th, NULL, rewrite, &w), 0);
    c = config_load_file(path, &errs);
    pthread_join(th, NULL);
    ck_assert_msg(c != NULL, "%s", errs.n ? errs.items[0].msg : "");
    ck_assert_str_eq(c->policy.default_repository, "ghcr.io/acme/final");
    config_free(c);

    /* rewritten all the time: refused, and it says why. A loaded machine
     * may stop the writer for a whole quiet period, and then reading the
     * file is right; such a try does not count, and the test tries again. */
    for (int tries = 0;; tries++) {
        w.rounds = 0;
        w.max_gap_ms = 0; /* last_ms stays: the file's last change before this try */
        atomic_store(&w.stop, false);
        ck_assert_int_eq(pthread_create(&th, NULL, rewrite, &w), 0);
        c = config_load_file(path, &errs);
        atomic_store(&w.stop, true);
        pthread_join(th, NULL);
        if (!c || w.max_gap_ms < 150 || tries == 9)
            break;
        config_free(c);
    }
    ck_assert_msg(c == NULL, "loaded although the file never held still for %.0f ms", w.max_gap_ms);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_uint_eq(errs.items[0].line, 0);
    ck_assert_msg(strstr(errs.items[0].msg, "kept changing while it was read"), "%s",
                  errs.items[0].msg);
    config_errors_free(&errs);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* ---- configuration files that cannot be read ------------------------------- */

static void expect_file_error(const char *path, const char *needle)
{
    config_errors_t errs = {0};
    wh_config_t *c = config_load_file(path, &errs);
    ck_assert_msg(c == NULL, "%s was loaded", path);
    ck_assert_uint_gt(errs.n, 0);
    bool found = false;
    for (size_t i = 0; i < errs.n; i++)
        found |= errs.items[i].msg && strstr(errs.items[i].msg, needle) != NULL;
    ck_assert_msg(found, "%s: no error mentions '%s' (first: %s)", path, needle, errs.items[0].msg);
    config_errors_free(&errs);
}

START_TEST(config_files_that_cannot_be_read)
{
    char dir[] = "/tmp/wh-badinput-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    expect_file_error(dir, "directory");
    char path[128];
    snprintf(path, sizeof path, "%s/missing.yaml", dir);
    expect_file_error(path, "cannot open");
    /* A FIFO: not a regular file (and opening it must not block). */
    snprintf(path, sizeof path, "%s/fifo.yaml", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    expect_file_error(path, "regular file");
    unlink(path);
    /* A file larger than the limit. */
    snprintf(path, sizeof path, "%s/big.yaml", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseeko(f, 5 * 1024 * 1024, SEEK_SET), 0);
    ck_assert_int_eq(fputc('\n', f), '\n');
    ck_assert_int_eq(fclose(f), 0);
    expect_file_error(path, "larger");
    unlink(path);
    /* Unreadable: mode 000 (refused unless we are root, who reads anything),
     * and /proc/self/mem, a regular file whose read fails for everyone. */
    snprintf(path, sizeof path, "%s/secret.yaml", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, 0), 0);
    if (geteuid() != 0)
        expect_file_error(path, "Permission denied");
    unlink(path);
    expect_file_error("/proc/self/mem", "cannot read");
    ck_assert_int_eq(rmdir(dir), 0);
    expect_file_error("", "no configuration file");
}
END_TEST

/* ---- the example files ---------------------------------------------------------- */

static const char *fixtures_dir(void)
{
    const char *d = getenv("WH_CONFIG_FIXTURES");
    return d && *d ? d : "tests/config";
}

static size_t check_bad_fixture(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    char line[512];
    size_t expected = 0;
    config_errors_t errs = {0};
    wh_config_t *c = config_load_file(path, &errs);
    char *all = dump_errors(&errs);
    ck_assert_msg(c == NULL, "%s loaded but should not", path);
    while (fgets(line, sizeof line, f)) {
        size_t l = 0, col = 0;
        int used = 0;
        if (sscanf(line, "# expect: %zu:%zu: %n", &l, &col, &used) != 2 || used == 0)
            continue;
        char *text = line + used;
        text[strcspn(text, "\n")] = '\0';
        ck_assert_msg(has_error(&errs, l, col, text), "%s: no error %zu:%zu '%s'; got:\n%s", path,
                      l, col, text, all);
        expected++;
    }
    fclose(f);
    ck_assert_msg(expected > 0, "%s has no '# expect:' line", path);
    ck_assert_msg(errs.n == expected, "%s: %zu errors expected, got:\n%s", path, expected, all);
    free(all);
    config_errors_free(&errs);
    return expected;
}

START_TEST(example_files)
{
    DIR *d = opendir(fixtures_dir());
    ck_assert_msg(d != NULL, "%s: %s", fixtures_dir(), strerror(errno));
    size_t good = 0, bad = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", fixtures_dir(), e->d_name);
        if (strncmp(e->d_name, "good-", 5) == 0) {
            config_errors_t errs = {0};
            wh_config_t *c = config_load_file(path, &errs);
            char *all = dump_errors(&errs);
            ck_assert_msg(c != NULL, "%s:\n%s", path, all);
            free(all);
            config_free(c);
            good++;
        } else if (strncmp(e->d_name, "bad-", 4) == 0) {
            check_bad_fixture(path);
            bad++;
        }
    }
    closedir(d);
    ck_assert_uint_ge(good, 3);
    ck_assert_uint_ge(bad, 5);
}
END_TEST

Suite *suite_config_file(void)
{
    Suite *s = suite_create("config_file");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, errors_print_format);
    tcase_add_test(tc, file_errors);
    tcase_add_test(tc, config_files_that_cannot_be_read);
    tcase_add_test(tc, example_files);
    tcase_add_test(tc, files_are_read_once_they_hold_still);
    suite_add_tcase(s, tc);
    return s;
}
