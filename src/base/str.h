#ifndef SCIMD_BASE_STR_H
#define SCIMD_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* A borrowed, not NUL-terminated piece of text. */
struct str {
    const char *ptr;
    size_t len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })

/* Wraps a NUL-terminated string (NULL gives the empty str). */
struct str str_of(const char *s);

bool str_eq(struct str a, struct str b);
/* ASCII case-insensitive equality (attribute names, operators: RFC 7643 §2.1). */
bool str_ieq(struct str a, struct str b);
bool str_ieq_cstr(struct str a, const char *b);
bool cstr_ieq(const char *a, const char *b);
bool cstr_istarts_with(const char *s, const char *prefix);

/* Parses a whole decimal integer in [min, max] (strtonum-like). On failure sets err
 * (ERR_INVALID_VALUE, naming `what`) and returns -1. */
int str_to_i64(struct str s, int64_t min, int64_t max, int64_t *out, const char *what,
               struct err *err);

/* Copies s into dst (size > 0), truncating; returns dst. Replaces strncpy. */
char *str_copy(char *dst, size_t size, const char *s);

/* s without its leading and trailing white space as XML counts it (XML 1.0 §2.3 `S`: space,
 * tab, CR, LF): a pretty-printed text node such as a SAML NameID on a line of its own. */
struct str str_trim_space(struct str s);

/* Lower-cases ASCII letters in place. */
void str_lower_ascii(char *s);

/* True when every byte is in [a-z0-9-], first is a letter or digit, 1..max bytes. */
bool str_is_slug(const char *s, size_t max);

/* Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629 §4: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0; n > 0. */
size_t str_utf8_len(const unsigned char *s, size_t n);

/* The value of one hex digit (either case), or -1. */
int str_hex_value(char c);

/* The length of the longest prefix of s[0..n), at most max bytes, made of whole well-formed
 * UTF-8 sequences (it ends before the first ill-formed byte): where to cut text for display. */
size_t str_utf8_prefix(const char *s, size_t n, size_t max);

/* True when s is well-formed UTF-8 (str_utf8_len at every step). A NUL byte is well-formed. */
bool str_is_utf8(struct str s);

#endif
