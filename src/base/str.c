#include "base/str.h"

#include <string.h>

struct str
str_of(const char *s)
{
    return (struct str){ s ? s : "", s ? strlen(s) : 0 };
}

bool
str_eq(struct str a, struct str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int
lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

bool
str_ieq(struct str a, struct str b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower((unsigned char)a.ptr[i]) != lower((unsigned char)b.ptr[i]))
            return false;
    return true;
}

bool
str_ieq_cstr(struct str a, const char *b)
{
    return str_ieq(a, str_of(b));
}

bool
cstr_ieq(const char *a, const char *b)
{
    return str_ieq(str_of(a), str_of(b));
}

bool
cstr_istarts_with(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strlen(s) >= n && str_ieq((struct str){ s, n }, (struct str){ prefix, n });
}

int
str_to_i64(struct str s, int64_t min, int64_t max, int64_t *out, const char *what, struct err *err)
{
    size_t i = 0;
    bool neg = false;
    int64_t v = 0;

    if (s.len > 0 && (s.ptr[0] == '-' || s.ptr[0] == '+')) {
        neg = s.ptr[0] == '-';
        i = 1;
    }
    if (i == s.len)
        return err_set(err, ERR_INVALID_VALUE, "%s must be an integer", what);
    for (; i < s.len; i++) {
        char c = s.ptr[i];
        if (c < '0' || c > '9')
            return err_set(err, ERR_INVALID_VALUE, "%s must be an integer", what);
        int d = c - '0';
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, neg ? -d : d, &v))
            return err_set(err, ERR_INVALID_VALUE, "%s is out of range", what);
    }
    if (v < min || v > max)
        return err_set(err, ERR_INVALID_VALUE, "%s must be between %lld and %lld", what,
                       (long long)min, (long long)max);
    *out = v;
    return 0;
}

char *
str_copy(char *dst, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n >= size)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return dst;
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct str
str_trim_space(struct str s)
{
    while (s.len > 0 && is_space(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && is_space(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

void
str_lower_ascii(char *s)
{
    for (; *s; s++)
        *s = (char)lower((unsigned char)*s);
}

bool
str_is_slug(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

size_t
str_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t k;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return k;
}

bool
str_is_utf8(struct str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    for (size_t i = 0; i < s.len;) {
        size_t k = str_utf8_len(p + i, s.len - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

size_t
str_utf8_prefix(const char *s, size_t n, size_t max)
{
    size_t at = 0;
    if (n > max)
        n = max;
    while (at < n) {
        size_t k = str_utf8_len((const unsigned char *)s + at, n - at);
        if (k == 0)
            break;
        at += k;
    }
    return at;
}

int
str_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
