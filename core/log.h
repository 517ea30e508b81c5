/*
 * log.h - one-line diagnostics on stderr, filtered by a process-wide level.
 *
 * Each line is written with a single write(2) so that lines from several
 * processes sharing a terminal or log file do not interleave. The level is
 * the only global mutable state of the core; it is read and written
 * atomically, so logging from several threads is safe.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

enum sluice_log_level {
    SLUICE_LOG_ERROR = 0,
    SLUICE_LOG_WARN,
    SLUICE_LOG_INFO,
    SLUICE_LOG_DEBUG,
};

/* Longest message (after formatting, without the "sluice: <level>: " prefix
 * and the newline) that sluice_log prints, in bytes; longer ones are cut. */
#define SLUICE_LOG_MSG_MAX 1024

/* Sets the level above which lines are dropped. A value outside
 * SLUICE_LOG_ERROR..SLUICE_LOG_DEBUG is clamped into that range. */
void sluice_log_set_level(enum sluice_log_level lvl);

/* The current level; SLUICE_LOG_WARN until sluice_log_set_level is called. */
enum sluice_log_level sluice_log_get_level(void);

/* Parses "error", "warn", "info" or "debug" (case-insensitive, NUL-terminated
 * s, borrowed) into *out. Returns 0, or -EINVAL when s or out is NULL or s is
 * not one of those words (*out is then untouched). */
int sluice_log_level_parse(const char *s, enum sluice_log_level *out);

/* The lower-case word for lvl ("error".."debug"), or "unknown" for a value
 * outside the enum. The string is static. */
const char *sluice_log_level_name(enum sluice_log_level lvl);

/* Writes "sluice: <level>: <message>\n" to stderr in one write(2) when lvl is
 * at or below the current level. The message is cut at SLUICE_LOG_MSG_MAX
 * bytes and any newline in it becomes a space, so it is always one line.
 * Write errors are ignored (there is nowhere to report them); errno is the
 * same on return as on entry. */
void sluice_log(enum sluice_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SLOG_ERR(...) sluice_log(SLUICE_LOG_ERROR, __VA_ARGS__)
#define SLOG_WARN(...) sluice_log(SLUICE_LOG_WARN, __VA_ARGS__)
#define SLOG_INFO(...) sluice_log(SLUICE_LOG_INFO, __VA_ARGS__)
#define SLOG_DEBUG(...) sluice_log(SLUICE_LOG_DEBUG, __VA_ARGS__)

#endif
