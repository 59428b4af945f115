/* loglevel: the log levels, shared by the configuration (webhook.logLevel)
 * and the log writer, with their names. */
#ifndef WH_LOGLEVEL_H
#define WH_LOGLEVEL_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

#endif
