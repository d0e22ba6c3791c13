/* scan.c: the byte-class table and the vector scans (scalar, SSE2, AVX2, NEON) chosen once at run time. */
#include "scan.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define HAVE_NEON 1
#endif

/* clang-format off */
const uint8_t cio__http_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 6, 6, 6, 6, 6, 6,
    6, 15, 15, 15, 15, 15, 15, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7,
    7, 15, 15, 15, 15, 15, 15, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};
/* clang-format on */

const char *cio__http_find_ctl_scalar(const char *p, const char *end)
{
    for (; p < end; p++)
        if (!(cio__http_class[(unsigned char)*p] & CIO__VCHAR))
            return p;
    return end;
}

const char *cio__http_find_nontarget_scalar(const char *p, const char *end)
{
    for (; p < end; p++)
        if (!(cio__http_class[(unsigned char)*p] & CIO__TARGET))
            return p;
    return end;
}

/*
 * The vector paths load whole blocks only while a block fits before `end`, then finish with the scalar loop: a load
 * never touches a byte past `end`, which may sit on an unmapped page. Aligned loads that stay inside a page would
 * be allowed too, but ASan cannot tell them from overruns, and the tail is short.
 */
#ifdef HAVE_X86
static const char *find_ctl_sse2(const char *p, const char *end)
{
    while (end - p >= 16) {
        int m = cio__ctl_mask_sse2(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (m)
            return p + __builtin_ctz((unsigned)m);
        p += 16;
    }
    return cio__http_find_ctl_scalar(p, end);
}

static const char *find_nontarget_sse2(const char *p, const char *end)
{
    while (end - p >= 16) {
        int m = cio__nontarget_mask_sse2(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (m)
            return p + __builtin_ctz((unsigned)m);
        p += 16;
    }
    return cio__http_find_nontarget_scalar(p, end);
}

__attribute__((target("avx2"))) const char *cio__http_find_ctl_avx2(const char *p, const char *end)
{
    const __m256i c1f = _mm256_set1_epi8(0x1f), tab = _mm256_set1_epi8('\t'), del = _mm256_set1_epi8(0x7f);
    while (end - p >= 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
        __m256i low = _mm256_cmpeq_epi8(_mm256_max_epu8(x, c1f), c1f);
        __m256i bad = _mm256_or_si256(_mm256_andnot_si256(_mm256_cmpeq_epi8(x, tab), low), _mm256_cmpeq_epi8(x, del));
        unsigned m = (unsigned)_mm256_movemask_epi8(bad);
        if (m)
            return p + __builtin_ctz(m);
        p += 32;
    }
    return find_ctl_sse2(p, end);
}

__attribute__((target("avx2"))) const char *cio__http_find_nontarget_avx2(const char *p, const char *end)
{
    const __m256i off = _mm256_set1_epi8(0x5f), lim = _mm256_set1_epi8((char)0xdd);
    while (end - p >= 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
        unsigned m = (unsigned)_mm256_movemask_epi8(_mm256_cmpgt_epi8(_mm256_add_epi8(x, off), lim));
        if (m)
            return p + __builtin_ctz(m);
        p += 32;
    }
    return find_nontarget_sse2(p, end);
}
#endif

#ifdef HAVE_NEON
/* The index of the first nonzero byte of a 0x00/0xff mask, via the narrowing shift trick (4 bits per byte). */
static inline int neon_first(uint8x16_t m)
{
    uint64_t bits = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
    return bits ? __builtin_ctzll(bits) >> 2 : -1;
}

static const char *find_ctl_neon(const char *p, const char *end)
{
    while (end - p >= 16) {
        uint8x16_t x = vld1q_u8((const uint8_t *)p);
        uint8x16_t bad = vorrq_u8(vandq_u8(vcltq_u8(x, vdupq_n_u8(0x20)), vmvnq_u8(vceqq_u8(x, vdupq_n_u8('\t')))),
                                  vceqq_u8(x, vdupq_n_u8(0x7f)));
        int i = neon_first(bad);
        if (i >= 0)
            return p + i;
        p += 16;
    }
    return cio__http_find_ctl_scalar(p, end);
}

static const char *find_nontarget_neon(const char *p, const char *end)
{
    while (end - p >= 16) {
        uint8x16_t x = vld1q_u8((const uint8_t *)p);
        uint8x16_t bad = vcgtq_u8(vsubq_u8(x, vdupq_n_u8(0x21)), vdupq_n_u8(0x7e - 0x21));
        int i = neon_first(bad);
        if (i >= 0)
            return p + i;
        p += 16;
    }
    return cio__http_find_nontarget_scalar(p, end);
}
#endif

struct scan_impl {
    const char *(*find_ctl)(const char *, const char *);
    const char *(*find_nontarget)(const char *, const char *);
};

static const struct scan_impl impls[] = {
    [CIO__SIMD_SCALAR] = {cio__http_find_ctl_scalar, cio__http_find_nontarget_scalar},
#ifdef HAVE_X86
    [CIO__SIMD_SSE2] = {find_ctl_sse2, find_nontarget_sse2},
    [CIO__SIMD_AVX2] = {cio__http_find_ctl_avx2, cio__http_find_nontarget_avx2},
#endif
#ifdef HAVE_NEON
    [CIO__SIMD_NEON] = {find_ctl_neon, find_nontarget_neon},
#endif
};

/* -1 until the first scan picks a level. An atomic int, not a function pointer pair, so a race is harmless. */
int cio__http_simd_current = -1;

static bool supported(int level)
{
    switch (level) {
    case CIO__SIMD_SCALAR:
        return true;
#ifdef HAVE_X86
    case CIO__SIMD_SSE2:
        return true;
    case CIO__SIMD_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
#endif
#ifdef HAVE_NEON
    case CIO__SIMD_NEON:
        return true;
#endif
    default:
        return false;
    }
}

/*
 * The best level the CPU has. CIO_HTTP_SIMD=scalar|sse2|avx2|neon in the environment caps it, so a whole test or
 * benchmark run can be repeated on another path without rebuilding.
 */
static int pick_level(void)
{
    int best = CIO__SIMD_SCALAR;
    for (int l = CIO__SIMD_SSE2; l <= CIO__SIMD_NEON; l++)
        if (supported(l))
            best = l;
    const char *env = getenv("CIO_HTTP_SIMD");
    if (env)
        for (int l = CIO__SIMD_SCALAR; l <= CIO__SIMD_NEON; l++)
            if (strcmp(env, cio__http_simd_name(l)) == 0 && supported(l))
                best = l;
    return best;
}

int cio__http_simd_level(void)
{
    int l = __atomic_load_n(&cio__http_simd_current, __ATOMIC_RELAXED);
    if (l < 0) {
        l = pick_level();
        __atomic_store_n(&cio__http_simd_current, l, __ATOMIC_RELAXED);
    }
    return l;
}

int cio__http_simd_set(int level)
{
    if (supported(level))
        __atomic_store_n(&cio__http_simd_current, level, __ATOMIC_RELAXED);
    return cio__http_simd_level();
}

const char *cio__http_simd_name(int level)
{
    static const char *const names[] = {"scalar", "sse2", "avx2", "neon"};
    return level >= 0 && level <= CIO__SIMD_NEON ? names[level] : "?";
}

const char *cio__http_find_ctl(const char *p, const char *end)
{
    return impls[cio__http_simd_level()].find_ctl(p, end);
}

const char *cio__http_find_nontarget(const char *p, const char *end)
{
    return impls[cio__http_simd_level()].find_nontarget(p, end);
}
