/* retry: see retry.h. */
#include "retry.h"

bool retry_wanted(http_err err, long status)
{
    switch (err) {
    case HTTP_E_CONNECT:
    case HTTP_E_TIMEOUT:
    case HTTP_E_RECV:
        return true;
    case HTTP_OK:
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
    default:
        return false;
    }
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

int64_t retry_delay_ms(int retry, int64_t base_ms, int64_t cap_ms, int64_t retry_after_s, uint64_t *rng)
{
    if (retry < 1)
        retry = 1;
    int64_t d = base_ms;
    for (int i = 1; i < retry && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms)
        d = cap_ms;
    if (d > 0) {
        int64_t half = d / 2;
        d = half + (int64_t)(xorshift(rng) % (uint64_t)(d - half + 1));
    }
    if (retry_after_s >= 0) {
        int64_t ra = retry_after_s * 1000;
        if (ra > d)
            d = ra;
        if (d > cap_ms)
            d = cap_ms;
    }
    return d;
}

void tb_init(tbucket *tb, double rate, double burst, int64_t now_ns)
{
    tb->rate = rate;
    tb->burst = burst < 1 ? 1 : burst;
    tb->tokens = tb->burst;
    tb->last_ns = now_ns;
}

int64_t tb_reserve(tbucket *tb, int64_t now_ns)
{
    if (tb->rate <= 0)
        return 0;
    if (now_ns > tb->last_ns) {
        tb->tokens += (double)(now_ns - tb->last_ns) / 1e9 * tb->rate;
        if (tb->tokens > tb->burst)
            tb->tokens = tb->burst;
        tb->last_ns = now_ns;
    }
    tb->tokens -= 1;
    if (tb->tokens >= 0)
        return 0;
    return (int64_t)(-tb->tokens / tb->rate * 1e9);
}

int64_t retry_random_gap(int64_t gap_ns, uint64_t *rng)
{
    if (gap_ns <= 1)
        return gap_ns;
    return gap_ns / 2 + (int64_t)(xorshift(rng) % (uint64_t)gap_ns);
}
