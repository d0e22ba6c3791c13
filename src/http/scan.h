/* scan.h: byte classes and the vector scans shared by the HTTP head parser and chunked decoder. */
#ifndef CIO_HTTP_SCAN_H
#define CIO_HTTP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Byte classes, one bit each, in cio__http_class[256]. */
#define CIO__TCHAR  0x01 /* token characters (RFC 9110 section 5.6.2) */
#define CIO__VCHAR  0x02 /* allowed in a header value or reason: VCHAR, SP, HTAB, obs-text */
#define CIO__TARGET 0x04 /* allowed in a request target: VCHAR only (0x21-0x7e), as llhttp's strict mode */
#define CIO__HEX    0x08 /* hex digits */

extern const uint8_t cio__http_class[256];

/* The scan implementations: what tests select to compare the paths. */
enum cio__http_simd { CIO__SIMD_SCALAR = 0, CIO__SIMD_SSE2, CIO__SIMD_AVX2, CIO__SIMD_NEON };

/*
 * The level in use. It is chosen from the CPU on first use; a test may force a lower one (or any supported one).
 * Returns the level now in use; asking for an unsupported level keeps the current one.
 */
int cio__http_simd_level(void);

/* The level in use, or -1 before the first use; cio__http_simd_level() is the one writer. */
extern int cio__http_simd_current;

/* cio__http_simd_level() for hot paths: one relaxed load once the level is known. */
static inline int cio__http_simd(void)
{
    int l = __atomic_load_n(&cio__http_simd_current, __ATOMIC_RELAXED);
    return l >= 0 ? l : cio__http_simd_level();
}
int cio__http_simd_set(int level);
const char *cio__http_simd_name(int level);

/*
 * The first byte in [p, end) that may not appear in a header value (a control character other than HTAB, or DEL),
 * or `end`. Line ends (CR, LF) are control characters, so this also finds the end of the line.
 */
const char *cio__http_find_ctl(const char *p, const char *end);

/* The first byte in [p, end) that may not appear in a request target (not 0x21-0x7e), or `end`. */
const char *cio__http_find_nontarget(const char *p, const char *end);

/* The scalar versions, which every other path must agree with. */
const char *cio__http_find_ctl_scalar(const char *p, const char *end);
const char *cio__http_find_nontarget_scalar(const char *p, const char *end);

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>

/* The AVX2 scans, for long runs; call only when cio__http_simd_level() says AVX2. */
const char *cio__http_find_ctl_avx2(const char *p, const char *end);
const char *cio__http_find_nontarget_avx2(const char *p, const char *end);

/* Bytes < 0x20 other than HTAB, and DEL. Unsigned "x <= 0x1f" is max(x, 0x1f) == 0x1f; SSE2 has no unsigned <. */
static inline int cio__ctl_mask_sse2(__m128i x)
{
    __m128i low = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
    __m128i tab = _mm_cmpeq_epi8(x, _mm_set1_epi8('\t'));
    __m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f));
    return _mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(tab, low), del));
}

/* Bytes outside 0x21-0x7e: adding 0x5f maps 0x21-0x7e to 0x80-0xdd, which signed is the range -128..-35. */
static inline int cio__nontarget_mask_sse2(__m128i x)
{
    __m128i y = _mm_add_epi8(x, _mm_set1_epi8(0x5f));
    return _mm_movemask_epi8(_mm_cmpgt_epi8(y, _mm_set1_epi8((char)0xdd)));
}

/*
 * The scans the parser inlines: most header values and targets end within the first 16 bytes, so one SSE2 block
 * (part of the x86-64 baseline, no dispatch) answers; a run that goes on is handed to AVX2 when the CPU has it.
 * Loads stay below `end`: the last bytes go through the scalar loop.
 */
static inline const char *cio__find_ctl_inline(const char *p, const char *end, int level)
{
    if (level == CIO__SIMD_SCALAR)
        return cio__http_find_ctl_scalar(p, end);
    while (end - p >= 16) {
        int m = cio__ctl_mask_sse2(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (m)
            return p + __builtin_ctz((unsigned)m);
        p += 16;
        if (level == CIO__SIMD_AVX2 && end - p >= 64)
            return cio__http_find_ctl_avx2(p, end);
    }
    return cio__http_find_ctl_scalar(p, end);
}

static inline const char *cio__find_nontarget_inline(const char *p, const char *end, int level)
{
    if (level == CIO__SIMD_SCALAR)
        return cio__http_find_nontarget_scalar(p, end);
    while (end - p >= 16) {
        int m = cio__nontarget_mask_sse2(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (m)
            return p + __builtin_ctz((unsigned)m);
        p += 16;
        if (level == CIO__SIMD_AVX2 && end - p >= 64)
            return cio__http_find_nontarget_avx2(p, end);
    }
    return cio__http_find_nontarget_scalar(p, end);
}
/*
 * Skip the bytes of [p, end) that are letters, digits or "-", 16 at a time: nearly all of a header name or method.
 * The caller then finishes with the token table, which knows the other token characters and stops at the rest.
 * SSE2 has only signed compares: x is in [lo, hi] when x - lo - 128, read as signed, is below hi - lo + 1 - 128.
 */
static inline __m128i cio__in_range_sse2(__m128i x, char lo, char hi)
{
    __m128i t = _mm_add_epi8(x, _mm_set1_epi8((char)(-lo - 128)));
    return _mm_cmpgt_epi8(_mm_set1_epi8((char)(hi - lo + 1 - 128)), t);
}

static inline const char *cio__skip_alnum_inline(const char *p, const char *end, int level)
{
    if (level == CIO__SIMD_SCALAR)
        return p;
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i ok = _mm_or_si128(cio__in_range_sse2(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z'),
                                  cio__in_range_sse2(x, '0', '9'));
        ok = _mm_or_si128(ok, _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
        unsigned m = (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
    return p;
}

#define CIO__HAVE_LINE_MASKS 1
/*
 * One 16-byte block at the start of a field line, read once for three answers that do not depend on each other:
 * where the first ":" is, which bytes are not letters, digits or "-", and where the first control character (the
 * line end, normally) is. Bit i of each mask is byte i.
 */
struct cio__line_masks {
    unsigned colon, nonword, ctl;
};

static inline struct cio__line_masks cio__line_masks_sse2(const char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i word = _mm_or_si128(cio__in_range_sse2(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z'),
                                cio__in_range_sse2(x, '0', '9'));
    word = _mm_or_si128(word, _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
    return (struct cio__line_masks){
        .colon = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(':'))),
        .nonword = (unsigned)_mm_movemask_epi8(word) ^ 0xffffu,
        .ctl = (unsigned)cio__ctl_mask_sse2(x),
    };
}

/*
 * cio__find_ctl_inline from `p`, when the 16 bytes before `end` are all readable and [start, p) is known to hold
 * none: a short tail takes one load that ends at `end` instead of the byte loop.
 */
static inline const char *cio__find_ctl_tail(const char *p, const char *end, int level)
{
    if (end - p >= 16)
        return cio__find_ctl_inline(p, end, level);
    unsigned m = (unsigned)cio__ctl_mask_sse2(_mm_loadu_si128((const __m128i *)(const void *)(end - 16)));
    m >>= 16 - (end - p);
    return m ? p + __builtin_ctz(m) : end;
}
#else
static inline const char *cio__skip_alnum_inline(const char *p, const char *end, int level)
{
    (void)end, (void)level;
    return p;
}

static inline const char *cio__find_ctl_inline(const char *p, const char *end, int level)
{
    (void)level;
    return cio__http_find_ctl(p, end);
}

static inline const char *cio__find_nontarget_inline(const char *p, const char *end, int level)
{
    (void)level;
    return cio__http_find_nontarget(p, end);
}
#endif

static inline bool cio__is_tchar(unsigned char c)
{
    return cio__http_class[c] & CIO__TCHAR;
}

static inline unsigned char cio__lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

#endif
