-- bench/lib/relay.sh relay_delay: one line, the delay from each order's commit (occurred_at)
-- to its delivery over the outbox, p50 and p99, after @SECONDS@ s of orders from @CONNS@
-- connections (labelled @LABEL@).
WITH d AS (SELECT TIMESTAMPDIFF(MICROSECOND, occurred_at, delivered_at) / 1000 AS ms,
                  ROW_NUMBER() OVER (ORDER BY TIMESTAMPDIFF(MICROSECOND, occurred_at, delivered_at)) AS k,
                  COUNT(*) OVER () AS n FROM outbox)
SELECT CONCAT(RPAD('relay delay, @LABEL@', 30, ' '), ' commit->delivered p50 ',
              ROUND(MAX(IF(k = CEIL(n * 0.50), ms, NULL)), 1), ' ms, p99 ',
              ROUND(MAX(IF(k = CEIL(n * 0.99), ms, NULL)), 1), ' ms; ', MAX(n), ' orders at ',
              ROUND(MAX(n) / @SECONDS@), '/s from @CONNS@ connections (poll 100 ms)') FROM d;
