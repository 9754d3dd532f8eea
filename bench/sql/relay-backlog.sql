-- bench/lib/relay.sh: a standing backlog of @EVENTS@ events, every one due now.
INSERT INTO outbox (event_id, type, order_id, payload, occurred_at, next_attempt_at)
  SELECT UUID(), 'ORDER_PAID', seq, '{"orderId":1,"status":"PAID","total":1000}', NOW(3), NOW(3)
  FROM seq_1_to_@EVENTS@;
