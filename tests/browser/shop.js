// The demo storefront (/shop) in headless Chromium against the test stack, acting as a user of
// its own (scripts/stack shop-on with an access token the test signs): the products show with
// their stock; through the page the user charges the balance, puts a product in the cart, gets
// the coupon and checks out with it; the API then has the order as the page said (PAID, the
// coupon's discount, the balance and its history); the page's Cancel cancels it, and the API
// has it CANCELLED, the money and the stock back. The storefront is switched off afterwards.
//
//   node tests/browser/shop.js [SCREENSHOT.png]
// (scripts/test runs it with browser_test; the screenshot defaults to the stack's log dir.)
'use strict';
const path = require('path');
const { execFileSync } = require('child_process');
const { withPage, check, main } = require('./browser');
const stack = require('./stack');

const root = path.resolve(__dirname, '../..');

// scripts/stack DIR shop-on USER COUPON, the token on stdin (never in argv); or shop-off.
function shop(...args) {
  const dir = process.env.COMMERCE_TEST_STATE_DIR;
  const input = args[0] === 'on' ? stack.token(args[1], 3600) + '\n' : '';
  execFileSync(path.join(root, 'scripts/stack'), [dir, `shop-${args[0]}`, ...args.slice(1).map(String)],
    { input, stdio: ['pipe', 'inherit', 'inherit'] });
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent);

main(async () => {
  const base = stack.url();
  const shot = process.argv[2] || path.join(process.env.COMMERCE_TEST_STATE_DIR || '.', 'log', 'shop.png');
  const { uid, products } = await stack.fixtures(0);
  const [mug, tee] = products; // 1000 and 2500 won
  const couponId = stack.expect(await stack.admin('POST', '/admin/coupons',
    { name: 'Browser 1000', type: 'FIXED', value: 1000, totalQuantity: 10, validDays: 7 }), 201, 'coupon').doc.couponId;
  const teeStock = (await stack.admin('GET', `/products/${tee}`)).doc.stock;
  shop('on', uid, couponId);

  await withPage(shot, async (page) => {
    // (the test's products are the newest of a long catalogue: the page starts the list after
    // the one before them, as /shop?after=N does)
    const resp = await page.goto(`${base}/shop?after=${mug - 1}`, { waitUntil: 'networkidle0' });
    check(resp.status() === 200, `GET /shop: ${resp.status()}`);
    const csp = resp.headers()['content-security-policy'] || '';
    check(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `a strict Content-Security-Policy: ${csp}`);
    check((await text(page, '#who')).includes(`user ${uid}`), 'the page acts as the session\'s user');

    // products with stock
    const teeSel = `#products li[data-product-id="${tee}"]`;
    check(await page.$(teeSel), `product ${tee} shows`);
    check((await text(page, `${teeSel} .stock`)).includes(`${teeStock} in stock`), 'the product shows its stock');
    check((await text(page, '#balance')).startsWith('0'), 'a new user has no balance');

    // charge, cart, coupon, checkout: all through the page
    await page.click('#charge');
    await page.waitForFunction(() => document.getElementById('balance').textContent.startsWith('10,000'));
    await page.$eval(`${teeSel} input.qty`, (i) => { i.value = '2'; });
    await page.click(`${teeSel} button.add`);
    await page.waitForSelector(`#cart li[data-product-id="${tee}"]`);
    check((await text(page, '#subtotal')) === '5,000 ₩', `the cart's subtotal: ${await text(page, '#subtotal')}`);
    await page.click('#coupon-issue');
    await page.waitForSelector('#use-coupon-label:not([hidden])');
    check(await page.$eval('#use-coupon', (c) => c.checked), 'the coupon is ticked for checkout');
    check((await text(page, '#total')) === '4,000 ₩', `the total with the coupon: ${await text(page, '#total')}`);
    await page.click('#checkout');
    await page.waitForSelector('#orders li[data-order-id][data-status="PAID"]');
    const oid = Number(await page.$eval('#orders li[data-order-id]', (li) => li.dataset.orderId));
    check((await text(page, '#flash')).includes(`Order ${oid} paid`), `the page says the order is paid: ${await text(page, '#flash')}`);

    // the API agrees
    let o = stack.expect(await stack.as(uid, 'GET', `/orders/${oid}`), 200, 'GET the order').doc;
    check(o.status === 'PAID' && o.subtotal === 5000 && o.discount === 1000 && o.total === 4000 && o.couponId === couponId,
      `the order as the API has it: ${JSON.stringify(o)}`);
    check(o.items.length === 1 && o.items[0].productId === tee && o.items[0].quantity === 2, 'the order\'s line');
    check((await stack.as(uid, 'GET', `/users/${uid}/points`)).doc.balance === 6000, 'the balance after the order');
    check((await stack.as(uid, 'GET', `/users/${uid}/cart`)).doc.items.length === 0, 'the checkout emptied the cart');
    check((await stack.admin('GET', `/products/${tee}`)).doc.stock === teeStock - 2, 'the stock taken');
    await page.waitForFunction(() => document.getElementById('balance').textContent.startsWith('6,000'));
    check(await page.$('#history tbody tr[data-type="USE"]') && await page.$('#history tbody tr[data-type="CHARGE"]'),
      'the balance history shows the charge and the payment');

    // cancel through the page; the API has it cancelled and everything back
    await page.click(`#orders li[data-order-id="${oid}"] button.cancel`);
    await page.waitForSelector(`#orders li[data-order-id="${oid}"][data-status="CANCELLED"]`);
    o = (await stack.as(uid, 'GET', `/orders/${oid}`)).doc;
    check(o.status === 'CANCELLED' && o.cancelledAt, `the API has the order cancelled: ${JSON.stringify(o)}`);
    check((await stack.as(uid, 'GET', `/users/${uid}/points`)).doc.balance === 10000, 'the refund');
    check((await stack.admin('GET', `/products/${tee}`)).doc.stock === teeStock, 'the stock back');
    const mine = (await stack.as(uid, 'GET', `/users/${uid}/coupons`)).doc.items.find((c) => c.couponId === couponId);
    check(mine && mine.status === 'AVAILABLE', 'the coupon back');
    await page.waitForSelector('#history tbody tr[data-type="REFUND"]');
    await page.waitForFunction(() => document.getElementById('balance').textContent.startsWith('10,000'));
    check(await page.$(`#products li[data-product-id="${mug}"]`), 'the other product shows too');

  }, () => shop('off'));
});
