/* Unit tests: the per-request JSON arena. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonarena.h"

START_TEST(trees_inside_come_and_go_with_the_arena)
{
    jsonarena_install();
    /* outside: ordinary heap memory, freed normally */
    cJSON *outside = cJSON_Parse("{\"keep\":[1,2,3]}");
    ck_assert_ptr_nonnull(outside);
    for (int round = 0; round < 3; round++) {
        jsonarena_begin();
        cJSON *big = cJSON_CreateArray();
        for (int i = 0; i < 20000; i++) /* more than one chunk */
            ck_assert(cJSON_AddItemToArray(big, cJSON_CreateString("a string of some length")));
        char *printed = cJSON_PrintUnformatted(big);
        ck_assert_ptr_nonnull(printed);
        ck_assert_int_eq(printed[0], '[');
        cJSON_free(printed);
        cJSON_Delete(big);
        /* freeing a heap tree while the arena is on still frees it */
        cJSON *heap_inside = cJSON_GetObjectItem(outside, "keep");
        ck_assert_int_eq(cJSON_GetArraySize(heap_inside), 3);
        jsonarena_end();
    }
    char *s = cJSON_PrintUnformatted(outside);
    ck_assert_str_eq(s, "{\"keep\":[1,2,3]}");
    cJSON_free(s);
    cJSON_Delete(outside);
    jsonarena_release();
}
END_TEST

Suite *suite_jsonarena(void)
{
    Suite *s = suite_create("jsonarena");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, trees_inside_come_and_go_with_the_arena);
    suite_add_tcase(s, tc);
    return s;
}
