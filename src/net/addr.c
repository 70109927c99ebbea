/* addr: see addr.h. */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *v4_reason(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
        const char *why;
    } nets[] = {
        {0x00000000, 0xff000000, "unspecified"},  /* 0/8 */
        {0x0a000000, 0xff000000, "private"},      /* 10/8 */
        {0x64400000, 0xffc00000, "private"},      /* 100.64/10 CGNAT */
        {0x7f000000, 0xff000000, "loopback"},     /* 127/8 */
        {0xa9fe0000, 0xffff0000, "link-local"},   /* 169.254/16 */
        {0xac100000, 0xfff00000, "private"},      /* 172.16/12 */
        {0xc0000000, 0xffffff00, "reserved"},     /* 192.0.0/24 */
        {0xc0000200, 0xffffff00, "documentation"},/* 192.0.2/24 */
        {0xc0a80000, 0xffff0000, "private"},      /* 192.168/16 */
        {0xc6120000, 0xfffe0000, "benchmarking"}, /* 198.18/15 */
        {0xc6336400, 0xffffff00, "documentation"},/* 198.51.100/24 */
        {0xcb007100, 0xffffff00, "documentation"},/* 203.0.113/24 */
        {0xe0000000, 0xf0000000, "multicast"},    /* 224/4 */
        {0xf0000000, 0xf0000000, "reserved"},     /* 240/4 incl. broadcast */
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        if ((a & nets[i].mask) == nets[i].net)
            return nets[i].why;
    return NULL;
}

const char *addr_restricted_reason(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_reason(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        const uint8_t *b = a->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
            if (IN6_IS_ADDR_UNSPECIFIED(a))
                return "unspecified";
            if (IN6_IS_ADDR_LOOPBACK(a))
                return "loopback";
            uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
            return v4_reason(v4);
        }
        if (IN6_IS_ADDR_UNSPECIFIED(a))
            return "unspecified";
        if (IN6_IS_ADDR_LOOPBACK(a))
            return "loopback";
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
            return "link-local";
        if ((b[0] & 0xfe) == 0xfc)
            return "unique-local";
        if (b[0] == 0xff)
            return "multicast";
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
            return "documentation";
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) /* NAT64 */
            return v4_reason((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
        if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: check the embedded IPv4 */
            return v4_reason((uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 8 | b[5]);
        return NULL;
    }
    return "unsupported address family";
}

const char *addr_to_string(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *src = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                                               : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!inet_ntop(sa->sa_family, src, buf, (socklen_t)len))
        snprintf(buf, len, "?");
    return buf;
}

bool addr_parse_literal(const char *s, net_addr *out)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        return true;
    }
    char tmp[64];
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof tmp) {
        memcpy(tmp, s + 1, n - 2);
        tmp[n - 2] = 0;
        s = tmp;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        return true;
    }
    return false;
}

bool addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return false;
}
