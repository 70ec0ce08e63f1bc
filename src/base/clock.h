#ifndef SCIMD_BASE_CLOCK_H
#define SCIMD_BASE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Wall-clock milliseconds since the Unix epoch. */
int64_t clock_now_ms(void);
/* Monotonic nanoseconds, for durations only. */
int64_t clock_mono_ns(void);
/* RFC 3339 UTC with milliseconds, "2026-11-29T23:38:17.123Z"; out must hold 32 bytes. */
void clock_format_ms(int64_t ms, char out[32]);
/* Parses an xsd:dateTime (RFC 7643 §2.3.5) with optional fraction and Z or ±hh:mm offset
 * into epoch ms. Returns false when the text is not one. */
bool clock_parse_datetime(const char *s, int64_t *ms);

#endif
