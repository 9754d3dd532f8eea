// The browser tests' one way to start Chromium: Debian's /usr/bin/chromium (never a
// downloaded one), headless, with the flags a closed network needs (no background
// connections, no component updates), and a page that records what went wrong on it.
//
//   const { launch, open } = require('./browser');
//   const browser = await launch();
//   const page = await open(browser, url);   // page.problems(): console errors, failed requests
//   ...
//   await browser.close();
//
// Run a test with scripts/lib/browser.sh's browser_test (it installs chromium and this
// folder's node_modules first).
'use strict';
const puppeteer = require('puppeteer-core');

exports.launch = () =>
  puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });

// open(browser, url): a new page at url, 1280x900, that keeps every console error, page
// error and failed request in page.problems() (a test asserts it is empty at the end).
exports.open = async (browser, url) => {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure().errorText}`));
  page.problems = () => problems.slice();
  await page.setViewport({ width: 1280, height: 900 });
  if (url) await page.goto(url, { waitUntil: 'networkidle0' });
  return page;
};

// withPage(shot, body, cleanup): launch Chromium, open a page, run await body(page); then save a
// full-page screenshot to shot (a look at the page is part of the test: the body may take it
// earlier, at the moment worth seeing, with await page.shoot()) and fail on any console error or
// failed request the page recorded. On a failure the screenshot goes to shot's -failed.png and
// the page's problems are printed. The browser is closed and await cleanup() runs (when given)
// in any case.
exports.withPage = async (shot, body, cleanup) => {
  const browser = await exports.launch();
  let page;
  let shotTaken = false;
  try {
    page = await exports.open(browser);
    page.shoot = async () => {
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}`);
      shotTaken = true;
    };
    await body(page);
    if (!shotTaken) await page.shoot();
    exports.check(page.problems().length === 0, `no console errors or failed requests: ${page.problems().join('; ')}`);
  } catch (e) {
    if (page) {
      await page.screenshot({ path: shot.replace(/\.png$/, '-failed.png'), fullPage: true });
      console.error(`problems on the page: ${page.problems().join('; ') || 'none'}`);
    }
    throw e;
  } finally {
    await browser.close();
    if (cleanup) await cleanup();
  }
};

// check(cond, what): fail the test with `what` unless cond holds.
exports.check = (cond, what) => {
  if (!cond) throw new Error(`check failed: ${what}`);
};

// main(fn): run an async test body; exit 1 with the error on failure.
exports.main = (fn) => {
  fn().then(
    () => process.exit(0),
    (e) => {
      console.error(e && e.stack ? e.stack : e);
      process.exit(1);
    },
  );
};
