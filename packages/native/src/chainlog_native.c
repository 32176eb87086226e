/*
 * @chainlog/native: chainlog's two hot loops (FORMAT.md section 2) in C, so
 * that a whole batch of records costs one call from JavaScript instead of one
 * crypto.hash() per record (#17).
 *
 * The hashing is OpenSSL's SHA-256, from the OpenSSL that Node itself carries
 * and exports to addons: there is no second crypto library and nothing
 * vendored. The low-level SHA256_* interface is used on purpose: it has no
 * per-call set-up (no EVP fetch, no context allocation), which is the very
 * cost this package exists to remove, and it runs the same SHA-NI/AVX code.
 *
 * Plain N-API (Node-API version 8), so one build serves every Node version
 * the project supports. Every function is context-aware and keeps no global
 * state, so worker threads load it too.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_HEX 64
#define PIPE 0x7c
#define LF 0x0a
/* prev + '|' + '|' + hash + LF */
#define RECORD_OVERHEAD (HASH_HEX + 1 + 1 + HASH_HEX + 1)

enum alg { ALG_SHA256 = 1, ALG_HMAC_SHA256 = 2 };

/* A hasher: the algorithm and, for HMAC, the key's two padded states (RFC 2104 section 2). */
typedef struct {
  int alg;
  SHA256_CTX inner;
  SHA256_CTX outer;
} hasher;

static const char HEX[] = "0123456789abcdef";

static void to_hex(const unsigned char *digest, unsigned char *out) {
  for (int i = 0; i < 32; i++) {
    out[2 * i] = (unsigned char)HEX[digest[i] >> 4];
    out[2 * i + 1] = (unsigned char)HEX[digest[i] & 15];
  }
}

/* The 32-byte hash of data[0, len): SHA-256, or HMAC-SHA-256 from the key's padded states. */
static void digest_of(const hasher *h, const unsigned char *data, size_t len, unsigned char *digest) {
  SHA256_CTX ctx;
  if (h->alg == ALG_SHA256) SHA256_Init(&ctx);
  else ctx = h->inner;
  SHA256_Update(&ctx, data, len);
  SHA256_Final(digest, &ctx);
  if (h->alg != ALG_SHA256) {
    ctx = h->outer;
    SHA256_Update(&ctx, digest, 32);
    SHA256_Final(digest, &ctx);
  }
}

/* Hashes data[0, len) to 64 lowercase hex characters at out. */
static void hash_hex(const hasher *h, const unsigned char *data, size_t len, unsigned char *out) {
  unsigned char digest[32];
  digest_of(h, data, len, digest);
  to_hex(digest, out);
}

/* ---- argument helpers ---- */

#define CHECK(env, call)                                  \
  do {                                                    \
    if ((call) != napi_ok) {                              \
      napi_throw_error((env), "CHAINLOG_NATIVE", #call);  \
      return NULL;                                        \
    }                                                     \
  } while (0)

/*
 * A typed array of `type`: its data and element count. Otherwise a TypeError
 * ("expected a <what>") is thrown and 0 returned. Also used by spans.c.
 */
int chainlog_typed_array(napi_env env, napi_value v, napi_typedarray_type type, void **data, size_t *len, const char *what) {
  napi_typedarray_type got;
  napi_value ab;
  size_t offset;
  char message[64];
  if (napi_get_typedarray_info(env, v, &got, len, data, &ab, &offset) != napi_ok || got != type) {
    snprintf(message, sizeof message, "expected a %s", what);
    napi_throw_type_error(env, "CHAINLOG_NATIVE", message);
    return 0;
  }
  return 1;
}

static int bytes_of(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  return chainlog_typed_array(env, v, napi_uint8_array, (void **)data, len, "Uint8Array");
}

static int f64_of(napi_env env, napi_value v, double **data, size_t min) {
  size_t length;
  if (!chainlog_typed_array(env, v, napi_float64_array, (void **)data, &length, "Float64Array state")) return 0;
  if (length >= min) return 1;
  napi_throw_type_error(env, "CHAINLOG_NATIVE", "expected a Float64Array state");
  return 0;
}

static int size_of(napi_env env, napi_value v, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0)) {
    napi_throw_range_error(env, "CHAINLOG_NATIVE", "expected a non-negative offset");
    return 0;
  }
  *out = d > 9007199254740991.0 ? (size_t)-1 : (size_t)d;
  return 1;
}

/* A 64-character hex string (latin1) into out; returns 0 if it is not 64 characters long. */
static int hash_arg(napi_env env, napi_value v, unsigned char *out, int *ok) {
  char tmp[HASH_HEX + 2];
  size_t got = 0;
  napi_valuetype t;
  *ok = 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    napi_throw_type_error(env, "CHAINLOG_NATIVE", "expected a string hash");
    return 0;
  }
  if (napi_get_value_string_latin1(env, v, tmp, sizeof tmp, &got) != napi_ok) return 0;
  if (got == HASH_HEX) {
    memcpy(out, tmp, HASH_HEX);
    *ok = 1;
  }
  return 1;
}

static hasher *hasher_of(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "CHAINLOG_NATIVE", "expected a hasher from createHasher()");
    return NULL;
  }
  return (hasher *)p;
}

static void hasher_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  OPENSSL_cleanse(data, sizeof(hasher));
  free(data);
}

/* Reads a call's `n` arguments into argv; with fewer, throws "<name> takes <n> arguments" and returns 0. */
static int args_of(napi_env env, napi_callback_info info, napi_value *argv, size_t n, const char *name) {
  size_t argc = n;
  char message[64];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "CHAINLOG_NATIVE", "napi_get_cb_info failed");
    return 0;
  }
  if (argc >= n) return 1;
  snprintf(message, sizeof message, "%s takes %zu arguments", name, n);
  napi_throw_type_error(env, "CHAINLOG_NATIVE", message);
  return 0;
}

/* createHasher(alg: 1 | 2, key?: Uint8Array) -> External */
static napi_value create_hasher(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t alg = 0;
  napi_value result;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &alg) != napi_ok || (alg != ALG_SHA256 && alg != ALG_HMAC_SHA256)) {
    napi_throw_range_error(env, "CHAINLOG_NATIVE", "unknown algorithm");
    return NULL;
  }
  hasher *h = (hasher *)calloc(1, sizeof(hasher));
  if (h == NULL) {
    napi_throw_error(env, "CHAINLOG_NATIVE", "out of memory");
    return NULL;
  }
  h->alg = alg;
  if (alg == ALG_HMAC_SHA256) {
    unsigned char *key;
    size_t key_len;
    unsigned char block[64];
    unsigned char pad[64];
    if (argc < 2 || !bytes_of(env, argv[1], &key, &key_len)) {
      free(h);
      return NULL;
    }
    memset(block, 0, sizeof block);
    /* RFC 2104 section 2: a key longer than the block is hashed first. */
    if (key_len > 64) SHA256(key, key_len, block);
    else memcpy(block, key, key_len);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&h->inner);
    SHA256_Update(&h->inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&h->outer);
    SHA256_Update(&h->outer, pad, 64);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
  }
  if (napi_create_external(env, h, hasher_free, NULL, &result) != napi_ok) {
    free(h);
    napi_throw_error(env, "CHAINLOG_NATIVE", "napi_create_external");
    return NULL;
  }
  return result;
}

/* hashHex(hasher, data: Uint8Array) -> string: one record's hash, for tests. */
static napi_value hash_hex_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned char *data;
  size_t len;
  unsigned char hex[HASH_HEX];
  napi_value result;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hasher *h = argc >= 2 ? hasher_of(env, argv[0]) : NULL;
  if (h == NULL || !bytes_of(env, argv[1], &data, &len)) return NULL;
  hash_hex(h, data, len, hex);
  CHECK(env, napi_create_string_latin1(env, (const char *)hex, HASH_HEX, &result));
  return result;
}

/*
 * encodeLines(hasher, src, pos, srcEnd, out, off, bound, limit, prev, state) -> records
 *
 * The writer's block loop: src[pos, srcEnd) are LF-terminated lines stored
 * verbatim. Each becomes the record prev|line|hash\n at out[off], chained
 * after `prev` (64 hex characters). Stops before a record that would end past
 * `bound`, once `off` reaches `limit`, or at srcEnd. state[0] = the next
 * line's position in src, state[1] = the end of the records in out.
 */
static napi_value encode_lines(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  unsigned char *src, *out;
  size_t src_len, out_len, pos, src_end, off, bound, limit;
  unsigned char prev[HASH_HEX];
  double *state;
  int ok;
  napi_value result;
  if (!args_of(env, info, argv, 10, "encodeLines")) return NULL;
  hasher *h = hasher_of(env, argv[0]);
  if (h == NULL || !bytes_of(env, argv[1], &src, &src_len) || !size_of(env, argv[2], &pos) || !size_of(env, argv[3], &src_end) ||
      !bytes_of(env, argv[4], &out, &out_len) || !size_of(env, argv[5], &off) || !size_of(env, argv[6], &bound) ||
      !size_of(env, argv[7], &limit) || !hash_arg(env, argv[8], prev, &ok) || !f64_of(env, argv[9], &state, 2))
    return NULL;
  if (!ok) {
    napi_throw_range_error(env, "CHAINLOG_NATIVE", "prev must be 64 hex characters");
    return NULL;
  }
  if (src_end > src_len) src_end = src_len;
  if (bound > out_len) bound = out_len;
  uint32_t records = 0;
  const unsigned char *last = prev;
  while (pos < src_end && off < limit) {
    const unsigned char *nl = memchr(src + pos, LF, src_end - pos);
    if (nl == NULL) break;
    size_t n = (size_t)(nl - (src + pos));
    if (off > bound || n + RECORD_OVERHEAD > bound - off) break;
    unsigned char *r = out + off;
    memcpy(r, last, HASH_HEX);
    r[HASH_HEX] = PIPE;
    memcpy(r + HASH_HEX + 1, src + pos, n);
    unsigned char *hash = r + HASH_HEX + 1 + n + 1;
    hash[-1] = PIPE;
    hash_hex(h, r, HASH_HEX + 1 + n, hash);
    hash[HASH_HEX] = LF;
    last = hash;
    off += n + RECORD_OVERHEAD;
    pos += n + 1;
    records++;
  }
  state[0] = (double)pos;
  state[1] = (double)off;
  CHECK(env, napi_create_uint32(env, records, &result));
  return result;
}

/*
 * chainRecords(hasher, out, start, ends, count, prev) -> records
 *
 * Fills in place the `count` records laid out at out[start, ...): record i
 * ends (after its LF) at ends[i], and is <64 bytes>|line|<64 bytes>\n with
 * its first and last 64 bytes still to be written. The first is chained
 * after `prev`, each next one after the one before. The ends are given
 * rather than found, since the bytes to be written may hold anything.
 */
static napi_value chain_records(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  unsigned char *out;
  size_t out_len, start;
  uint32_t count;
  double *ends;
  unsigned char prev[HASH_HEX];
  int ok;
  napi_value result;
  if (!args_of(env, info, argv, 6, "chainRecords")) return NULL;
  hasher *h = hasher_of(env, argv[0]);
  if (h == NULL || !bytes_of(env, argv[1], &out, &out_len) || !size_of(env, argv[2], &start)) return NULL;
  if (napi_get_value_uint32(env, argv[4], &count) != napi_ok) {
    napi_throw_type_error(env, "CHAINLOG_NATIVE", "chainRecords: expected a count");
    return NULL;
  }
  if (!f64_of(env, argv[3], &ends, count) || !hash_arg(env, argv[5], prev, &ok)) return NULL;
  if (!ok) {
    napi_throw_range_error(env, "CHAINLOG_NATIVE", "prev must be 64 hex characters");
    return NULL;
  }
  const unsigned char *last = prev;
  size_t pos = start;
  for (uint32_t i = 0; i < count; i++) {
    double e = ends[i];
    if (!(e >= (double)pos + RECORD_OVERHEAD) || e > (double)out_len) {
      napi_throw_range_error(env, "CHAINLOG_NATIVE", "chainRecords: a record end is out of bounds");
      return NULL;
    }
    size_t end = (size_t)e;
    unsigned char *r = out + pos;
    unsigned char *hash = out + end - 1 - HASH_HEX;
    memcpy(r, last, HASH_HEX);
    hash_hex(h, r, (size_t)(hash - 1 - r), hash);
    last = hash;
    pos = end;
  }
  CHECK(env, napi_create_uint32(env, count, &result));
  return result;
}

/*
 * Eight lowercase hex digits of the four bytes at p, in memory order, as
 * the eight bytes of a little-endian word: the nibbles are spread one per
 * byte, and 39 more is added to those of 10 and over ('a' - '0' - 10), with
 * no carry from one byte into the next. For scanRecords, which compares a
 * record's hash field with its digest eight digits at a time.
 */
static inline uint64_t hex8(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  uint64_t y = v;
  y = (y | (y << 16)) & 0x0000FFFF0000FFFFull;
  y = (y | (y << 8)) & 0x00FF00FF00FF00FFull;
  uint64_t z = ((y >> 4) & 0x000F000F000F000Full) | ((y & 0x000F000F000F000Full) << 8);
  uint64_t letters = ((z + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
  return z + 0x3030303030303030ull + letters * 0x27;
}

/* Whether the 64 characters at `found` are the lowercase hex of the hash of data[0, len); the hash goes to `digest`. */
static int hash_matches_into(const hasher *h, const unsigned char *data, size_t len, const unsigned char *found, unsigned char *digest) {
  digest_of(h, data, len, digest);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t diff = 0;
  for (int i = 0; i < 8; i++) {
    uint64_t want;
    memcpy(&want, found + 8 * i, 8);
    diff |= hex8(digest + 4 * i) ^ want;
  }
  return diff == 0;
#else
  unsigned char computed[HASH_HEX];
  to_hex(digest, computed);
  return memcmp(computed, found, HASH_HEX) == 0;
#endif
}

static int hash_matches(const hasher *h, const unsigned char *data, size_t len, const unsigned char *found) {
  unsigned char digest[32];
  return hash_matches_into(h, data, len, found, digest);
}

/*
 * scanRecords(hasher, buf, start, limit, expected, watch, state)
 *
 * The verifier's run: from `start`, accepts consecutive complete lines of
 * buf (ending before `limit`) that are record-shaped, hold a verbatim user
 * line (not starting with a backslash), link to the line before (the first
 * to `expected`) and match their hash. Stops at the first line that is
 * anything else, without judging it. state[0] = end (after the last LF
 * accepted), [1] = count, [2..5] = first line's stored [start, end), last
 * line's stored [start, end), [6] = index of the first accepted line whose
 * hash is `watch` (or -1).
 */
static napi_value scan_records(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  unsigned char *buf;
  size_t buf_len, start, limit;
  unsigned char expected[HASH_HEX], watch[HASH_HEX];
  int expected_ok, watch_ok = 0;
  double *state;
  napi_valuetype wt;
  if (!args_of(env, info, argv, 7, "scanRecords")) return NULL;
  hasher *h = hasher_of(env, argv[0]);
  if (h == NULL || !bytes_of(env, argv[1], &buf, &buf_len) || !size_of(env, argv[2], &start) || !size_of(env, argv[3], &limit) ||
      !hash_arg(env, argv[4], expected, &expected_ok) || !f64_of(env, argv[6], &state, 7))
    return NULL;
  CHECK(env, napi_typeof(env, argv[5], &wt));
  if (wt != napi_null && !hash_arg(env, argv[5], watch, &watch_ok)) return NULL;
  if (limit > buf_len) limit = buf_len;
  size_t pos = start, count = 0;
  double first_start = 0, first_end = 0, last_start = 0, last_end = 0, watch_at = -1;
  const unsigned char *link = expected_ok ? expected : NULL;
  while (link != NULL && pos < limit) {
    const unsigned char *nl = memchr(buf + pos, LF, limit - pos);
    if (nl == NULL) break;
    size_t len = (size_t)(nl - (buf + pos));
    const unsigned char *r = buf + pos;
    if (len < RECORD_OVERHEAD - 1 || r[HASH_HEX] != PIPE || r[len - HASH_HEX - 1] != PIPE) break;
    if (r[HASH_HEX + 1] == '\\') break;
    if (memcmp(r, link, HASH_HEX) != 0) break;
    const unsigned char *found = r + len - HASH_HEX;
    if (!hash_matches(h, r, len - HASH_HEX - 1, found)) break;
    if (watch_ok && watch_at < 0 && memcmp(found, watch, HASH_HEX) == 0) watch_at = (double)count;
    if (count == 0) {
      first_start = (double)(pos + HASH_HEX + 1);
      first_end = (double)(pos + len - HASH_HEX - 1);
    }
    last_start = (double)(pos + HASH_HEX + 1);
    last_end = (double)(pos + len - HASH_HEX - 1);
    link = found;
    count++;
    pos += len + 1;
  }
  state[0] = (double)pos;
  state[1] = (double)count;
  state[2] = first_start;
  state[3] = first_end;
  state[4] = last_start;
  state[5] = last_end;
  state[6] = watch_at;
  return NULL;
}

/* ---- shipped records (verify-log --shipped, #15) ---- */

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Per byte of x (each under 0x80), its high bit set when the byte is n or more. */
static inline uint64_t bytes_at_least(uint64_t x, unsigned n) { return (x + (0x80 - n) * ONES) & HIGHS; }

/* Whether the 8 bytes of x (in memory order) are all lowercase hex digits: eight at a time, with no branch per character. */
static inline int lower_hex8(uint64_t x) {
  uint64_t digits = bytes_at_least(x, '0') & ~bytes_at_least(x, '9' + 1);
  uint64_t letters = bytes_at_least(x, 'a') & ~bytes_at_least(x, 'f' + 1);
  return (x & HIGHS) == 0 && (digits | letters) == HIGHS;
}

/*
 * The 32-bit number of the 8 lowercase hex digits at p, the first one most
 * significant; -1 if one is not. A digit's value is its low nibble, plus 9
 * for a letter (bit 6 set: 'a' is 0x61).
 */
static inline int64_t hex_word(const unsigned char *p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t x;
  memcpy(&x, p, 8);
  if (!lower_hex8(x)) return -1;
  uint64_t v = (x & 0x0f0f0f0f0f0f0f0full) + ((x >> 6) & ONES) * 9;
  /* Pairs of nibbles into bytes, the first of each pair high: byte 2j of v is digit 2j. */
  uint64_t y = ((v << 4) & 0x00f000f000f000f0ull) | ((v >> 8) & 0x000f000f000f000full);
  return (int64_t)(((y & 0xff) << 24) | (((y >> 16) & 0xff) << 16) | (((y >> 32) & 0xff) << 8) | ((y >> 48) & 0xff));
#else
  uint32_t w = 0;
  for (int i = 0; i < 8; i++) {
    unsigned char c = p[i];
    int v = (unsigned)(c - '0') < 10 ? c - '0' : (unsigned)(c - 'a') < 6 ? c - 'a' + 10 : -1;
    if (v < 0) return -1;
    w = (w << 4) | (uint32_t)v;
  }
  return (int64_t)w;
#endif
}

/* Whether the n bytes at p (a multiple of 8) are all lowercase hex digits. */
static int all_lower_hex(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i += 8)
    if (hex_word(p + i) < 0) return 0;
  return 1;
}

static inline uint32_t be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int u32_of(napi_env env, napi_value v, uint32_t **data, size_t *len) {
  return chainlog_typed_array(env, v, napi_uint32_array, (void **)data, len, "Uint32Array");
}

/* Words of keys per record: 4 of prev, 4 of hash. */
#define KEY_WORDS 8
/* The flag bit of a record whose prev is the GENESIS value (64 zeros): Flag.GENESIS of shipped-index.ts. */
#define GENESIS_FLAG 1u

/* One run of admitRecords: where it reads, where it writes, and (after) where it stopped. */
typedef struct {
  const hasher *h;
  const unsigned char *buf;
  size_t pos, limit, max;
  /* Per record from index 0: 8 key words, its word, and either its ordinal or its start relative to the run's. */
  uint32_t *keys, *words, *ords, *starts;
  uint32_t ordinal, word;
  size_t start, count;
} admit_run;

/* Takes the run's records (see admitRecords below). No N-API call: it also runs off the JS thread. */
static void admit(admit_run *a) {
  size_t pos = a->pos, count = 0;
  const unsigned char *buf = a->buf;
  while (count < a->max && pos < a->limit) {
    const unsigned char *nl = memchr(buf + pos, LF, a->limit - pos);
    if (nl == NULL) break;
    size_t len = (size_t)(nl - (buf + pos));
    const unsigned char *r = buf + pos;
    if (len < RECORD_OVERHEAD - 1 || r[HASH_HEX] != PIPE || r[len - HASH_HEX - 1] != PIPE || r[HASH_HEX + 1] == '\\') break;
    const unsigned char *found = r + len - HASH_HEX;
    uint32_t *k = a->keys + count * KEY_WORDS;
    int bad = 0;
    for (int w = 0; w < 4; w++) {
      int64_t p = hex_word(r + 8 * w);
      bad |= p < 0;
      k[w] = (uint32_t)p;
    }
    if (bad || !all_lower_hex(r + 32, 32)) break;
    /* A hash field equal to the digest's lowercase hex: its keys are the digest's first 16 bytes. */
    unsigned char digest[32];
    if (!hash_matches_into(a->h, r, len - HASH_HEX - 1, found, digest)) break;
    for (int w = 0; w < 4; w++) k[4 + w] = be32(digest + 4 * w);
    int genesis = (k[0] | k[1] | k[2] | k[3]) == 0;
    for (int i = 32; genesis && i < HASH_HEX; i++) genesis = r[i] == '0';
    if (a->ords) a->ords[count] = a->ordinal + (uint32_t)count;
    if (a->starts) a->starts[count] = (uint32_t)(pos - a->start);
    a->words[count] = a->word | (genesis ? GENESIS_FLAG : 0);
    count++;
    pos += len + 1;
  }
  a->pos = pos;
  a->count = count;
}

/* The records `a` may write from `slot` of arrays of these lengths (each array given with its room); 0 and a thrown error if the slot is past one. */
static int admit_room(napi_env env, admit_run *a, size_t slot, size_t keys_len, size_t words_len, size_t other_len) {
  if (slot > words_len || slot > other_len || slot > keys_len / KEY_WORDS) {
    napi_throw_range_error(env, "CHAINLOG_NATIVE", "admitRecords: the slot is past the index's arrays");
    return 0;
  }
  size_t room = words_len - slot;
  if (other_len - slot < room) room = other_len - slot;
  if (keys_len / KEY_WORDS - slot < room) room = keys_len / KEY_WORDS - slot;
  if (a->max > room) a->max = room;
  return 1;
}

/*
 * admitRecords(hasher, buf, start, limit, max, keys, ords, words, slot, ordinal, word, state)
 *
 * The reading pass of shipped verification, where records come in any
 * order: from `start`, takes up to `max` consecutive complete lines of buf
 * (ending before `limit`) that are each a verbatim user record (record-
 * shaped, its line not starting with a backslash, both fields lowercase hex)
 * whose hash field is the hash of its prev|line. Each is checked alone: no
 * link is judged. Record k's keys (the first 128 bits of its prev, then of
 * its hash, as 4 words each, the first hex digit most significant) go to
 * keys[(slot + k) * 8], `ordinal + k` to ords[slot + k], and `word` (with
 * GENESIS_FLAG when its prev is 64 zeros) to words[slot + k]. Stops at the
 * first line that is anything else, without judging it. state[0] = end
 * (after the last LF taken), state[1] = records taken.
 */
static napi_value admit_records(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  unsigned char *buf;
  size_t buf_len, slot, keys_len, ords_len, words_len;
  uint32_t *keys, *ords, *words;
  double *state;
  admit_run a = {0};
  if (!args_of(env, info, argv, 12, "admitRecords")) return NULL;
  a.h = hasher_of(env, argv[0]);
  if (a.h == NULL || !bytes_of(env, argv[1], &buf, &buf_len) || !size_of(env, argv[2], &a.pos) || !size_of(env, argv[3], &a.limit) ||
      !size_of(env, argv[4], &a.max) || !u32_of(env, argv[5], &keys, &keys_len) || !u32_of(env, argv[6], &ords, &ords_len) ||
      !u32_of(env, argv[7], &words, &words_len) || !size_of(env, argv[8], &slot) || !f64_of(env, argv[11], &state, 2))
    return NULL;
  if (napi_get_value_uint32(env, argv[9], &a.ordinal) != napi_ok || napi_get_value_uint32(env, argv[10], &a.word) != napi_ok) {
    napi_throw_type_error(env, "CHAINLOG_NATIVE", "admitRecords: expected a 32-bit ordinal and word");
    return NULL;
  }
  if (!admit_room(env, &a, slot, keys_len, words_len, ords_len)) return NULL;
  a.buf = buf;
  a.start = a.pos;
  if (a.limit > buf_len) a.limit = buf_len;
  a.keys = keys + slot * KEY_WORDS;
  a.ords = ords + slot;
  a.words = words + slot;
  admit(&a);
  state[0] = (double)a.pos;
  state[1] = (double)a.count;
  return NULL;
}

/* An admitRecordsAsync call: its run, and what keeps its arguments alive until it is done. */
typedef struct {
  admit_run run;
  napi_async_work work;
  napi_deferred deferred;
  /* The hasher, buf, keys, words, starts. */
  napi_ref refs[5];
} admit_job;

static void admit_execute(napi_env env, void *data) {
  (void)env;
  admit(&((admit_job *)data)->run);
}

static void admit_complete(napi_env env, napi_status status, void *data) {
  admit_job *job = (admit_job *)data;
  napi_value result, end, count;
  for (int i = 0; i < 5; i++) napi_delete_reference(env, job->refs[i]);
  if (status == napi_ok && napi_create_array_with_length(env, 2, &result) == napi_ok && napi_create_double(env, (double)job->run.pos, &end) == napi_ok &&
      napi_create_double(env, (double)job->run.count, &count) == napi_ok && napi_set_element(env, result, 0, end) == napi_ok &&
      napi_set_element(env, result, 1, count) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, "admitRecordsAsync: the run was cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

/*
 * admitRecordsAsync(hasher, buf, start, limit, max, keys, words, starts, word) -> Promise<[end, count]>
 *
 * admitRecords on a thread of the libuv pool, so that two parts of a buffer
 * are checked at once: record k's keys go to keys[k * 8], its word to
 * words[k], and its start, relative to `start`, to starts[k] (the caller
 * gives ordinals once it knows how many lines came before). The arrays and
 * buf must not be touched until the promise settles.
 */
static napi_value admit_records_async(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  unsigned char *buf;
  size_t buf_len, keys_len, words_len, starts_len;
  uint32_t *keys, *words, *starts;
  napi_value promise, name;
  admit_run a = {0};
  if (!args_of(env, info, argv, 9, "admitRecordsAsync")) return NULL;
  a.h = hasher_of(env, argv[0]);
  if (a.h == NULL || !bytes_of(env, argv[1], &buf, &buf_len) || !size_of(env, argv[2], &a.pos) || !size_of(env, argv[3], &a.limit) ||
      !size_of(env, argv[4], &a.max) || !u32_of(env, argv[5], &keys, &keys_len) || !u32_of(env, argv[6], &words, &words_len) ||
      !u32_of(env, argv[7], &starts, &starts_len))
    return NULL;
  if (napi_get_value_uint32(env, argv[8], &a.word) != napi_ok) {
    napi_throw_type_error(env, "CHAINLOG_NATIVE", "admitRecordsAsync: expected a 32-bit word");
    return NULL;
  }
  if (!admit_room(env, &a, 0, keys_len, words_len, starts_len)) return NULL;
  a.buf = buf;
  a.start = a.pos;
  if (a.limit > buf_len) a.limit = buf_len;
  a.keys = keys;
  a.words = words;
  a.starts = starts;
  admit_job *job = (admit_job *)calloc(1, sizeof(admit_job));
  if (job == NULL) {
    napi_throw_error(env, "CHAINLOG_NATIVE", "out of memory");
    return NULL;
  }
  job->run = a;
  const int kept[5] = {0, 1, 5, 6, 7};
  for (int i = 0; i < 5; i++) {
    if (napi_create_reference(env, argv[kept[i]], 1, &job->refs[i]) != napi_ok) {
      for (int j = 0; j < i; j++) napi_delete_reference(env, job->refs[j]);
      free(job);
      napi_throw_error(env, "CHAINLOG_NATIVE", "napi_create_reference");
      return NULL;
    }
  }
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok || napi_create_string_utf8(env, "chainlog:admitRecords", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, admit_execute, admit_complete, job, &job->work) != napi_ok || napi_queue_async_work(env, job->work) != napi_ok) {
    for (int i = 0; i < 5; i++) napi_delete_reference(env, job->refs[i]);
    free(job);
    napi_throw_error(env, "CHAINLOG_NATIVE", "admitRecordsAsync: the run could not be queued");
    return NULL;
  }
  return promise;
}

/* ---- the RFC 6962 tree (FORMAT.md section 14) ---- */

#define TREE_HASH 32

/*
 * Each hex digit's value plus one, either case (as Node's Buffer hex decoding
 * takes them); 0, the entries left out, for anything else. A table, not a
 * test per character: which characters of a hash are letters is random, and a
 * branch on it was mispredicted often enough to cost as much as the leaf's
 * hash (0.44 against 0.22 us a record, bench/RESULTS.md).
 */
#define H(c, v) [c] = (v) + 1
static const unsigned char HEX_VALUE_1[256] = {
  H('0', 0), H('1', 1), H('2', 2), H('3', 3), H('4', 4), H('5', 5), H('6', 6), H('7', 7), H('8', 8), H('9', 9),
  H('a', 10), H('b', 11), H('c', 12), H('d', 13), H('e', 14), H('f', 15),
  H('A', 10), H('B', 11), H('C', 12), H('D', 13), H('E', 14), H('F', 15),
};
#undef H

/* 64 hex characters at hex into the leaf input 0x00 || 32 bytes; returns 0 if one is not a hex digit. */
static int leaf_input(const unsigned char *hex, unsigned char *in) {
  in[0] = 0x00;
  int bad = 0;
  for (int i = 0; i < TREE_HASH; i++) {
    int hi = HEX_VALUE_1[hex[2 * i]] - 1, lo = HEX_VALUE_1[hex[2 * i + 1]] - 1;
    bad |= hi | lo;
    in[1 + i] = (unsigned char)(((unsigned)hi << 4) | ((unsigned)lo & 0x0f));
  }
  return bad >= 0;
}

/*
 * SHA-256 of data[0, len) into out. Not OpenSSL's one-shot SHA256(), which
 * in OpenSSL 3 fetches an EVP digest on every call: that set-up costs more
 * than hashing these 33- and 65-byte inputs.
 */
static void sha256(const unsigned char *data, size_t len, unsigned char *out) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, len);
  SHA256_Final(out, &ctx);
}

/* SHA-256(0x01 || left || right) into out (which may be left or right). */
static void node_hash(const unsigned char *left, const unsigned char *right, unsigned char *out) {
  unsigned char in[1 + 2 * TREE_HASH];
  in[0] = 0x01;
  memcpy(in + 1, left, TREE_HASH);
  memcpy(in + 1 + TREE_HASH, right, TREE_HASH);
  sha256(in, sizeof in, out);
}

static int popcount64(uint64_t n) {
  int bits = 0;
  for (; n != 0; n &= n - 1) bits++;
  return bits;
}

/*
 * extendTree(buf, start, end, range, state)
 *
 * Extends a compact range (the roots of the complete subtrees that make up
 * the tree, largest first, 32 bytes each in `range`, as many as the size has
 * 1 bits; the size in state[0]) over the records of buf[start, end): for each
 * complete line, its hash field (the last 64 hex characters before its LF) is
 * the leaf data, its leaf hash SHA-256(0x00 || 32 bytes), and it is merged
 * SHA-256(0x01 || left || right) once per trailing 1 bit of the size before
 * it (RFC 6962 section 2.1). A partial last line is left for later. Stops at
 * the first line that is shorter than 64 characters or whose last 64 are not
 * all hex digits, with every record before it taken in. state[0] = the new
 * size, [1] = the offset after the last record taken in, [2] = the start of
 * the malformed line it stopped at (or -1).
 */
static napi_value extend_tree(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  unsigned char *buf, *range;
  size_t buf_len, range_len, start, end;
  double *state;
  if (!args_of(env, info, argv, 5, "extendTree")) return NULL;
  if (!bytes_of(env, argv[0], &buf, &buf_len) || !size_of(env, argv[1], &start) || !size_of(env, argv[2], &end) ||
      !bytes_of(env, argv[3], &range, &range_len) || !f64_of(env, argv[4], &state, 3))
    return NULL;
  double d = state[0];
  if (!(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d) {
    napi_throw_range_error(env, "CHAINLOG_NATIVE", "extendTree: the tree size must be a whole number from 0 to 2^53 - 1");
    return NULL;
  }
  uint64_t size = (uint64_t)d;
  size_t top = (size_t)popcount64(size);
  size_t capacity = range_len / TREE_HASH;
  if (top > capacity) {
    napi_throw_range_error(env, "CHAINLOG_NATIVE", "extendTree: the range holds fewer hashes than the size has 1 bits");
    return NULL;
  }
  if (end > buf_len) end = buf_len;
  size_t pos = start;
  double malformed = -1;
  unsigned char in[1 + TREE_HASH];
  unsigned char h[TREE_HASH];
  while (pos < end) {
    const unsigned char *nl = memchr(buf + pos, LF, end - pos);
    if (nl == NULL) break;
    size_t len = (size_t)(nl - (buf + pos));
    if (len < HASH_HEX || !leaf_input(nl - HASH_HEX, in)) {
      malformed = (double)pos;
      break;
    }
    sha256(in, sizeof in, h);
    /* One merge per trailing 1 bit of the size: the new leaf completes those subtrees. */
    for (uint64_t n = size; n & 1; n >>= 1) node_hash(range + (--top) * TREE_HASH, h, h);
    if (top >= capacity) {
      napi_throw_range_error(env, "CHAINLOG_NATIVE", "extendTree: the range is full");
      return NULL;
    }
    memcpy(range + top * TREE_HASH, h, TREE_HASH);
    top++;
    size++;
    pos += len + 1;
  }
  state[0] = (double)size;
  state[1] = (double)pos;
  state[2] = malformed;
  return NULL;
}

static napi_value openssl_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(env, napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &result));
  return result;
}

/* src/link.c: linkRecords(), the link of the shipped-record index. */
napi_value link_records(napi_env env, napi_callback_info info);
/* src/spans.c: followSpans(), the walk of shipped records' links span by span. */
napi_value follow_spans(napi_env env, napi_callback_info info);

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"createHasher", NULL, create_hasher, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hashHex", NULL, hash_hex_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"encodeLines", NULL, encode_lines, NULL, NULL, NULL, napi_enumerable, NULL},
    {"chainRecords", NULL, chain_records, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scanRecords", NULL, scan_records, NULL, NULL, NULL, napi_enumerable, NULL},
    {"admitRecords", NULL, admit_records, NULL, NULL, NULL, napi_enumerable, NULL},
    {"admitRecordsAsync", NULL, admit_records_async, NULL, NULL, NULL, napi_enumerable, NULL},
    {"opensslVersion", NULL, openssl_version, NULL, NULL, NULL, napi_enumerable, NULL},
    {"extendTree", NULL, extend_tree, NULL, NULL, NULL, napi_enumerable, NULL},
    {"linkRecords", NULL, link_records, NULL, NULL, NULL, napi_enumerable, NULL},
    {"followSpans", NULL, follow_spans, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
