/* The order transaction bench_rawdb drives, sent to MariaDB in one of several
 * ways (bench_rawdb --mode; `bench/run dbside` compares them, issue 19). Every
 * mode writes the same rows for the same order: one unit of one product for
 * one user, no coupon, no Idempotency-Key, no cart (what the service's
 * transaction writes for such a request without a key): the order, its item,
 * the balance and its USE history row, the ORDER_PAID event (a fixed document
 * of the usual size), the stock. The rules are the service's (order_decide)
 * between the reads and the writes.
 *
 *   proc        the service's two CALLs through its own store code
 *               (orders_place, orders_write): commerce_order_facts, then
 *               commerce_order_write with the items as a JSON array;
 *   proc-plain  the same, but the write is bench_order_write_plain
 *               (bench/lib/plain_write.py): commerce_order_write with the
 *               line as plain parameters, no JSON_LENGTH, no JSON_VALUE;
 *   batch       the statements the procedures run, as text in two
 *               multi-statement round trips (CLIENT_MULTI_STATEMENTS), the
 *               values inlined (numbers, or escaped strings):
 *                 START TRANSACTION; the point row FOR UPDATE; NEXTVAL; the
 *                 product and its stock
 *                 (the rules)
 *                 the order; its item; the balance; its history row; the
 *                 event; the stock; COMMIT
 *               (ROLLBACK when one fails: the batch stops at the failure);
 *   batch-exec  the batch's round trips with the same statements PREPAREd
 *               once per connection in SQL and sent as EXECUTE ... USING;
 *   prepared    the same statements as server-side prepared statements
 *               (mysql_stmt_*, the service's store/db.h: prepared once per
 *               connection), one round trip each, inside db_tx (which sends
 *               START TRANSACTION and COMMIT as round trips of their own). */
#ifndef COMMERCE_BENCH_RAWDB_TX_H
#define COMMERCE_BENCH_RAWDB_TX_H

#include <stdint.h>

#include "common/config.h"

enum rawdb_mode { RAWDB_PROC, RAWDB_PROC_PLAIN, RAWDB_BATCH, RAWDB_BATCH_EXEC, RAWDB_PREPARED };

/* The mode a name (above) stands for, or -1. */
int rawdb_mode_of(const char *name);
const char *rawdb_mode_name(int mode);

typedef struct rawdb_tx rawdb_tx_t;

/* One client's connection for mode, opened now (cfg must outlive it): NULL
 * when it cannot be (said on stderr). */
rawdb_tx_t *rawdb_tx_open(const config_t *cfg, int mode);

/* One order of one unit of product for user, committed: C_OK; or C_RETRY
 * (deadlock, lock wait), DB_REFUSED (a rule, or the stock), C_DOWN or another
 * failure, rolled back. proc, proc-plain and prepared retry a conflict inside
 * db_tx as the service does; the text modes answer it. A stock that falls
 * short at prepared's update (inventory's CHECK, error 4025, which store/db.c
 * does not name) is C_ERR there, not DB_REFUSED; the other modes refuse it. */
int rawdb_tx_order(rawdb_tx_t *t, int64_t user, int64_t product);

void rawdb_tx_close(rawdb_tx_t *t);

#endif
