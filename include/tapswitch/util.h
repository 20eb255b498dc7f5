/*
 * util.h - small helpers shared by every module.
 *
 * The x* allocation family aborts the process on out-of-memory, so
 * control-plane callers never check for NULL.  The data path never calls
 * any of them after start-up.
 */
#ifndef TAPSWITCH_UTIL_H
#define TAPSWITCH_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CACHE_LINE 64
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))

/* Allocate; never return NULL (abort with a message instead). */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xaligned_alloc(size_t align, size_t size);	/* zeroed */
char *xstrdup(const char *s);
/* xstrdup, or NULL for NULL. */
char *xstrdup_null(const char *s);

/* Equal strings, where NULL equals only NULL. */
bool str_equal_null(const char *a, const char *b);
char *xasprintf(const char *fmt, ...) PRINTF_FMT(1, 2);
char *xvasprintf(const char *fmt, va_list ap);

/* Counters with a single writer: relaxed atomics, so a reader on another
 * thread never sees a torn value and the writer pays no lock prefix. */
static inline void
ctr_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v,
	    __ATOMIC_RELAXED);
}

static inline uint64_t
ctr_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Monotonic clock in seconds (coarse; cheap enough for the data path). */
uint32_t now_sec(void);

/* Parse a decimal unsigned integer in [min, max]; 0 or -EINVAL/-ERANGE. */
int parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out);

#endif
