// The operator console (/admin/console) in headless Chromium against the test stack:
//   1. it loads under its Content-Security-Policy, with no console error or failed request;
//   2. an event the relay parked as FAILED shows in the outbox once the admin token is pasted;
//   3. its Replay button makes it DELIVERED;
//   4. an order lookup shows the order's event as DELIVERED;
//   5. the live charts have points read from /metrics.
// The admin token is typed into the page, kept in sessionStorage, and never part of a URL.
//
//   node tests/browser/console.js [SCREENSHOT.png]
// (scripts/test runs it with browser_test; the screenshot defaults to the stack's log dir.)
'use strict';
const path = require('path');
const { withPage, check, main } = require('./browser');
const stack = require('./stack');

main(async () => {
  const base = stack.url();
  const shot = process.argv[2] || path.join(process.env.COMMERCE_TEST_STATE_DIR || '.', 'log', 'console.png');
  const adminToken = process.env.COMMERCE_TEST_ADMIN_TOKEN;

  // A parked event: the platform refuses, the event is one attempt short of the limit.
  const { uid, products } = await stack.fixtures(100000);
  await stack.platformMode('fail');
  let oid;
  let eventId;
  try {
    oid = stack.expect(await stack.as(uid, 'POST', '/orders', { userId: uid, items: [{ productId: products[0], quantity: 2 }] }), 201, 'order').doc.orderId;
    await stack.until('the first refused attempt', async () => {
      const e = (await stack.admin('GET', `/admin/orders/${oid}`)).doc.events[0];
      return e.attempts >= 1 && e.lastError;
    });
    eventId = (await stack.admin('GET', `/admin/orders/${oid}`)).doc.events[0].eventId;
    stack.sql(`UPDATE outbox SET attempts = 49 WHERE event_id = '${eventId}' AND status = 'PENDING'`);
    await stack.until(`event ${eventId} parked`, async () =>
      (await stack.admin('GET', `/admin/orders/${oid}`)).doc.events[0].state === 'FAILED');
  } catch (e) {
    await stack.platformMode('ok');
    throw e;
  }

  await withPage(shot, async (page) => {
    const urls = [];
    page.on('request', (r) => urls.push(r.url()));
    const resp = await page.goto(`${base}/admin/console`, { waitUntil: 'networkidle0' });

    // 1. loads, under a strict policy
    check(resp.status() === 200, `GET /admin/console: ${resp.status()}`);
    const csp = resp.headers()['content-security-policy'] || '';
    check(/default-src 'none'/.test(csp) && /script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp),
      `a strict Content-Security-Policy: ${csp}`);
    check((await page.title()).includes('operator console'), 'the page title');
    check(await page.$eval('#token-form', (f) => !f.hidden), 'the token form shows before a token is given');
    await page.waitForFunction(() => /^ready/.test(document.getElementById('ready').textContent));
    check(urls.every((u) => u.startsWith(base)), `nothing from another origin: ${urls.join(' ')}`);

    // 2. the parked event shows once the token is pasted
    await page.type('#token-input', adminToken);
    await page.click('#token-form button[type=submit]');
    const rowSel = `#failed tbody tr[data-event-id="${eventId}"]`;
    await page.waitForSelector(rowSel, { timeout: 20000 });
    check(await page.$eval(rowSel, (tr) => tr.textContent.includes('PAID') && tr.textContent.includes('HTTP 500')),
      'the failed event row names its type and the last error');
    await page.waitForFunction(() => Number(document.getElementById('ob-failed').textContent) >= 1, { timeout: 20000 });
    check(await page.evaluate(() => sessionStorage.getItem('commerce.console.adminToken')) === adminToken,
      'the token is kept in sessionStorage');

    // 3. Replay delivers it
    await stack.platformMode('ok');
    await page.click(`${rowSel} button.replay`);
    await page.waitForSelector(rowSel, { hidden: true, timeout: 20000 });
    await stack.until(`event ${eventId} delivered`, async () =>
      (await stack.admin('GET', `/admin/orders/${oid}`)).doc.events[0].state === 'DELIVERED');

    // 4. the lookup shows it DELIVERED
    await page.$eval('#lookup-id', (i) => { i.value = ''; });
    await page.type('#lookup-id', String(oid));
    await page.click('#lookup-form button[type=submit]');
    await page.waitForSelector('#order-events tbody tr[data-type="ORDER_PAID"]', { timeout: 20000 });
    const cell = await page.$eval('#order-events tbody tr[data-type="ORDER_PAID"] .badge', (b) => b.textContent);
    check(cell === 'DELIVERED', `the lookup shows the event as ${cell}, not DELIVERED`);
    check(await page.$eval('#order-facts', (d, id) => d.textContent.includes(`#${id}`), oid), 'the lookup shows the order');

    // 5. the charts have points (a rate needs two scrapes, 5 s apart), and orders placed now
    // show as paid orders per second
    for (let i = 0; i < 3; i++) {
      stack.expect(await stack.as(uid, 'POST', '/orders', { userId: uid, items: [{ productId: products[1], quantity: 1 }] }), 201, 'order');
    }
    await page.waitForFunction(() =>
      ['chart-rps', 'chart-p99', 'chart-orders'].every((id) => Number(document.getElementById(id).dataset.points) >= 2) &&
      document.querySelectorAll('#chart-rps polyline, #chart-p99 polyline, #chart-orders polyline').length >= 3 &&
      Number(document.querySelector('#chart-orders g.series[data-key="paid"]').dataset.max) > 0,
    { timeout: 30000, polling: 500 });
    check(await page.$eval('#legend-orders', (l) => l.textContent.includes('paid')), 'the orders chart names the paid outcome');
    check(await page.$eval('#legend-rps', (l) => l.textContent.includes('orders_create')), 'the requests chart shows POST /orders');

    await page.shoot();

    // the token stays out of every URL; forgetting it clears the storage
    check(urls.every((u) => !u.includes(adminToken)), 'the admin token never appears in a URL');
    await page.click('#token-forget');
    check(await page.evaluate(() => sessionStorage.getItem('commerce.console.adminToken')) === null,
      'forget clears sessionStorage');
  }, () => stack.platformMode('ok'));
});
