/*
 * The per-key ordering gate: two records for one Aerospike key are never in
 * flight together, and the later one applies last.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ak_test_util.h"
#include "inbound/ak_key_order.h"

/* A digest for key id; with `collide`, every id shares the bytes the gate
 * hashes, so all keys fight for one home slot and probing and deletion are
 * exercised hard. */
static void akt_digest(uint8_t out[AK_DIGEST_SIZE], uint32_t id, bool collide)
{
    memset(out, 0, AK_DIGEST_SIZE);
    memcpy(out, &id, sizeof id);
    if (!collide) {
        uint64_t h = (uint64_t)id * 0x2545F4914F6CDD1Dull + 1;
        memcpy(out + 8, &h, sizeof h);
    }
    memcpy(out + 16, &id, sizeof id);
}

static ak_key_order_t *akt_order(size_t capacity)
{
    ak_error_t err;
    akt_error_reset(&err);
    ak_key_order_t *order = ak_key_order_new(capacity, &err);
    if (!order)
        fail_msg("ak_key_order_new(%zu): %s", capacity, err.message);
    return order;
}

static void test_same_key_records_wait_and_come_back_in_arrival_order(void **state)
{
    (void)state;
    ak_key_order_t *order = akt_order(16);
    uint8_t key[AK_DIGEST_SIZE];
    akt_digest(key, 7, false);
    int records[4] = {0, 1, 2, 3};

    assert_int_equal(ak_key_order_try_acquire(order, key, &records[0]), AK_KEY_ORDER_ACQUIRED);
    assert_true(ak_key_order_busy(order, key));
    assert_int_equal(ak_key_order_try_acquire(order, key, &records[1]), AK_KEY_ORDER_QUEUED);
    assert_int_equal(ak_key_order_try_acquire(order, key, &records[2]), AK_KEY_ORDER_QUEUED);
    assert_int_equal(ak_key_order_try_acquire(order, key, &records[3]), AK_KEY_ORDER_QUEUED);
    assert_int_equal(ak_key_order_busy_keys(order), 1);
    assert_int_equal(ak_key_order_queued(order), 3);

    /* Each completion hands back exactly the next record; the key stays busy
     * until the last one completes. */
    for (int i = 1; i < 4; i++) {
        void *next = NULL;
        assert_true(ak_key_order_release(order, key, &next));
        assert_ptr_equal(next, &records[i]);
        assert_true(ak_key_order_busy(order, key));
    }
    void *next = NULL;
    assert_false(ak_key_order_release(order, key, &next));
    assert_null(next);
    assert_false(ak_key_order_busy(order, key));
    assert_int_equal(ak_key_order_busy_keys(order), 0);
    assert_int_equal(ak_key_order_queued(order), 0);
    /* Free again: the next record for the key goes straight out. */
    assert_int_equal(ak_key_order_try_acquire(order, key, &records[0]), AK_KEY_ORDER_ACQUIRED);
    ak_key_order_free(order);
}

static void test_interleaved_keys_only_wait_for_their_own_key(void **state)
{
    (void)state;
    ak_key_order_t *order = akt_order(16);
    uint8_t a[AK_DIGEST_SIZE], b[AK_DIGEST_SIZE], c[AK_DIGEST_SIZE];
    akt_digest(a, 1, false);
    akt_digest(b, 2, false);
    akt_digest(c, 3, false);
    const char *a1 = "a1", *b1 = "b1", *a2 = "a2", *c1 = "c1", *b2 = "b2", *a3 = "a3";

    assert_int_equal(ak_key_order_try_acquire(order, a, (void *)a1), AK_KEY_ORDER_ACQUIRED);
    assert_int_equal(ak_key_order_try_acquire(order, b, (void *)b1), AK_KEY_ORDER_ACQUIRED);
    assert_int_equal(ak_key_order_try_acquire(order, a, (void *)a2), AK_KEY_ORDER_QUEUED);
    assert_int_equal(ak_key_order_try_acquire(order, c, (void *)c1), AK_KEY_ORDER_ACQUIRED);
    assert_int_equal(ak_key_order_try_acquire(order, b, (void *)b2), AK_KEY_ORDER_QUEUED);
    assert_int_equal(ak_key_order_try_acquire(order, a, (void *)a3), AK_KEY_ORDER_QUEUED);
    assert_int_equal(ak_key_order_busy_keys(order), 3);
    assert_int_equal(ak_key_order_queued(order), 3);

    void *next = NULL;
    /* c has nobody behind it. */
    assert_false(ak_key_order_release(order, c, &next));
    assert_false(ak_key_order_busy(order, c));
    assert_true(ak_key_order_release(order, b, &next));
    assert_string_equal(next, "b2");
    assert_true(ak_key_order_release(order, a, &next));
    assert_string_equal(next, "a2");
    assert_true(ak_key_order_release(order, a, &next));
    assert_string_equal(next, "a3");
    assert_false(ak_key_order_release(order, b, &next));
    assert_false(ak_key_order_release(order, a, &next));
    assert_int_equal(ak_key_order_busy_keys(order), 0);
    assert_int_equal(ak_key_order_queued(order), 0);
    ak_key_order_free(order);
}

static void test_release_of_a_free_key_changes_nothing(void **state)
{
    (void)state;
    ak_key_order_t *order = akt_order(4);
    uint8_t a[AK_DIGEST_SIZE], b[AK_DIGEST_SIZE];
    akt_digest(a, 1, false);
    akt_digest(b, 2, false);
    int x = 0;
    assert_int_equal(ak_key_order_try_acquire(order, a, &x), AK_KEY_ORDER_ACQUIRED);
    void *next = NULL;
    assert_false(ak_key_order_release(order, b, &next));
    assert_true(ak_key_order_busy(order, a));
    assert_int_equal(ak_key_order_busy_keys(order), 1);
    ak_key_order_free(order);
}

static void test_more_records_than_capacity_are_refused_without_change(void **state)
{
    (void)state;
    ak_key_order_t *order = akt_order(3);
    uint8_t a[AK_DIGEST_SIZE], b[AK_DIGEST_SIZE];
    akt_digest(a, 1, false);
    akt_digest(b, 2, false);
    int r[5];
    assert_int_equal(ak_key_order_try_acquire(order, a, &r[0]), AK_KEY_ORDER_ACQUIRED);
    assert_int_equal(ak_key_order_try_acquire(order, a, &r[1]), AK_KEY_ORDER_QUEUED);
    assert_int_equal(ak_key_order_try_acquire(order, b, &r[2]), AK_KEY_ORDER_ACQUIRED);
    assert_int_equal(ak_key_order_try_acquire(order, a, &r[3]), AK_KEY_ORDER_FULL);
    assert_int_equal(ak_key_order_try_acquire(order, b, &r[3]), AK_KEY_ORDER_FULL);
    assert_int_equal(ak_key_order_queued(order), 1);
    void *next = NULL;
    assert_false(ak_key_order_release(order, b, &next));
    assert_int_equal(ak_key_order_try_acquire(order, a, &r[4]), AK_KEY_ORDER_QUEUED);
    assert_true(ak_key_order_release(order, a, &next));
    assert_ptr_equal(next, &r[1]);
    assert_true(ak_key_order_release(order, a, &next));
    assert_ptr_equal(next, &r[4]);
    ak_key_order_free(order);

    ak_error_t err;
    akt_error_reset(&err);
    assert_null(ak_key_order_new(0, &err));
    assert_true(strstr(err.message, "capacity") != NULL);
}

/* ---- a random workload checked against the contract ----------------- */

typedef struct akt_record {
    uint32_t key;
    uint32_t seq; /* arrival order within its key */
} akt_record_t;

/* Records arrive for random keys and writes complete in random order; the
 * gate must never issue two records of a key together and must issue each
 * key's records in arrival order. */
static void akt_random_workload(bool collide, uint32_t keys, size_t capacity, int steps)
{
    ak_key_order_t *order = akt_order(capacity);
    akt_record_t *records = calloc((size_t)steps, sizeof *records);
    akt_record_t **in_flight = calloc(capacity, sizeof *in_flight);
    uint32_t *arrived = calloc(keys, sizeof *arrived);
    uint32_t *applied = calloc(keys, sizeof *applied);
    bool *busy = calloc(keys, sizeof *busy);
    assert_true(records && in_flight && arrived && applied && busy);
    size_t n_in_flight = 0, held = 0, n_records = 0;
    unsigned seed = 12345u + (collide ? 1u : 0u);
    uint8_t digest[AK_DIGEST_SIZE];

    for (int step = 0; step < steps || n_in_flight > 0; step++) {
        bool arrive = step < steps && held < capacity && (n_in_flight == 0 || rand_r(&seed) % 2 == 0);
        if (arrive) {
            akt_record_t *rec = &records[n_records++];
            rec->key = (uint32_t)rand_r(&seed) % keys;
            rec->seq = arrived[rec->key]++;
            akt_digest(digest, rec->key, collide);
            ak_key_order_result_t res = ak_key_order_try_acquire(order, digest, rec);
            assert_int_not_equal(res, AK_KEY_ORDER_FULL);
            held++;
            if (res == AK_KEY_ORDER_ACQUIRED) {
                assert_false(busy[rec->key]);
                assert_int_equal(rec->seq, applied[rec->key]);
                busy[rec->key] = true;
                in_flight[n_in_flight++] = rec;
            } else {
                assert_true(busy[rec->key]);
            }
        } else {
            size_t pick = (size_t)rand_r(&seed) % n_in_flight;
            akt_record_t *done = in_flight[pick];
            in_flight[pick] = in_flight[--n_in_flight];
            applied[done->key]++;
            held--;
            akt_digest(digest, done->key, collide);
            void *next = NULL;
            if (ak_key_order_release(order, digest, &next)) {
                akt_record_t *rec = next;
                assert_int_equal(rec->key, done->key);
                assert_int_equal(rec->seq, applied[rec->key]);
                in_flight[n_in_flight++] = rec;
            } else {
                busy[done->key] = false;
                assert_int_equal(applied[done->key], arrived[done->key]);
            }
        }
        assert_int_equal(ak_key_order_busy_keys(order), n_in_flight);
        assert_int_equal(ak_key_order_busy_keys(order) + ak_key_order_queued(order), held);
    }
    for (uint32_t k = 0; k < keys; k++) {
        assert_int_equal(applied[k], arrived[k]);
        akt_digest(digest, k, collide);
        assert_false(ak_key_order_busy(order, digest));
    }
    free(records);
    free(in_flight);
    free(arrived);
    free(applied);
    free(busy);
    ak_key_order_free(order);
}

static void test_random_arrivals_and_completions_keep_per_key_order(void **state)
{
    (void)state;
    akt_random_workload(false, 50, 64, 20000);
    akt_random_workload(false, 5000, 512, 20000);
}

/* The key table starts small and doubles while keys are busy: keys and the
 * records queued behind them must survive every doubling. */
static void test_table_grows_with_busy_keys_and_keeps_their_queues(void **state)
{
    (void)state;
    enum { KEYS = 30000, CAPACITY = 40000 };
    ak_key_order_t *order = akt_order(CAPACITY);
    static akt_record_t first[KEYS], second[KEYS];
    uint8_t digest[AK_DIGEST_SIZE];
    size_t queued = 0;
    for (uint32_t k = 0; k < KEYS; k++) {
        akt_digest(digest, k, false);
        first[k] = (akt_record_t){k, 0};
        assert_int_equal(ak_key_order_try_acquire(order, digest, &first[k]), AK_KEY_ORDER_ACQUIRED);
        /* every 7th key also gets a record queued behind it, some before
         * the doublings that follow */
        if (k % 7 == 0) {
            second[k] = (akt_record_t){k, 1};
            assert_int_equal(ak_key_order_try_acquire(order, digest, &second[k]), AK_KEY_ORDER_QUEUED);
            queued++;
        }
    }
    assert_int_equal(ak_key_order_busy_keys(order), KEYS);
    assert_int_equal(ak_key_order_queued(order), queued);
    for (uint32_t k = 0; k < KEYS; k++) {
        akt_digest(digest, k, false);
        assert_true(ak_key_order_busy(order, digest));
        void *next = NULL;
        if (k % 7 == 0) {
            assert_true(ak_key_order_release(order, digest, &next));
            assert_ptr_equal(next, &second[k]);
            assert_true(ak_key_order_busy(order, digest));
        }
        assert_false(ak_key_order_release(order, digest, &next));
        assert_false(ak_key_order_busy(order, digest));
    }
    assert_int_equal(ak_key_order_busy_keys(order), 0);
    assert_int_equal(ak_key_order_queued(order), 0);
    ak_key_order_free(order);
}

static void test_colliding_keys_keep_order_through_probing_and_deletion(void **state)
{
    (void)state;
    akt_random_workload(true, 40, 32, 20000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_key_records_wait_and_come_back_in_arrival_order),
        cmocka_unit_test(test_interleaved_keys_only_wait_for_their_own_key),
        cmocka_unit_test(test_release_of_a_free_key_changes_nothing),
        cmocka_unit_test(test_more_records_than_capacity_are_refused_without_change),
        cmocka_unit_test(test_random_arrivals_and_completions_keep_per_key_order),
        cmocka_unit_test(test_colliding_keys_keep_order_through_probing_and_deletion),
        cmocka_unit_test(test_table_grows_with_busy_keys_and_keeps_their_queues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
