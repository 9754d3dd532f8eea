// The API explorer sends requests: headless Chromium on a dev stack's /docs (scripts/check-dev
// runs it) does what a shop's developer does there.
//   1. Opens BASE/docs/ (the address with a slash) and lands on BASE/docs.
//   2. Sees the package's version, the spec's info.version (read from BASE/openapi.yaml), in the
//      page's bar and in Swagger UI's title.
//   3. Authorises through Swagger UI's own "Authorize" dialog with the access token it is given
//      (COMMERCE_TEST_TOKEN, a token for user 1), and sends GET /users/1/points with
//      "Try it out": 200 in the page and on the wire, with that token as the bearer.
//   4. Logs out, takes the dev token the page offers for user 1 instead (the bar's button), and
//      sends POST /orders with "Try it out": 201 in the page and on the wire, with the offered
//      token as the bearer and the order in the answer.
//   5. Nothing went wrong on the page: no console error, no failed request.
//
//   COMMERCE_TEST_TOKEN=… node tests/browser/explorer.js BASE_URL [PRODUCT_ID]
// (the token in the environment, not in argv). PRODUCT_ID (default 2) is the product the order
// buys, one of it: it must be in stock.
'use strict';
const { launch, open, check, main } = require('./browser');

const base = (process.argv[2] || '').replace(/\/$/, '');
const productId = Number(process.argv[3] || 2);
const token = process.env.COMMERCE_TEST_TOKEN || '';

// The info.version of the served YAML (the block under `info:`, two-space indented).
async function specVersion() {
  const yaml = await (await fetch(`${base}/openapi.yaml`)).text();
  const m = yaml.match(/^info:\n(?:[ \t]+.*\n)*?[ \t]+version:[ \t]*['"]?([^'"\s]+)/m);
  check(m, `${base}/openapi.yaml has an info.version`);
  return m[1];
}

// Expand an operation and switch on "Try it out"; returns its block's selector.
async function tryItOut(page, opId) {
  const op = `[id$="-${opId}"]`;
  await page.waitForSelector(`${op} .opblock-summary-control`);
  await page.click(`${op} .opblock-summary-control`);
  await page.waitForSelector(`${op} .try-out__btn`);
  await page.click(`${op} .try-out__btn`);
  await page.waitForSelector(`${op} .execute`);
  return op;
}

// Click Execute; wait for the request on the wire and the status the page shows for it.
async function execute(page, op, method, path) {
  const wire = page.waitForResponse(
    (r) => r.request().method() === method && new URL(r.url()).pathname === path,
    { timeout: 20000 },
  );
  await page.click(`${op} .execute`);
  const res = await wire;
  await page.waitForSelector(`${op} .live-responses-table .response .response-col_status`);
  const shown = await page.$eval(`${op} .live-responses-table .response .response-col_status`,
    (e) => e.textContent.trim());
  return { res, shown, body: await res.text() };
}

// Type into a field, replacing what it holds.
async function replaceText(page, selector, text) {
  await page.click(selector, { clickCount: 3 });
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyA');
  await page.keyboard.up('Control');
  await page.keyboard.press('Backspace');
  await page.type(selector, text);
}

main(async () => {
  check(/^https?:\/\/[^/]+$/.test(base), 'usage: node tests/browser/explorer.js BASE_URL [PRODUCT_ID]');
  check(token.split('.').length === 3, 'COMMERCE_TEST_TOKEN holds an access token (a JWT)');
  const version = await specVersion();
  const browser = await launch();
  try {
    const page = await open(browser, `${base}/docs/`);
    check(page.url() === `${base}/docs`, `/docs/ lands on /docs (at ${page.url()})`);
    await page.waitForSelector('.opblock', { timeout: 30000 });

    // 2. the version
    const bar = await page.$eval('#commerce-version', (e) => e.textContent.trim());
    check(bar === version, `the bar shows version ${version} (it shows ${bar})`);
    const title = await page.$eval('.info .title', (e) => e.textContent);
    check(title.includes(version), `Swagger UI's title shows version ${version} (${title})`);
    console.log(`version ${version} shown`);

    // 3. Authorize dialog, GET /users/1/points
    await page.click('.auth-wrapper .authorize');
    await page.waitForSelector('.modal-ux .auth-container');
    const containers = await page.$$('.modal-ux .auth-container');
    let user = null;
    for (const c of containers) {
      if ((await c.$eval('h4', (e) => e.textContent)).includes('userAuth')) user = c;
    }
    check(user, 'the Authorize dialog has userAuth');
    await (await user.$('input')).type(token);
    await (await user.$('button.authorize')).click();
    await user.waitForSelector('button.logout, button.auth:not(.authorize)');
    await page.click('.modal-ux .close-modal');
    let op = await tryItOut(page, 'getPoints');
    await replaceText(page, `${op} tr[data-param-name="userId"] input`, '1');
    let r = await execute(page, op, 'GET', '/users/1/points');
    check(r.res.status() === 200, `GET /users/1/points answered ${r.res.status()}: ${r.body}`);
    check(r.shown === '200', `the page shows 200 for GET /users/1/points (it shows ${r.shown})`);
    check(r.res.request().headers().authorization === `Bearer ${token}`,
      'GET /users/1/points carried the token given in the Authorize dialog');
    check(JSON.parse(r.body).userId === 1, `the balance is user 1's: ${r.body}`);
    console.log(`GET /users/1/points from the page: ${r.res.status()} ${r.body}`);

    // 4. log out, the page's dev token, POST /orders
    await page.click('.auth-wrapper .authorize');
    await page.waitForSelector('.modal-ux .auth-container');
    for (const b of await page.$$('.modal-ux button.logout, .modal-ux button.auth')) {
      if ((await b.evaluate((e) => e.textContent.trim())) === 'Logout') await b.click();
    }
    await page.click('.modal-ux .close-modal');
    const offered = await page.$eval('#commerce-dev-token', (e) => JSON.parse(e.textContent));
    check(offered.userId === 1 && offered.token.split('.').length === 3,
      `the page offers a dev token for user 1 (${JSON.stringify(offered.userId)})`);
    check(offered.token !== token, 'the offered token is not the one given (so the next request shows which was sent)');
    await page.click('#commerce-dev-authorize');
    op = await tryItOut(page, 'createOrder');
    await replaceText(page, `${op} textarea.body-param__text`,
      JSON.stringify({ userId: 1, items: [{ productId, quantity: 1 }] }));
    r = await execute(page, op, 'POST', '/orders');
    check(r.res.status() === 201, `POST /orders answered ${r.res.status()}: ${r.body}`);
    check(r.shown === '201', `the page shows 201 for POST /orders (it shows ${r.shown})`);
    check(r.res.request().headers().authorization === `Bearer ${offered.token}`,
      'POST /orders carried the dev token the page offered');
    const order = JSON.parse(r.body);
    check(order.userId === 1 && order.status === 'PAID' && order.items[0].productId === productId,
      `the order is user 1's, paid, for product ${productId}: ${r.body}`);
    console.log(`POST /orders from the page: ${r.res.status()} order ${order.orderId}`);

    // 5.
    const problems = page.problems();
    check(problems.length === 0, `no console errors or failed requests:\n  ${problems.join('\n  ')}`);
  } finally {
    await browser.close();
  }
});
