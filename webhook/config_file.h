/* config_file: the configuration's contact with the file system and the
 * terminal: reading the YAML file (bounded, regular files only) into the
 * pure loader, and printing collected errors. */
#ifndef WH_CONFIG_FILE_H
#define WH_CONFIG_FILE_H

#include <stdio.h>

#include "config.h"

/* Reads and loads a file (directories, unreadable and oversized files are
 * errors, named after the path). A file changed in the last 200 ms may be
 * in the middle of a write: it is read again until two reads 200 ms apart
 * agree, and refused when it keeps changing for about 3 s. Returns NULL
 * when there is at least one error; all of them are in `errs`. */
wh_config_t *config_load_file(const char *path, config_errors_t *errs);

/* "FILE:LINE:COL: error: MSG" (or "FILE: error: MSG") lines, one per error,
 * to `f` (standard error when NULL). */
void config_errors_print(const config_errors_t *errs, FILE *f);

#endif
