/*
 * linkRecords(): the link of chainlog's shipped-record index
 * (packages/core/src/shipped-index.ts, RecordIndex.link()) over the index's
 * own storage, with the same results bit for bit: the same successors, the
 * same forks in the same order, the same DUP, SHADOWED and LINKED flags and
 * the same copy counters.
 *
 * The index keeps, per record, 8 words of key (the first 128 bits of its
 * `prev`, then of its hash) and one word of state (flags in bits 0-7, the
 * algorithm in 8-15, copies beyond the first in 16-31, saturating), in chunks
 * of 65,536 records. Records are taken a partition at a time (by the top bits
 * of the first key word), the keys of a group of partitions first copied out
 * in partition order by one pass over the index, so that each partition's
 * table stays in the cache and reads its keys in sequence. The copies take an
 * eighth of the records at a time, as the JavaScript does, so that memory
 * stays bounded.
 *
 * What depends on the partitioning is only the order the forks are found in:
 * all copies of one record share their hash key, all children of one record
 * their prev key, and each key's records are taken in index order whatever
 * the partitions. The forks are put back in the order the JavaScript finds
 * them (by the top bits of the child's prev under its partitioning, then by
 * the child), so this code is free to use smaller partitions.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Records per storage chunk, and key words per record: shipped-index.ts's CHUNK_BITS and WORDS. */
#define CHUNK_BITS 16
#define CHUNK (1u << CHUNK_BITS)
#define CHUNK_MASK (CHUNK - 1)
#define WORDS 8
/* Records per partition in shipped-index.ts (PARTITION): the forks come in the order its partitions find them. */
#define ORDER_PARTITION 8192
/*
 * Records per partition here: a table of at most 16,384 slots of 24 bytes, in the L2 cache. 2,048, 4,096
 * and 16,384, and 4 groups instead of 8, measured no faster on 5 million records.
 */
#define PART_RECORDS 8192
/* Passes over the index that copy out the keys: each holds an eighth of the records (5 bytes per record in all). */
#define GROUPS 8

/* Flag bits of a record's word (shipped-index.ts's Flag). */
#define F_BAD 2u
#define F_DUP 4u
#define F_LINKED 8u
#define F_SHADOWED 64u

#define EMPTY UINT32_MAX

/* One record's key (hash or prev) copied out, with the record's number. */
typedef struct {
  uint32_t k[4];
  uint32_t i;
} entry;

/* A slot of a partition's table: a hash key, the record that holds it, and that record's first child. */
typedef struct {
  uint32_t k[4];
  uint32_t i;
  uint32_t child;
} slot_t;

/* A growing list of (a, b) pairs of 32-bit numbers. */
typedef struct {
  uint32_t *v;
  size_t len;
  size_t cap;
} pairs;

/* A fork found, with the key that orders it: [parent, child]. */
typedef struct {
  uint32_t order;
  uint32_t parent;
  uint32_t child;
} fork_at;

typedef struct {
  fork_at *v;
  size_t len;
  size_t cap;
} forks;

/* The index's storage. */
typedef struct {
  const uint32_t **keys;
  uint32_t **words;
  uint32_t n;
} store;

static inline const uint32_t *key_at(const store *s, uint32_t i) {
  return s->keys[i >> CHUNK_BITS] + (size_t)(i & CHUNK_MASK) * WORDS;
}

static inline uint32_t *word_at(const store *s, uint32_t i) {
  return s->words[i >> CHUNK_BITS] + (i & CHUNK_MASK);
}

/* The fewest top bits that split n records into partitions of at most `per`. */
static unsigned bits_for(uint32_t n, uint32_t per) {
  unsigned bits = 0;
  while (bits < 31 && (n >> bits) > per) bits++;
  return bits;
}

static inline uint32_t part_of(uint32_t w, unsigned bits) {
  return bits == 0 ? 0 : w >> (32 - bits);
}

static int pairs_push(pairs *p, uint32_t a, uint32_t b) {
  if (p->len + 2 > p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    uint32_t *v = (uint32_t *)realloc(p->v, cap * sizeof *v);
    if (v == NULL) return 0;
    p->v = v;
    p->cap = cap;
  }
  p->v[p->len++] = a;
  p->v[p->len++] = b;
  return 1;
}

static int forks_push(forks *f, uint32_t order, uint32_t parent, uint32_t child) {
  if (f->len == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 64;
    fork_at *v = (fork_at *)realloc(f->v, cap * sizeof *v);
    if (v == NULL) return 0;
    f->v = v;
    f->cap = cap;
  }
  f->v[f->len].order = order;
  f->v[f->len].parent = parent;
  f->v[f->len].child = child;
  f->len++;
  return 1;
}

static int fork_cmp(const void *a, const void *b) {
  const fork_at *x = (const fork_at *)a, *y = (const fork_at *)b;
  if (x->order != y->order) return x->order < y->order ? -1 : 1;
  return x->child < y->child ? -1 : x->child > y->child;
}

/*
 * One more copy of record j beyond the 65,535 its word counts: added to its
 * pair in `many` from `from` on (the pairs of the partition at hand, which
 * holds all of j's copies).
 */
static int many_add(pairs *many, size_t from, uint32_t j) {
  for (size_t q = from; q < many->len; q += 2) {
    if (many->v[q] == j) {
      many->v[q + 1]++;
      return 1;
    }
  }
  return pairs_push(many, j, 1);
}

/*
 * Links the records of `s`: succ (n entries) gets each record's first child
 * or -1, `out` the forks as [parent, child] pairs, `many` [record, copies
 * beyond 65,535] pairs; the words get their DUP, SHADOWED and LINKED flags
 * and copy counts. Returns 0 when memory ran out.
 */
static int link_index(const store *s, int32_t *succ, pairs *out, pairs *many) {
  const uint32_t n = s->n;
  const unsigned bits = bits_for(n, PART_RECORDS);
  const unsigned order_bits = bits_for(n, ORDER_PARTITION);
  const uint32_t parts = 1u << bits;
  const uint32_t chunks = (n + CHUNK - 1) >> CHUNK_BITS;
  int ok = 0;
  uint32_t *hash_starts = (uint32_t *)calloc((size_t)parts + 1, sizeof(uint32_t));
  uint32_t *prev_starts = (uint32_t *)calloc((size_t)parts + 1, sizeof(uint32_t));
  uint32_t *hash_fill = (uint32_t *)malloc((size_t)parts * sizeof(uint32_t));
  uint32_t *prev_fill = (uint32_t *)malloc((size_t)parts * sizeof(uint32_t));
  uint32_t *linked = (uint32_t *)calloc(((size_t)n >> 5) + 1, sizeof(uint32_t));
  entry *hash_copy = NULL, *prev_copy = NULL;
  slot_t *table = NULL;
  forks found = {NULL, 0, 0};
  for (uint32_t i = 0; i < n; i++) succ[i] = -1;
  if (hash_starts == NULL || prev_starts == NULL || hash_fill == NULL || prev_fill == NULL || linked == NULL) goto done;

  /* Records per partition of their hash and of their prev. */
  for (uint32_t c = 0; c < chunks; c++) {
    const uint32_t *k = s->keys[c];
    const uint32_t m = c + 1 < chunks ? CHUNK : n - c * CHUNK;
    for (uint32_t r = 0; r < m; r++, k += WORDS) {
      hash_starts[part_of(k[4], bits) + 1]++;
      prev_starts[part_of(k[0], bits) + 1]++;
    }
  }
  uint32_t most = 0;
  for (uint32_t p = 0; p < parts; p++) {
    if (hash_starts[p + 1] > most) most = hash_starts[p + 1];
    if (prev_starts[p + 1] > most) most = prev_starts[p + 1];
    hash_starts[p + 1] += hash_starts[p];
    prev_starts[p + 1] += prev_starts[p];
  }
  const uint32_t cap = most > (n + GROUPS - 1) / GROUPS ? most : (n + GROUPS - 1) / GROUPS;
  size_t slots = 16;
  while (slots < (size_t)most + (most >> 1)) slots *= 2;
  hash_copy = (entry *)malloc((size_t)(cap ? cap : 1) * sizeof(entry));
  prev_copy = (entry *)malloc((size_t)(cap ? cap : 1) * sizeof(entry));
  table = (slot_t *)malloc(slots * sizeof(slot_t));
  if (hash_copy == NULL || prev_copy == NULL || table == NULL) goto done;

  for (uint32_t from = 0; from < parts;) {
    uint32_t to = from + 1;
    while (to < parts && hash_starts[to + 1] - hash_starts[from] <= cap && prev_starts[to + 1] - prev_starts[from] <= cap) to++;
    const uint32_t span = to - from;
    const uint32_t hash_base = hash_starts[from], prev_base = prev_starts[from];
    for (uint32_t p = 0; p < span; p++) {
      hash_fill[p] = hash_starts[from + p] - hash_base;
      prev_fill[p] = prev_starts[from + p] - prev_base;
    }
    /* One pass in index order: each record's hash key and prev key, with its number, to its partition's place. */
    for (uint32_t c = 0; c < chunks; c++) {
      const uint32_t *k = s->keys[c];
      const uint32_t m = c + 1 < chunks ? CHUNK : n - c * CHUNK;
      for (uint32_t r = 0; r < m; r++, k += WORDS) {
        const uint32_t hp = part_of(k[4], bits) - from;
        const uint32_t pp = part_of(k[0], bits) - from;
        if (hp < span) {
          entry *e = &hash_copy[hash_fill[hp]++];
          memcpy(e->k, k + 4, 16);
          e->i = (c << CHUNK_BITS) | r;
        }
        if (pp < span) {
          entry *e = &prev_copy[prev_fill[pp]++];
          memcpy(e->k, k, 16);
          e->i = (c << CHUNK_BITS) | r;
        }
      }
    }
    for (uint32_t p = from; p < to; p++) {
      const uint32_t count = hash_starts[p + 1] - hash_starts[p];
      size_t size = 16;
      while (size < (size_t)count + (count >> 1)) size *= 2;
      const uint32_t mask = (uint32_t)size - 1;
      for (size_t t = 0; t < size; t++) table[t].i = EMPTY;
      const size_t many_from = many->len;
      const entry *e = hash_copy + (hash_starts[p] - hash_base);
      const entry *end = hash_copy + (hash_starts[p + 1] - hash_base);
      for (; e < end; e++) {
        const uint32_t i = e->i;
        for (uint32_t t = e->k[0] & mask;; t = (t + 1) & mask) {
          slot_t *slot = &table[t];
          if (slot->i == EMPTY) {
            memcpy(slot->k, e->k, 16);
            slot->i = i;
            slot->child = EMPTY;
            break;
          }
          if (slot->k[0] != e->k[0] || slot->k[1] != e->k[1] || slot->k[2] != e->k[2] || slot->k[3] != e->k[3]) continue;
          /* A copy that fails its hash beside one that verifies is an altered copy: it stays out of the
             links (its BAD flag still reports it), and the one that verifies takes its place. */
          uint32_t *w = word_at(s, i);
          if (*w & F_BAD) {
            *w |= F_SHADOWED;
            break;
          }
          const uint32_t j = slot->i;
          uint32_t *d = word_at(s, j);
          if (*d & F_BAD) {
            *d |= F_SHADOWED;
            slot->i = i;
            break;
          }
          *w |= F_DUP;
          if ((*d >> 16) < 0xffff) *d += 0x10000;
          else if (!many_add(many, many_from, j)) goto done;
          break;
        }
      }
      e = prev_copy + (prev_starts[p] - prev_base);
      end = prev_copy + (prev_starts[p + 1] - prev_base);
      for (; e < end; e++) {
        /* Duplicates are not skipped here (a later partition may be the one to find them a duplicate):
           the children that turn out copies are dropped below. */
        const uint32_t i = e->i;
        slot_t *parent = NULL;
        for (uint32_t t = e->k[0] & mask;; t = (t + 1) & mask) {
          slot_t *slot = &table[t];
          if (slot->i == EMPTY) break;
          if (slot->k[0] == e->k[0] && slot->k[1] == e->k[1] && slot->k[2] == e->k[2] && slot->k[3] == e->k[3]) {
            parent = slot;
            break;
          }
        }
        if (parent == NULL || parent->i == i) continue;
        linked[i >> 5] |= 1u << (i & 31);
        /* All children of a record are in its hash's partition: its slot keeps the first. */
        if (parent->child == EMPTY) parent->child = i;
        else if (!forks_push(&found, part_of(e->k[0], order_bits), parent->i, i)) goto done;
      }
      /* succ in one go: writes only, none waiting on a read from all over it. */
      for (size_t t = 0; t < size; t++)
        if (table[t].i != EMPTY && table[t].child != EMPTY) succ[table[t].i] = (int32_t)table[t].child;
    }
    from = to;
  }
  for (uint32_t c = 0; c < chunks; c++) {
    uint32_t *w = s->words[c];
    const uint32_t m = c + 1 < chunks ? CHUNK : n - c * CHUNK;
    const uint32_t *bits32 = linked + ((size_t)c << (CHUNK_BITS - 5));
    for (uint32_t r = 0; r < m; r++)
      if (bits32[r >> 5] & (1u << (r & 31))) w[r] |= F_LINKED;
  }
  /* A record linked before its hash's partition showed it a duplicate (or an altered copy) is no
     child: the copy that stays takes its place, and only two distinct children make a fork. */
  qsort(found.v, found.len, sizeof(fork_at), fork_cmp);
  for (size_t q = 0; q < found.len; q++) {
    const uint32_t parent = found.v[q].parent, child = found.v[q].child;
    if (*word_at(s, child) & (F_DUP | F_SHADOWED)) continue;
    if (*word_at(s, (uint32_t)succ[parent]) & (F_DUP | F_SHADOWED)) succ[parent] = (int32_t)child;
    else if (!pairs_push(out, parent, child)) goto done;
  }
  ok = 1;
done:
  free(hash_starts);
  free(prev_starts);
  free(hash_fill);
  free(prev_fill);
  free(linked);
  free(hash_copy);
  free(prev_copy);
  free(table);
  free(found.v);
  return ok;
}

/* The typed arrays of `list` (a JS array), `want` of them, each of `type` with at least `per` elements per record it holds. */
static int chunks_of(napi_env env, napi_value list, napi_typedarray_type type, uint32_t n, uint32_t per, void **out) {
  bool is_array = false;
  uint32_t len = 0;
  const uint32_t want = (n + CHUNK - 1) >> CHUNK_BITS;
  if (napi_is_array(env, list, &is_array) != napi_ok || !is_array || napi_get_array_length(env, list, &len) != napi_ok || len < want) {
    napi_throw_type_error(env, "CHAINLOG_NATIVE", "linkRecords: expected an array of chunks covering every record");
    return 0;
  }
  for (uint32_t c = 0; c < want; c++) {
    napi_value v, ab;
    napi_typedarray_type t;
    size_t length, offset;
    void *p;
    const uint32_t records = c + 1 < want ? CHUNK : n - c * CHUNK;
    if (napi_get_element(env, list, c, &v) != napi_ok || napi_get_typedarray_info(env, v, &t, &length, &p, &ab, &offset) != napi_ok || t != type ||
        length < (size_t)records * per) {
      napi_throw_type_error(env, "CHAINLOG_NATIVE", "linkRecords: a chunk is not a Uint32Array of 65,536 records");
      return 0;
    }
    out[c] = p;
  }
  return 1;
}

/* A new Uint32Array (as `type`) holding the `len` numbers of v. */
static napi_value typed_copy(napi_env env, napi_typedarray_type type, const uint32_t *v, size_t len) {
  napi_value ab, arr;
  void *data;
  if (napi_create_arraybuffer(env, len * sizeof(uint32_t), &data, &ab) != napi_ok) return NULL;
  if (len) memcpy(data, v, len * sizeof(uint32_t));
  if (napi_create_typedarray(env, type, len, ab, 0, &arr) != napi_ok) return NULL;
  return arr;
}

/*
 * linkRecords(keyChunks, wordChunks, count, succ) -> { forks, many }
 *
 * RecordIndex.link() over the index's storage: keyChunks (Uint32Array, 8
 * words per record: 4 of prev, 4 of hash) and wordChunks (Uint32Array, one
 * word per record), 65,536 records per chunk, `count` records. Fills succ
 * (an Int32Array of at least `count`) with each record's first child or -1,
 * sets the words' DUP, SHADOWED and LINKED flags and copy counts, and returns
 * the forks as an Int32Array of [parent, child] pairs and the copies beyond
 * the 65,535 a word counts as a Uint32Array of [record, copies] pairs.
 */
napi_value link_records(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  uint32_t n;
  napi_typedarray_type t;
  size_t succ_len, offset;
  void *succ;
  napi_value ab, result, forks_v, many_v;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, "CHAINLOG_NATIVE", "linkRecords takes 4 arguments");
    return NULL;
  }
  if (napi_get_value_uint32(env, argv[2], &n) != napi_ok || n > INT32_MAX) {
    napi_throw_range_error(env, "CHAINLOG_NATIVE", "linkRecords: expected a record count below 2^31");
    return NULL;
  }
  if (napi_get_typedarray_info(env, argv[3], &t, &succ_len, &succ, &ab, &offset) != napi_ok || t != napi_int32_array || succ_len < n) {
    napi_throw_type_error(env, "CHAINLOG_NATIVE", "linkRecords: expected an Int32Array succ of one entry per record");
    return NULL;
  }
  const uint32_t chunks = (n + CHUNK - 1) >> CHUNK_BITS;
  store s = {NULL, NULL, n};
  pairs out = {NULL, 0, 0}, many = {NULL, 0, 0};
  int ok = 0;
  s.keys = (const uint32_t **)calloc(chunks ? chunks : 1, sizeof *s.keys);
  s.words = (uint32_t **)calloc(chunks ? chunks : 1, sizeof *s.words);
  if (s.keys == NULL || s.words == NULL) napi_throw_error(env, "CHAINLOG_NATIVE", "out of memory");
  else if (chunks_of(env, argv[0], napi_uint32_array, n, WORDS, (void **)s.keys) && chunks_of(env, argv[1], napi_uint32_array, n, 1, (void **)s.words)) {
    if (!link_index(&s, (int32_t *)succ, &out, &many)) napi_throw_error(env, "CHAINLOG_NATIVE", "out of memory");
    else ok = 1;
  }
  result = NULL;
  if (ok) {
    forks_v = typed_copy(env, napi_int32_array, out.v, out.len);
    many_v = typed_copy(env, napi_uint32_array, many.v, many.len);
    if (forks_v == NULL || many_v == NULL || napi_create_object(env, &result) != napi_ok || napi_set_named_property(env, result, "forks", forks_v) != napi_ok ||
        napi_set_named_property(env, result, "many", many_v) != napi_ok) {
      napi_throw_error(env, "CHAINLOG_NATIVE", "linkRecords: could not make its result");
      result = NULL;
    }
  }
  free(s.keys);
  free(s.words);
  free(out.v);
  free(many.v);
  return result;
}
