/* Unit test runner: every suite_* function of the program's test files
 * (tests/unit/gen-suites.sh writes the list into suites.h) runs here under
 * Check. The same file makes both programs, unit-core and unit-shell;
 * UNIT_NAME names the one being built in its result line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "suites.h"

#ifndef UNIT_NAME
#define UNIT_NAME "unit"
#endif

int main(void)
{
    Suite *(*suites[])(void) = {ALL_SUITES};
    SRunner *sr = srunner_create(NULL);
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        srunner_add_suite(sr, suites[i]());
    srunner_run_all(sr, CK_NORMAL);
    int run = srunner_ntests_run(sr);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf(UNIT_NAME ": %d passed, %d failed\n", run - failed, failed);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
