#include "base/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t
clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
clock_format_ms(int64_t ms, char out[32])
{
    /* Every resource rendered prints two of these: plain arithmetic instead of
     * gmtime_r + strftime + snprintf. Civil date from days (H. Hinnant, "chrono-compatible
     * low-level date algorithms"); years 0..9999, as xsd:dateTime output needs. */
    int64_t days = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999) {
        y = y < 0 ? 0 : 9999; /* out of xsd's 4-digit range: clamp, never overflow */
    }
    int64_t v[] = { y, m, d, rem / 3600000, rem / 60000 % 60, rem / 1000 % 60, rem % 1000 };
    static const int width[] = { 4, 2, 2, 2, 2, 2, 3 };
    static const char sep[] = "--T::.Z";
    char *p = out;
    for (int i = 0; i < 7; i++) {
        for (int k = width[i] - 1; k >= 0; k--, v[i] /= 10)
            p[k] = (char)('0' + v[i] % 10);
        p += width[i];
        *p++ = sep[i];
    }
    *p = '\0';
}

static bool
digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static int64_t
days_from_civil(int y, int m, int d)
{
    /* Howard Hinnant's algorithm: proleptic Gregorian date to days since 1970-01-01. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool
clock_parse_datetime(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, frac = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || (*p != 'T' && *p != 't') || !(p++, digits(&p, 2, &h)) ||
        *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' || !digits(&p, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9' && n < 9) {
            if (n < 3)
                frac = frac * 10 + (*p - '0');
            p++;
            n++;
        }
        if (n == 0)
            return false;
        for (; n < 3; n++)
            frac *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return false;
        offset_min = sign * (oh * 60 + om);
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - (int64_t)offset_min * 60) * 1000 + frac;
    return true;
}
