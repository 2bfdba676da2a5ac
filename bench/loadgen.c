/*
 * loadgen: a WebSocket (RFC 6455) and raw-TCP load generator for hawser's benchmarks.
 *
 * One thread, one epoll loop, non-blocking sockets. Written in C because a generator in
 * JavaScript on one core saturates near the servers' own rates and would measure itself.
 *
 * Modes:
 *   echo       every connection keeps --inflight messages outstanding; each echo is compared
 *              byte for byte with what was sent; round-trip latency per message.
 *   idle       open --connections, complete the handshakes, print a "ready" line, then hold
 *              them (answering pings) until --duration elapses or SIGTERM/SIGINT arrives.
 *   broadcast  all connections are receivers; connection 0 also sends. A message counts as
 *              delivered once every open connection has received it; --inflight messages may
 *              be outstanding at once.
 * --raw switches echo to plain TCP: same payloads, no framing, no handshake.
 * --deflate offers permessage-deflate (RFC 7692) as browsers do, requires the server to agree,
 * compresses every message it sends and inflates compressed echoes before comparing them.
 *
 * Output: the last line on stdout is one JSON object with the results.
 * Build: bench/build.sh (gcc -O2). Self-test of SHA-1/base64: loadgen --selftest.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------------------ options */

enum mode { MODE_ECHO, MODE_IDLE, MODE_BROADCAST };

static struct {
    const char *host;
    const char *port;
    const char *path;
    int connections;
    size_t size;
    int inflight;
    double duration;
    double warmup;
    int opcode; /* 1 text, 2 binary */
    enum mode mode;
    int raw;
    int concurrency;        /* connects + handshakes in progress at once */
    double connect_timeout; /* seconds for all connections to open */
    double stall_timeout;   /* seconds without progress before giving up */
    int greeting;           /* data messages the server sends unasked after the handshake */
    int deflate;            /* offer and require permessage-deflate */
} O = {
    .host = "127.0.0.1",
    .port = "9001",
    .path = "/",
    .connections = 1,
    .size = 32,
    .inflight = 1,
    .duration = 5,
    .warmup = 1,
    .opcode = 1,
    .mode = MODE_ECHO,
    .raw = 0,
    .concurrency = 256,
    .connect_timeout = 60,
    .stall_timeout = 10,
};

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void usage(void)
{
    fputs("usage: loadgen [--host H] [--port P] [--path /p] [--connections N] [--size BYTES]\n"
          "               [--inflight K] [--duration S] [--warmup S] [--opcode text|binary]\n"
          "               [--mode echo|idle|broadcast] [--raw] [--concurrency N]\n"
          "               [--connect-timeout S] [--stall-timeout S] [--greeting N] [--deflate]\n"
          "       loadgen --selftest\n",
          stderr);
    exit(2);
}

/* ------------------------------------------------------------------ time, PRNG */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: masks need to be unpredictable to a proxy, not cryptographic (RFC 6455
 * 10.3); a fresh key per frame must be cheap. Seeded once from getrandom(). */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static void rng_seed(void)
{
    if (getrandom(&rng_state, sizeof rng_state, 0) != sizeof rng_state)
        die("getrandom failed: %s", strerror(errno));
    if (rng_state == 0) rng_state = 1; /* xorshift must not start at zero */
}

/* ------------------------------------------------------------------ SHA-1, base64 */

static uint32_t rol32(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/* One-shot SHA-1 (FIPS 180-4); inputs here are a few dozen bytes. */
static void sha1(const uint8_t *msg, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t full = len / 64 * 64;
    for (size_t i = 0; i < full; i += 64) sha1_block(h, msg + i);
    /* Padding: 0x80, zeros, then the bit length big-endian; one or two final blocks. */
    uint8_t tail[128] = {0};
    size_t rest = len - full;
    memcpy(tail, msg + full, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (size_t i = 0; i < tail_len; i += 64) sha1_block(h, tail + i);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

/* Standard base64 with padding; out must hold 4*ceil(len/3)+1 bytes. */
static void base64(const uint8_t *in, size_t len, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = 0;
}

/* Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2 step 5.4). */
static void ws_accept_for(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[128];
    size_t n = (size_t)snprintf(buf, sizeof buf, "%s%s", key, guid);
    uint8_t digest[20];
    sha1((const uint8_t *)buf, n, digest);
    base64(digest, 20, out);
}

static int selftest(void)
{
    struct {
        const char *in, *hex;
    } v[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        /* 56 bytes: the length no longer fits the first block, so padding spills. */
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    };
    int fails = 0;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t d[20];
        char hex[41];
        sha1((const uint8_t *)v[i].in, strlen(v[i].in), d);
        for (int j = 0; j < 20; j++) sprintf(hex + 2 * j, "%02x", d[j]);
        if (strcmp(hex, v[i].hex) != 0) {
            fprintf(stderr, "sha1(\"%s\") = %s, want %s\n", v[i].in, hex, v[i].hex);
            fails++;
        }
    }
    char acc[29];
    ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", acc); /* the RFC 6455 section 1.3 example */
    if (strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != 0) {
        fprintf(stderr, "accept = %s\n", acc);
        fails++;
    }
    printf("{\"selftest\":%s}\n", fails ? "false" : "true");
    return fails ? 1 : 0;
}

/* ------------------------------------------------------------------ latency histogram */

/* Log-linear buckets: exact below 128 ns, then 64 sub-buckets per power of two
 * (about 1.5% resolution), enough for p50/p99 without storing samples. */
#define HIST_BUCKETS (64 * 58 + 64)
static uint64_t hist[HIST_BUCKETS];
static uint64_t hist_count, hist_max;

static void hist_add(uint64_t v)
{
    size_t idx;
    if (v < 128) {
        idx = (size_t)v;
    } else {
        int msb = 63 - __builtin_clzll(v);
        idx = (size_t)(64 * (msb - 6)) + (size_t)(v >> (msb - 6));
    }
    hist[idx]++;
    hist_count++;
    if (v > hist_max) hist_max = v;
}

static double hist_percentile(double p)
{
    if (hist_count == 0) return 0;
    uint64_t target = (uint64_t)(p * (double)hist_count + 0.999999);
    if (target == 0) target = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += hist[i];
        if (seen >= target) {
            if (i < 128) return (double)i;
            int msb = (int)(i / 64) + 5;
            uint64_t q = i % 64 + 64;
            double lo = (double)(q << (msb - 6)), hi = (double)((q + 1) << (msb - 6));
            return (lo + hi) / 2;
        }
    }
    return (double)hist_max;
}

/* ------------------------------------------------------------------ payloads */

/* Message seq carries base[seq % ROTATE ...]: consecutive messages differ, so a reordered,
 * duplicated or stale echo fails the comparison. 251 is prime, so no period aligns with 2^k. */
#define ROTATE 251
static uint8_t *base_payload;
/* Broadcast messages start with their sequence number in 16 hex digits. */
#define SEQ_PREFIX 16

static uint8_t hex_digit(uint64_t seq, size_t pos)
{
    return (uint8_t)"0123456789abcdef"[(seq >> (4 * (SEQ_PREFIX - 1 - pos))) & 15];
}

static void make_base_payload(void)
{
    size_t n = O.size + ROTATE;
    base_payload = malloc(n);
    if (!base_payload) die("out of memory");
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rng_next();
        /* Text frames must be valid UTF-8: printable ASCII keeps every byte a character. */
        base_payload[i] = O.opcode == 1 ? (uint8_t)(0x20 + r % 95) : (uint8_t)(r >> 56);
    }
}

/* Does data (n bytes at position pos of message seq) match what was sent? */
static int payload_matches(uint64_t seq, uint64_t pos, const uint8_t *data, size_t n)
{
    if (pos + n > O.size) return 0;
    const uint8_t *want = base_payload + seq % ROTATE;
    if (O.mode == MODE_BROADCAST) {
        for (; n && pos < SEQ_PREFIX; n--, pos++, data++)
            if (*data != hex_digit(seq, (size_t)pos)) return 0;
    }
    return memcmp(data, want + pos, n) == 0;
}

/* ------------------------------------------------------------------ connections */

/* C_GREETING: handshake done, still reading the --greeting messages; the connection counts
 * as open only after them, so a greeting is never mistaken for an echo. */
enum cstate { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_GREETING, C_OPEN, C_DEAD };

struct conn {
    int fd;
    uint8_t state;
    uint8_t want_out; /* EPOLLOUT currently registered */
    /* handshake */
    char *hs;
    uint32_t hs_len;
    char accept[29];
    /* outgoing bytes not yet accepted by the kernel */
    uint8_t *wbuf;
    size_t whead, wlen, wcap;
    /* incoming frame parser: server frames may split anywhere, so every field is resumable */
    uint8_t hdr[14];
    uint8_t hdr_len;
    uint8_t in_frame, frame_op, frame_fin;
    uint64_t frame_left;
    uint8_t ctl[125];
    uint8_t ctl_len;
    uint8_t in_msg, rx_bad;
    int greet_left;
    uint64_t rx_pos; /* bytes of the current message seen */
    uint64_t tx_seq, rx_seq;
    uint64_t *sent_at; /* ring of --inflight send times, echoes come back in order */
    /* permessage-deflate as agreed (RFC 7692 section 7.1); the streams are made on first use */
    uint8_t pmd, pmd_client_reset, pmd_server_reset, pmd_client_bits, rx_compressed;
    z_stream *tx_z, *rx_z;
};

static struct conn *conns;
static int epfd;
static struct addrinfo *server_addr;
static char host_header[300];

static struct {
    uint64_t messages, bytes, deliveries;
    uint64_t echo_errors, protocol_errors, connect_errors, closed_by_server, unsolicited;
    uint64_t opened;
} S;

static struct {
    int started;  /* connections started so far */
    int pending;  /* connecting or handshaking */
    int open;     /* open now */
    int sending;  /* the load phase is on */
    int measuring;
    uint64_t last_progress;
    /* broadcast bookkeeping: the ring of outstanding messages */
    uint64_t b_sent, b_done;
    uint32_t *b_delivered;
    uint64_t *b_sent_at;
    uint8_t *b_msg;
} G;

/* CPU seconds this process used so far: if it nears the wall time of the window, the
 * generator itself was the bottleneck and the numbers say nothing about the server. */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

#define RBUF_SIZE (256 * 1024)
static uint8_t rbuf[RBUF_SIZE];

/* Edge-triggered: level-triggered epoll re-polls every ready socket on each wait, which was
 * a tenth of the generator's time with 1,000 connections. With edges, every read loop must
 * drain the socket (see on_event). */
#define EPOLL_FLAGS (EPOLLIN | EPOLLET)

static void set_interest(struct conn *c, int want_out)
{
    if (c->want_out == want_out) return;
    struct epoll_event ev = {.events = EPOLL_FLAGS | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->want_out = (uint8_t)want_out;
}

static void conn_kill(struct conn *c)
{
    if (c->state == C_DEAD) return;
    if (c->state == C_CONNECTING || c->state == C_HANDSHAKE || c->state == C_GREETING) G.pending--;
    if (c->state == C_OPEN) G.open--;
    close(c->fd); /* also removes it from epoll */
    c->fd = -1;
    c->state = C_DEAD;
    free(c->hs);
    free(c->wbuf);
    free(c->sent_at);
    if (c->tx_z) deflateEnd(c->tx_z);
    if (c->rx_z) inflateEnd(c->rx_z);
    free(c->tx_z);
    free(c->rx_z);
    c->tx_z = c->rx_z = NULL;
    c->hs = NULL;
    c->wbuf = NULL;
    c->sent_at = NULL;
}

static void wbuf_reserve(struct conn *c, size_t n)
{
    if (c->wlen + n <= c->wcap) return;
    if (c->whead) { /* slide the unsent tail to the front before growing */
        memmove(c->wbuf, c->wbuf + c->whead, c->wlen - c->whead);
        c->wlen -= c->whead;
        c->whead = 0;
        if (c->wlen + n <= c->wcap) return;
    }
    size_t cap = c->wcap ? c->wcap : 256;
    while (cap < c->wlen + n) cap *= 2;
    uint8_t *p = realloc(c->wbuf, cap);
    if (!p) die("out of memory");
    c->wbuf = p;
    c->wcap = cap;
}

static void wbuf_append(struct conn *c, const void *data, size_t n)
{
    wbuf_reserve(c, n);
    memcpy(c->wbuf + c->wlen, data, n);
    c->wlen += n;
}

/* Returns -1 if the connection died. */
static int conn_flush(struct conn *c)
{
    while (c->whead < c->wlen) {
        ssize_t w = send(c->fd, c->wbuf + c->whead, c->wlen - c->whead, MSG_NOSIGNAL);
        if (w > 0) {
            c->whead += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            if (c->state == C_OPEN) S.closed_by_server++;
            else S.connect_errors++;
            conn_kill(c);
            return -1;
        }
    }
    if (c->whead == c->wlen) c->whead = c->wlen = 0;
    set_interest(c, c->wlen > c->whead);
    return 0;
}

/* Copy src to dst XORed with the 4-byte key, eight bytes at a time (RFC 6455 5.3). */
static void mask_copy(uint8_t *dst, const uint8_t *src, size_t n, uint32_t key)
{
    uint64_t k64 = (uint64_t)key | (uint64_t)key << 32; /* key bytes repeat in memory order */
    const uint8_t *kb = (const uint8_t *)&key;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= k64;
        memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++) dst[i] = src[i] ^ kb[i & 3];
}

/* Append one complete masked client frame (RFC 6455 5.2) with a fresh masking key; rsv1 marks
 * a compressed message (RFC 7692 section 6). */
static void queue_frame_rsv(struct conn *c, int opcode, int rsv1, const uint8_t *payload, size_t len)
{
    uint8_t h[14];
    size_t hl = 2;
    h[0] = (uint8_t)(0x80 | (rsv1 ? 0x40 : 0) | opcode);
    if (len < 126) {
        h[1] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        h[1] = 0x80 | 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        hl = 4;
    } else {
        h[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        hl = 10;
    }
    uint32_t key = (uint32_t)(rng_next() >> 32);
    memcpy(h + hl, &key, 4);
    hl += 4;
    wbuf_reserve(c, hl + len);
    memcpy(c->wbuf + c->wlen, h, hl);
    mask_copy(c->wbuf + c->wlen + hl, payload, len, key);
    c->wlen += hl + len;
}

static void queue_frame(struct conn *c, int opcode, const uint8_t *payload, size_t len)
{
    queue_frame_rsv(c, opcode, 0, payload, len);
}

/* ------------------------------------------------------------------ permessage-deflate */

/* The generator compresses at zlib level 1: its own CPU must stay well below the servers'. */
#define GEN_DEFLATE_LEVEL 1
static uint8_t *zbuf; /* compressed or inflated bytes of the message at hand */
static size_t zcap;

static void zbuf_reserve(size_t n)
{
    if (n <= zcap) return;
    uint8_t *p = realloc(zbuf, n);
    if (!p) die("out of memory");
    zbuf = p;
    zcap = n;
}

/* Compresses one message (RFC 7692 section 7.2.1): deflate with a sync flush, then drop the
 * flush's empty stored block tail 00 00 ff ff. */
static void queue_compressed(struct conn *c, int opcode, const uint8_t *payload, size_t len)
{
    if (!c->tx_z) {
        c->tx_z = calloc(1, sizeof *c->tx_z);
        if (!c->tx_z) die("out of memory");
        if (deflateInit2(c->tx_z, GEN_DEFLATE_LEVEL, Z_DEFLATED, -(int)c->pmd_client_bits, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            die("deflateInit2 failed");
    }
    z_stream *z = c->tx_z;
    zbuf_reserve(deflateBound(z, len) + 16);
    z->next_in = (Bytef *)payload;
    z->avail_in = (uInt)len;
    z->next_out = zbuf;
    z->avail_out = (uInt)zcap;
    if (deflate(z, Z_SYNC_FLUSH) != Z_OK || z->avail_in != 0) die("deflate failed");
    size_t out = zcap - z->avail_out;
    if (out < 4 || memcmp(zbuf + out - 4, "\x00\x00\xff\xff", 4) != 0) die("deflate: no sync flush tail");
    if (c->pmd_client_reset) deflateReset(z);
    queue_frame_rsv(c, opcode, 1, zbuf, out - 4);
}

static void queue_message(struct conn *c, int opcode, const uint8_t *payload, size_t len)
{
    if (c->pmd)
        queue_compressed(c, opcode, payload, len);
    else
        queue_frame(c, opcode, payload, len);
}

/* ------------------------------------------------------------------ message flow */

static void conn_opened(struct conn *c);

static void echo_send(struct conn *c, uint64_t now)
{
    c->sent_at[c->tx_seq % (uint64_t)O.inflight] = now;
    const uint8_t *p = base_payload + c->tx_seq % ROTATE;
    if (O.raw)
        wbuf_append(c, p, O.size);
    else
        queue_message(c, O.opcode, p, O.size);
    c->tx_seq++;
}

static void broadcast_send(uint64_t now)
{
    struct conn *sender = &conns[0];
    if (sender->state != C_OPEN) return;
    uint64_t seq = G.b_sent++;
    uint64_t slot = seq % (uint64_t)O.inflight;
    G.b_delivered[slot] = 0;
    G.b_sent_at[slot] = now;
    for (size_t i = 0; i < SEQ_PREFIX; i++) G.b_msg[i] = hex_digit(seq, i);
    memcpy(G.b_msg + SEQ_PREFIX, base_payload + seq % ROTATE + SEQ_PREFIX, O.size - SEQ_PREFIX);
    queue_message(sender, O.opcode, G.b_msg, O.size);
}

static void broadcast_fill(uint64_t now)
{
    while (G.sending && G.b_sent - G.b_done < (uint64_t)O.inflight) broadcast_send(now);
    if (conns[0].state == C_OPEN) conn_flush(&conns[0]);
}

/* A whole message arrived on c (its bytes were already compared). */
static void message_done(struct conn *c, uint64_t now)
{
    if (c->state == C_GREETING) { /* content is the server's business; only count them */
        c->rx_bad = 0;
        c->rx_pos = 0;
        if (--c->greet_left == 0) conn_opened(c);
        return;
    }
    if (c->rx_bad) S.echo_errors++;
    c->rx_bad = 0;
    c->rx_pos = 0;
    if (c->state == C_HANDSHAKE) { /* the raw probe */
        c->rx_seq++;
        conn_opened(c);
        return;
    }
    G.last_progress = now;
    if (O.mode == MODE_BROADCAST) {
        uint64_t seq = c->rx_seq++;
        if (G.measuring) S.deliveries++;
        G.b_delivered[seq % (uint64_t)O.inflight]++;
        int progressed = 0;
        /* Each connection receives in order, so messages complete in order too. */
        while (G.b_done < G.b_sent &&
               G.b_delivered[G.b_done % (uint64_t)O.inflight] >= (uint32_t)G.open) {
            if (G.measuring) {
                S.messages++;
                S.bytes += O.size;
                hist_add(now - G.b_sent_at[G.b_done % (uint64_t)O.inflight]);
            }
            G.b_done++;
            progressed = 1;
        }
        if (progressed) broadcast_fill(now);
        return;
    }
    uint64_t t0 = c->sent_at[c->rx_seq % (uint64_t)O.inflight];
    c->rx_seq++;
    if (G.measuring) {
        S.messages++;
        S.bytes += O.size;
        hist_add(now - t0);
    }
    if (G.sending) echo_send(c, now);
}

/* Is a message expected on c now? One that nobody sent is a server bug. */
static int message_expected(struct conn *c)
{
    if (O.mode == MODE_BROADCAST) return c->rx_seq < G.b_sent;
    return c->rx_seq < c->tx_seq;
}

static void protocol_error(struct conn *c, const char *why)
{
    if (S.protocol_errors < 5) fprintf(stderr, "loadgen: protocol error: %s\n", why);
    S.protocol_errors++;
    conn_kill(c);
}

/* Payload bytes of a data frame: compare in place, nothing is buffered. */
static void data_chunk(struct conn *c, const uint8_t *p, size_t n)
{
    if (c->state == C_GREETING) return;
    if (!c->rx_bad && !payload_matches(c->rx_seq, c->rx_pos, p, n)) c->rx_bad = 1;
    c->rx_pos += n;
}

/* Compressed payload bytes: inflate them and compare what comes out (a message that inflates
 * past --size fails the comparison). Returns -1 on corrupt data. */
static int inflate_chunk(struct conn *c, const uint8_t *p, size_t n)
{
    if (!c->rx_z) {
        c->rx_z = calloc(1, sizeof *c->rx_z);
        if (!c->rx_z) die("out of memory");
        if (inflateInit2(c->rx_z, -15) != Z_OK) die("inflateInit2 failed"); /* any window <= 15 */
    }
    z_stream *z = c->rx_z;
    zbuf_reserve(64 * 1024);
    z->next_in = (Bytef *)p;
    z->avail_in = (uInt)n;
    while (z->avail_in > 0) {
        z->next_out = zbuf;
        z->avail_out = (uInt)zcap;
        int rc = inflate(z, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_BUF_ERROR) return -1;
        size_t got = zcap - z->avail_out;
        if (got) data_chunk(c, zbuf, got);
        if (rc == Z_BUF_ERROR && got == 0) break;
    }
    return 0;
}

/* The end of a compressed message: inflate the tail the sender dropped (RFC 7692 7.2.2). */
static int inflate_end(struct conn *c)
{
    static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};
    if (inflate_chunk(c, tail, 4) < 0) return -1;
    if (c->pmd_server_reset) inflateReset(c->rx_z);
    return 0;
}

/* Returns -1 if the connection died. */
static int frame_done(struct conn *c, uint64_t now)
{
    c->in_frame = 0;
    switch (c->frame_op) {
    case 0x9: /* ping: answer with the same payload (RFC 6455 5.5.3) */
        queue_frame(c, 0xA, c->ctl, c->ctl_len);
        return 0;
    case 0xA:
        return 0;
    case 0x8: /* close: echo the status code back (best effort), then we are done with this one */
        queue_frame(c, 0x8, c->ctl, c->ctl_len >= 2 ? 2 : 0);
        (void)!send(c->fd, c->wbuf + c->whead, c->wlen - c->whead, MSG_NOSIGNAL);
        S.closed_by_server++;
        if (S.closed_by_server <= 5 && c->ctl_len >= 2)
            fprintf(stderr, "loadgen: server closed with code %u\n", c->ctl[0] << 8 | c->ctl[1]);
        conn_kill(c);
        return -1;
    default:
        if (c->frame_fin) {
            c->in_msg = 0;
            if (c->rx_compressed) {
                c->rx_compressed = 0;
                if (inflate_end(c) < 0) return protocol_error(c, "corrupt compressed message"), -1;
            }
            if (c->rx_pos != O.size && c->state != C_GREETING) c->rx_bad = 1;
            message_done(c, now);
        }
        return c->state == C_DEAD ? -1 : 0;
    }
}

static size_t header_size(const uint8_t *h)
{
    size_t n = 2, len7 = h[1] & 0x7f;
    if (len7 == 126) n += 2;
    if (len7 == 127) n += 8;
    if (h[1] & 0x80) n += 4;
    return n;
}

/* Parse a complete header; returns -1 (connection killed) on a protocol violation. */
static int frame_begin(struct conn *c, uint64_t now)
{
    const uint8_t *h = c->hdr;
    int fin = h[0] & 0x80, op = h[0] & 0x0f;
    uint64_t len = h[1] & 0x7f;
    if (h[0] & 0x30) return protocol_error(c, "RSV2 or RSV3 set without an extension"), -1;
    int rsv1 = (h[0] & 0x40) != 0;
    if (rsv1 && !c->pmd) return protocol_error(c, "RSV1 set without permessage-deflate"), -1;
    if (rsv1 && op != 0x1 && op != 0x2)
        return protocol_error(c, "RSV1 on a control or continuation frame (RFC 7692 6.1)"), -1;
    if (h[1] & 0x80) return protocol_error(c, "server frame is masked (RFC 6455 5.1)"), -1;
    if (len == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) len = len << 8 | h[2 + i];
        if (len >> 63) return protocol_error(c, "64-bit length with the top bit set"), -1;
    }
    if (op >= 0x8) {
        if (op > 0xA) return protocol_error(c, "reserved control opcode"), -1;
        if (!fin || len > 125) return protocol_error(c, "bad control frame"), -1;
        c->ctl_len = 0;
    } else if (op == 0x1 || op == 0x2) {
        if (c->in_msg) return protocol_error(c, "new message inside a fragmented one"), -1;
        if (c->state != C_GREETING && !message_expected(c)) {
            S.unsolicited++;
            return protocol_error(c, "message nobody asked for"), -1;
        }
        c->in_msg = 1;
        c->rx_compressed = (uint8_t)rsv1;
        c->rx_pos = 0;
        c->rx_bad = op != O.opcode; /* an echo must keep the opcode */
    } else if (op == 0x0) {
        if (!c->in_msg) return protocol_error(c, "continuation without a message"), -1;
    } else {
        return protocol_error(c, "reserved data opcode"), -1;
    }
    c->frame_op = (uint8_t)op;
    c->frame_fin = (uint8_t)(fin != 0);
    c->frame_left = len;
    c->in_frame = 1;
    if (len == 0) return frame_done(c, now);
    return 0;
}

static void ws_feed(struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
    while (n && (c->state == C_OPEN || c->state == C_GREETING)) {
        if (!c->in_frame) {
            size_t need = c->hdr_len < 2 ? 2 : header_size(c->hdr);
            size_t take = need - c->hdr_len < n ? need - c->hdr_len : n;
            memcpy(c->hdr + c->hdr_len, p, take);
            c->hdr_len = (uint8_t)(c->hdr_len + take);
            p += take;
            n -= take;
            if (c->hdr_len < need || c->hdr_len < header_size(c->hdr)) continue;
            c->hdr_len = 0;
            if (frame_begin(c, now) < 0) return;
            continue;
        }
        size_t take = c->frame_left < n ? (size_t)c->frame_left : n;
        if (c->frame_op >= 0x8) {
            memcpy(c->ctl + c->ctl_len, p, take);
            c->ctl_len = (uint8_t)(c->ctl_len + take);
        } else if (c->rx_compressed) {
            /* Greetings are inflated too: with context takeover later messages refer to them. */
            if (inflate_chunk(c, p, take) < 0) {
                protocol_error(c, "corrupt compressed message");
                return;
            }
        } else {
            data_chunk(c, p, take);
        }
        p += take;
        n -= take;
        c->frame_left -= take;
        if (c->frame_left == 0 && frame_done(c, now) < 0) return;
    }
}

/* Raw TCP: the echo is a byte stream; message boundaries come from counting. */
static void raw_feed(struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
    while (n && (c->state == C_OPEN || c->state == C_HANDSHAKE)) {
        if (c->rx_pos == 0 && !message_expected(c)) {
            S.unsolicited++;
            protocol_error(c, "bytes nobody sent");
            return;
        }
        size_t take = O.size - c->rx_pos < n ? (size_t)(O.size - c->rx_pos) : n;
        data_chunk(c, p, take);
        p += take;
        n -= take;
        if (c->rx_pos == O.size) message_done(c, now);
    }
}

/* ------------------------------------------------------------------ handshake */

static void conn_opened(struct conn *c)
{
    c->state = C_OPEN;
    G.pending--;
    G.open++;
    S.opened++;
    free(c->hs);
    c->hs = NULL;
}

static void handshake_send(struct conn *c)
{
    uint8_t raw_key[16];
    for (int i = 0; i < 2; i++) {
        uint64_t r = rng_next();
        memcpy(raw_key + 8 * i, &r, 8);
    }
    char key[25];
    base64(raw_key, 16, key);
    ws_accept_for(key, c->accept);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "%s\r\n",
                     O.path, host_header, key,
                     /* the offer browsers send (RFC 7692 section 7.1.2.2) */
                     O.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");
    wbuf_append(c, req, (size_t)n);
    c->state = C_HANDSHAKE;
    conn_flush(c);
}

static int header_has_token(const char *value, const char *token)
{
    /* Connection: keep-alive, Upgrade -> look for the token in a comma list */
    size_t tl = strlen(token);
    for (const char *p = value; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if ((size_t)(t - p) == tl && strncasecmp(p, token, tl) == 0) return 1;
        p = e;
    }
    return 0;
}

/* A window size parameter's value: 8..15 (RFC 7692 section 7.1.2). */
static int window_bits(const char *v)
{
    if (!v) return -1;
    if (*v == '"') v++; /* a quoted-string value is allowed too (section 7.1) */
    char *end;
    long bits = strtol(v, &end, 10);
    if (end == v || (*end && *end != '"') || bits < 8 || bits > 15) return -1;
    return (int)bits;
}

/* The server's permessage-deflate response to our offer (RFC 7692 section 7.1): records what
 * was agreed on c, or says what is wrong with it. */
static const char *pmd_accept(struct conn *c, char *value)
{
    char *save = NULL;
    char *name = strtok_r(value, ";", &save);
    while (name && (*name == ' ' || *name == '\t')) name++;
    if (!name || strncasecmp(name, "permessage-deflate", 18) != 0 ||
        (name[18] && name[18] != ' ' && name[18] != '\t'))
        return "server chose an extension other than permessage-deflate";
    c->pmd = 1;
    c->pmd_client_bits = 15;
    for (char *param; (param = strtok_r(NULL, ";", &save));) {
        while (*param == ' ' || *param == '\t') param++;
        char *end = param + strlen(param);
        while (end > param && (end[-1] == ' ' || end[-1] == '\t')) *--end = 0;
        char *eq = strchr(param, '=');
        char *v = NULL;
        if (eq) {
            *eq = 0;
            v = eq + 1;
            while (*v == ' ') v++;
            for (char *t = eq; t > param && (t[-1] == ' ' || t[-1] == '\t');) *--t = 0;
        }
        if (strcasecmp(param, "server_no_context_takeover") == 0 && !v) {
            c->pmd_server_reset = 1;
        } else if (strcasecmp(param, "client_no_context_takeover") == 0 && !v) {
            c->pmd_client_reset = 1;
        } else if (strcasecmp(param, "server_max_window_bits") == 0) {
            if (window_bits(v) < 0) return "bad server_max_window_bits";
        } else if (strcasecmp(param, "client_max_window_bits") == 0) {
            int bits = window_bits(v);
            if (bits < 0) return "bad client_max_window_bits";
            /* zlib's raw deflate cannot use a 256-byte window; no server here asks for it. */
            if (bits == 8) return "client_max_window_bits=8 is not supported by this generator";
            c->pmd_client_bits = (uint8_t)bits;
        } else {
            return "unknown permessage-deflate parameter";
        }
    }
    return NULL;
}

/* Validate the server's 101 (RFC 6455 4.2.2 / 4.1 client requirements). */
static const char *handshake_check(struct conn *c, char *head)
{
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) return "status is not 101";
    int got_accept = 0, got_upgrade = 0, got_connection = 0;
    char *save = NULL;
    strtok_r(head, "\r\n", &save); /* status line */
    for (char *line; (line = strtok_r(NULL, "\r\n", &save));) {
        char *colon = strchr(line, ':');
        if (!colon) return "malformed header line";
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        char *end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t')) *--end = 0;
        if (strcasecmp(line, "Sec-WebSocket-Accept") == 0) {
            if (strcmp(v, c->accept) != 0) return "Sec-WebSocket-Accept does not match the key";
            got_accept = 1;
        } else if (strcasecmp(line, "Upgrade") == 0) {
            got_upgrade = strcasecmp(v, "websocket") == 0;
        } else if (strcasecmp(line, "Connection") == 0) {
            got_connection = header_has_token(v, "upgrade");
        } else if (strcasecmp(line, "Sec-WebSocket-Extensions") == 0) {
            if (!O.deflate || c->pmd) return "server chose an extension that was not offered";
            const char *err = pmd_accept(c, v);
            if (err) return err;
        }
    }
    if (O.deflate && !c->pmd) return "server did not agree to permessage-deflate (--deflate requires it)";
    if (!got_accept) return "no Sec-WebSocket-Accept";
    if (!got_upgrade) return "no Upgrade: websocket";
    if (!got_connection) return "no Connection: Upgrade";
    return NULL;
}

#define HS_MAX 8192

static void handshake_feed(struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
    if (!c->hs) {
        c->hs = malloc(HS_MAX + 1);
        if (!c->hs) die("out of memory");
    }
    size_t old = c->hs_len;
    size_t take = n < HS_MAX - old ? n : HS_MAX - old;
    memcpy(c->hs + old, p, take);
    c->hs_len = (uint32_t)(old + take);
    c->hs[c->hs_len] = 0;
    char *end = strstr(c->hs + (old > 3 ? old - 3 : 0), "\r\n\r\n");
    if (!end) {
        if (c->hs_len == HS_MAX) {
            S.connect_errors++;
            protocol_error(c, "handshake response too long");
        }
        return;
    }
    size_t head_len = (size_t)(end - c->hs) + 4;
    end[2] = 0; /* keep the last header's CRLF out of the parse */
    const char *err = handshake_check(c, c->hs);
    if (err) {
        if (S.connect_errors < 5) fprintf(stderr, "loadgen: handshake failed: %s\n", err);
        S.connect_errors++;
        conn_kill(c);
        return;
    }
    if (O.greeting > 0) {
        c->state = C_GREETING;
        c->greet_left = O.greeting;
        free(c->hs);
        c->hs = NULL;
    } else {
        conn_opened(c);
    }
    /* Bytes after the head already belong to the WebSocket stream. */
    size_t consumed_from_p = head_len - old;
    if (consumed_from_p < n) ws_feed(c, p + consumed_from_p, n - consumed_from_p, now);
}

/* ------------------------------------------------------------------ connecting */

static void conn_start(struct conn *c)
{
    int fd = socket(server_addr->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket: %s (raise the file limit?)", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* latency, not Nagle */
    c->fd = fd;
    c->state = C_CONNECTING;
    c->want_out = 1;
    G.pending++;
    G.started++;
    struct epoll_event ev = {.events = EPOLL_FLAGS | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
    if (connect(fd, server_addr->ai_addr, server_addr->ai_addrlen) < 0 && errno != EINPROGRESS) {
        if (S.connect_errors < 5) fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
        S.connect_errors++;
        conn_kill(c);
    }
}

static void connect_more(void)
{
    while (G.started < O.connections && G.pending < O.concurrency) conn_start(&conns[G.started]);
}

static void on_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        if (S.connect_errors < 5) fprintf(stderr, "loadgen: connect: %s\n", strerror(err));
        S.connect_errors++;
        conn_kill(c);
        return;
    }
    if (O.raw) {
        /* TCP connect completes in the kernel before the server accepts, so a raw connection
         * counts as open only once one payload has come back: the server really holds it.
         * Without this, a fast connect loop overflows the accept queue into SYN retries. */
        c->state = C_HANDSHAKE;
        wbuf_append(c, base_payload, O.size);
        c->tx_seq = 1;
        conn_flush(c);
    } else {
        handshake_send(c);
    }
}

/* ------------------------------------------------------------------ event loop */

static void on_event(struct conn *c, uint32_t events, uint64_t now)
{
    if (c->state == C_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        on_connected(c);
        if (c->state == C_DEAD) return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        for (;;) {
            ssize_t r = read(c->fd, rbuf, sizeof rbuf);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (r <= 0) {
                if (c->state == C_HANDSHAKE || c->state == C_GREETING) S.connect_errors++;
                else S.closed_by_server++;
                conn_kill(c);
                return;
            }
            now = now_ns(); /* stamp arrivals as late as possible */
            if (O.raw)
                raw_feed(c, rbuf, (size_t)r, now);
            else if (c->state == C_HANDSHAKE)
                handshake_feed(c, rbuf, (size_t)r, now);
            else
                ws_feed(c, rbuf, (size_t)r, now);
            if (c->state == C_DEAD) return;
            /* A short read drained the socket; anything arriving later raises a new edge. */
            if ((size_t)r < sizeof rbuf) break;
        }
    }
    if (c->wlen > c->whead || (events & EPOLLOUT)) conn_flush(c);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)O.connections + 16 > rl.rlim_cur)
        die("%d connections need more file descriptors than the limit %llu", O.connections,
            (unsigned long long)rl.rlim_cur);
}

static void resolve(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int rc = getaddrinfo(O.host, O.port, &hints, &server_addr);
    if (rc != 0) die("cannot resolve %s: %s", O.host, gai_strerror(rc));
    snprintf(host_header, sizeof host_header, "%s:%s", O.host, O.port);
}

static double parse_number(const char *name, const char *v)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || d < 0) die("%s needs a non-negative number, got '%s'", name, v);
    return d;
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--raw") == 0) {
            O.raw = 1;
            continue;
        }
        if (strcmp(a, "--deflate") == 0) {
            O.deflate = 1;
            continue;
        }
        if (strcmp(a, "--selftest") == 0) exit(selftest());
        if (strcmp(a, "--help") == 0 || i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (strcmp(a, "--host") == 0) O.host = v;
        else if (strcmp(a, "--port") == 0) O.port = v;
        else if (strcmp(a, "--path") == 0) O.path = v;
        else if (strcmp(a, "--connections") == 0) O.connections = (int)parse_number(a, v);
        else if (strcmp(a, "--size") == 0) O.size = (size_t)parse_number(a, v);
        else if (strcmp(a, "--inflight") == 0) O.inflight = (int)parse_number(a, v);
        else if (strcmp(a, "--duration") == 0) O.duration = parse_number(a, v);
        else if (strcmp(a, "--warmup") == 0) O.warmup = parse_number(a, v);
        else if (strcmp(a, "--concurrency") == 0) O.concurrency = (int)parse_number(a, v);
        else if (strcmp(a, "--connect-timeout") == 0) O.connect_timeout = parse_number(a, v);
        else if (strcmp(a, "--stall-timeout") == 0) O.stall_timeout = parse_number(a, v);
        else if (strcmp(a, "--greeting") == 0) O.greeting = (int)parse_number(a, v);
        else if (strcmp(a, "--opcode") == 0) {
            if (strcmp(v, "text") == 0) O.opcode = 1;
            else if (strcmp(v, "binary") == 0) O.opcode = 2;
            else die("--opcode is text or binary");
        } else if (strcmp(a, "--mode") == 0) {
            if (strcmp(v, "echo") == 0) O.mode = MODE_ECHO;
            else if (strcmp(v, "idle") == 0) O.mode = MODE_IDLE;
            else if (strcmp(v, "broadcast") == 0) O.mode = MODE_BROADCAST;
            else die("--mode is echo, idle or broadcast");
        } else usage();
    }
    if (O.connections < 1 || O.inflight < 1 || O.concurrency < 1) die("counts must be >= 1");
    if (O.size < 1) die("--size must be >= 1");
    if (O.mode == MODE_BROADCAST && O.raw) die("--raw has no broadcast mode");
    if (O.greeting && O.raw) die("--greeting needs WebSocket framing");
    if (O.deflate && O.raw) die("--deflate needs WebSocket framing");
    if (O.mode == MODE_BROADCAST && O.size < SEQ_PREFIX)
        die("broadcast messages carry a %d-byte sequence number: --size >= %d", SEQ_PREFIX,
            SEQ_PREFIX);
}

static const char *mode_name(void)
{
    return O.mode == MODE_ECHO ? "echo" : O.mode == MODE_IDLE ? "idle" : "broadcast";
}

static void print_result(double connect_s, double window_s, double gen_cpu, int stalled)
{
    double secs = window_s > 0 ? window_s : 1;
    uint64_t errors = S.echo_errors + S.protocol_errors + S.connect_errors + S.closed_by_server +
                      (uint64_t)stalled;
    printf("{\"mode\":\"%s\",\"transport\":\"%s\",\"deflate\":%s,\"connections\":%d,\"opened\":%llu,"
           "\"size\":%zu,\"inflight\":%d,\"opcode\":\"%s\",\"connect_s\":%.3f,\"window_s\":%.3f,"
           "\"messages\":%llu,\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,",
           mode_name(), O.raw ? "raw" : "websocket", O.deflate ? "true" : "false", O.connections,
           (unsigned long long)S.opened, O.size, O.inflight, O.opcode == 1 ? "text" : "binary",
           connect_s, window_s, (unsigned long long)S.messages, (double)S.messages / secs,
           (double)S.bytes / secs / 1e6);
    if (O.mode == MODE_BROADCAST) {
        /* Receivers still missing the oldest outstanding message: a server that lost a
         * subscriber or a message shows here rather than as a silent stall. */
        int lagging = 0;
        for (int i = 0; i < O.connections; i++)
            if (conns[i].state == C_OPEN && G.b_done < G.b_sent && conns[i].rx_seq <= G.b_done) lagging++;
        printf("\"deliveries\":%llu,\"deliveries_per_s\":%.1f,\"sent\":%llu,\"lagging\":%d,",
               (unsigned long long)S.deliveries, (double)S.deliveries / secs,
               (unsigned long long)G.b_sent, lagging);
    }
    printf("\"gen_cpu\":%.3f,\"gen_cpu_total_s\":%.3f,", gen_cpu, cpu_seconds());
    printf("\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f,\"lat_max_us\":%.1f,"
           "\"echo_errors\":%llu,\"protocol_errors\":%llu,\"connect_errors\":%llu,"
           "\"closed_by_server\":%llu,\"unsolicited\":%llu,\"stalled\":%s,\"errors\":%llu}\n",
           hist_percentile(0.50) / 1e3, hist_percentile(0.99) / 1e3, (double)hist_max / 1e3,
           (unsigned long long)S.echo_errors, (unsigned long long)S.protocol_errors,
           (unsigned long long)S.connect_errors, (unsigned long long)S.closed_by_server,
           (unsigned long long)S.unsolicited, stalled ? "true" : "false",
           (unsigned long long)errors);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    rng_seed();
    raise_fd_limit();
    resolve();
    make_base_payload();
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    conns = calloc((size_t)O.connections, sizeof *conns);
    if (!conns) die("out of memory");
    for (int i = 0; i < O.connections; i++) {
        conns[i].fd = -1;
        if (O.mode == MODE_ECHO) {
            conns[i].sent_at = calloc((size_t)O.inflight, sizeof(uint64_t));
            if (!conns[i].sent_at) die("out of memory");
        }
    }
    if (O.mode == MODE_BROADCAST) {
        G.b_delivered = calloc((size_t)O.inflight, sizeof *G.b_delivered);
        G.b_sent_at = calloc((size_t)O.inflight, sizeof *G.b_sent_at);
        G.b_msg = malloc(O.size);
        if (!G.b_delivered || !G.b_sent_at || !G.b_msg) die("out of memory");
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1: %s", strerror(errno));

    enum { P_CONNECT, P_SETTLE, P_WARMUP, P_MEASURE, P_HOLD, P_DONE } phase = P_CONNECT;
    const uint64_t t_start = now_ns();
    uint64_t t_phase = t_start, t_measure = 0, t_end = 0;
    double cpu_measure = 0, cpu_end = 0;
    double connect_s = 0;
    int stalled = 0;
    struct epoll_event evs[1024];

    connect_more();
    while (phase != P_DONE) {
        int n = epoll_wait(epfd, evs, 1024, 10);
        if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
        uint64_t now = now_ns();
        for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events, now);
        now = now_ns();
        if (stop_requested) {
            if (phase == P_MEASURE) t_end = now;
            break;
        }
        switch (phase) {
        case P_CONNECT:
            connect_more();
            if (G.started == O.connections && G.pending == 0) {
                connect_s = (double)(now - t_start) / 1e9;
            } else if ((double)(now - t_start) / 1e9 > O.connect_timeout) {
                /* Give up on the stragglers; they count as connect errors. */
                for (int i = 0; i < O.connections; i++) {
                    if (conns[i].state == C_CONNECTING || conns[i].state == C_HANDSHAKE) {
                        S.connect_errors++;
                        conn_kill(&conns[i]);
                    }
                }
                S.connect_errors += (uint64_t)(O.connections - G.started);
                G.started = O.connections;
                connect_s = (double)(now - t_start) / 1e9;
            } else {
                break;
            }
            if (G.open == 0) {
                phase = P_DONE;
                break;
            }
            t_phase = now;
            if (O.mode == MODE_IDLE) {
                printf("{\"event\":\"ready\",\"opened\":%llu,\"connect_s\":%.3f}\n",
                       (unsigned long long)S.opened, connect_s);
                fflush(stdout);
                phase = P_HOLD;
            } else if (O.mode == MODE_BROADCAST) {
                /* Let servers finish subscribing the last connections before publishing. */
                phase = P_SETTLE;
            } else {
                G.sending = 1;
                G.last_progress = now;
                for (int i = 0; i < O.connections; i++) {
                    struct conn *c = &conns[i];
                    if (c->state != C_OPEN) continue;
                    for (int k = 0; k < O.inflight; k++) echo_send(c, now);
                    conn_flush(c);
                }
                phase = P_WARMUP;
            }
            break;
        case P_SETTLE:
            if (now - t_phase >= 300000000u) {
                G.sending = 1;
                G.last_progress = now;
                broadcast_fill(now);
                t_phase = now;
                phase = P_WARMUP;
            }
            break;
        case P_WARMUP:
            if ((double)(now - t_phase) / 1e9 >= O.warmup) {
                G.measuring = 1;
                t_measure = now;
                cpu_measure = cpu_seconds();
                phase = P_MEASURE;
                /* The harness samples the server's CPU time between these two lines. */
                printf("{\"event\":\"measuring\"}\n");
                fflush(stdout);
            }
            break;
        case P_MEASURE:
            if ((double)(now - t_measure) / 1e9 >= O.duration) {
                t_end = now;
                phase = P_DONE;
                printf("{\"event\":\"measured\"}\n");
                fflush(stdout);
            }
            break;
        case P_HOLD:
            if (O.duration > 0 && (double)(now - t_phase) / 1e9 >= O.duration) phase = P_DONE;
            break;
        case P_DONE:
            break;
        }
        if ((phase == P_WARMUP || phase == P_MEASURE) &&
            (double)(now - G.last_progress) / 1e9 > O.stall_timeout) {
            fprintf(stderr, "loadgen: no message completed for %.0f s, giving up\n",
                    O.stall_timeout);
            stalled = 1;
            if (phase == P_MEASURE) t_end = now;
            phase = P_DONE;
        }
        if (G.open == 0 && phase != P_CONNECT && phase != P_DONE) {
            fprintf(stderr, "loadgen: every connection is gone\n");
            if (phase == P_MEASURE) t_end = now;
            phase = P_DONE;
        }
    }
    double window_s = t_measure && t_end ? (double)(t_end - t_measure) / 1e9 : 0;
    if (t_measure) cpu_end = cpu_seconds();
    double gen_cpu = window_s > 0 ? (cpu_end - cpu_measure) / window_s : 0;
    print_result(connect_s, window_s, gen_cpu, stalled);
    return 0;
}
