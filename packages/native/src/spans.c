/*
 * followSpans(): following the links of chainlog's shipped records span by
 * span (packages/core/src/shipped-walk.ts), with the same results as its
 * JavaScript.
 *
 * Records come in any order, so each step along a link is a load from
 * anywhere in the links: a cache miss the next step waits for. A span starts
 * at each record whose number is a multiple of 64 and ends before the next
 * such record, or at the run's end. Sixteen spans are followed side by side,
 * one step of each in turn, so that sixteen misses are in flight at once;
 * a tight loop keeps more of them in flight than the JavaScript can.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>

/* shipped-walk.ts's SPAN_BITS, WALKERS and VISIT. */
#define SPAN_BITS 6
#define SPAN_MASK ((1u << SPAN_BITS) - 1)
#define WALKERS 16
#define VISIT (1 << 30)
/* The end of a run, for a record that needs a visit (-1 for one that does not). */
#define END_VISIT (-2)

/* chainlog_native.c: a typed array of `type`, or a thrown TypeError and 0. */
int chainlog_typed_array(napi_env env, napi_value v, napi_typedarray_type type, void **data, size_t *len, const char *what);

static int i32_of(napi_env env, napi_value v, int32_t **data, size_t *len) {
  return chainlog_typed_array(env, v, napi_int32_array, (void **)data, len, "Int32Array");
}

/*
 * followSpans(succ, starts, length, last, to, visits) -> number of visits
 *
 * succ: per record, the record after it (or -1), with VISIT set on a record
 * that needs a visit (-2 for such a record at a run's end). starts: the
 * records spans start at, multiples of 64, in increasing order. For the span
 * of start s (index s >> 6): length, last record, and the link after its last
 * record (its next span's start, or -1) go to length, last and to. Each
 * visit, in each span's order, goes to visits as (span, record, distance from
 * the span's start): at most as many as records with VISIT set.
 */
napi_value follow_spans(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  int32_t *succ, *starts, *length, *last, *to, *visits;
  size_t n, count, spans, l1, l2, room;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) {
    napi_throw_type_error(env, "CHAINLOG_NATIVE", "followSpans takes 6 arguments");
    return NULL;
  }
  if (!i32_of(env, argv[0], &succ, &n) || !i32_of(env, argv[1], &starts, &count) || !i32_of(env, argv[2], &length, &spans) ||
      !i32_of(env, argv[3], &last, &l1) || !i32_of(env, argv[4], &to, &l2) || !i32_of(env, argv[5], &visits, &room))
    return NULL;
  if (l1 < spans || l2 < spans || n > VISIT) {
    napi_throw_range_error(env, "CHAINLOG_NATIVE", "followSpans: the span arrays differ in length, or too many records");
    return NULL;
  }
  for (size_t c = 0; c < count; c++) {
    if (starts[c] < 0 || (size_t)starts[c] >= n || ((uint32_t)starts[c] & SPAN_MASK) != 0 || ((size_t)starts[c] >> SPAN_BITS) >= spans) {
      napi_throw_range_error(env, "CHAINLOG_NATIVE", "followSpans: a span start is not a record number that is a multiple of 64");
      return NULL;
    }
  }
  int32_t at[WALKERS], steps[WALKERS], span[WALKERS];
  size_t next_start = 0, active = 0, seen = 0;
  for (int w = 0; w < WALKERS; w++) {
    span[w] = -1;
    if (next_start < count) {
      at[w] = starts[next_start++];
      span[w] = at[w] >> SPAN_BITS;
      steps[w] = 0;
      active++;
    }
  }
  while (active > 0) {
    for (int w = 0; w < WALKERS; w++) {
      int32_t s = span[w];
      if (s < 0) continue;
      int32_t j = at[w], k = steps[w];
      int32_t link = succ[j];
      int visit = link < 0 ? link == END_VISIT : (link & VISIT) != 0;
      if (visit) {
        if (3 * seen + 3 > room) {
          napi_throw_range_error(env, "CHAINLOG_NATIVE", "followSpans: more visits than room for them");
          return NULL;
        }
        visits[3 * seen] = s;
        visits[3 * seen + 1] = j;
        visits[3 * seen + 2] = k;
        seen++;
      }
      int32_t next = link < 0 ? -1 : (link & ~VISIT);
      if (next >= 0 && (size_t)next >= n) {
        napi_throw_range_error(env, "CHAINLOG_NATIVE", "followSpans: a link past the records");
        return NULL;
      }
      /* A span ends before the next span's start (a ring of starts ends there too), or at the run's end. */
      if (next < 0 || ((uint32_t)next & SPAN_MASK) == 0 || (size_t)k >= n) {
        length[s] = k + 1;
        last[s] = j;
        to[s] = next;
        if (next_start < count) {
          at[w] = starts[next_start++];
          span[w] = at[w] >> SPAN_BITS;
          steps[w] = 0;
        } else {
          span[w] = -1;
          active--;
        }
      } else {
        at[w] = next;
        steps[w] = k + 1;
      }
    }
  }
  if (napi_create_double(env, (double)seen, &result) != napi_ok) return NULL;
  return result;
}
