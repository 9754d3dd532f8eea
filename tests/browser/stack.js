// The test stack from a browser test's side (Node, no browser): its API with the admin token or
// a user's access token, the fake data platform's mode, one SQL statement, and polling for a
// condition. The environment is scripts/test's (COMMERCE_TEST_*: see its header).
//
//   const stack = require('./stack');
//   const uid = (await stack.admin('POST', '/admin/users', { name: 'kim' })).doc.userId;
//   await stack.as(uid, 'POST', `/users/${uid}/points/charge`, { amount: 5000 });
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through scripts/test)`);
  return v;
}

exports.url = () => env('COMMERCE_TEST_URL');

const b64url = (b) => Buffer.from(b).toString('base64url');

// token(uid, seconds): an ES256 access token for uid, signed with the stack's test key (kid
// ec-1, the JWKS the stack trusts), with the issuer and audience it expects.
exports.token = (uid, seconds = 3600) => {
  const pem = fs.readFileSync(path.join(env('COMMERCE_TEST_AUTH_DIR'), 'ec.pem'));
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'ec-1' }));
  const claims = b64url(JSON.stringify({
    sub: String(uid), iss: env('COMMERCE_TEST_AUTH_ISSUER'), aud: env('COMMERCE_TEST_AUTH_AUDIENCE'),
    iat: now, exp: now + seconds,
  }));
  const sig = crypto.sign('sha256', Buffer.from(`${head}.${claims}`), { key: pem, dsaEncoding: 'ieee-p1363' });
  return `${head}.${claims}.${b64url(sig)}`;
};

async function request(base, method, p, body, bearer) {
  const headers = { Accept: 'application/json' };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let doc = null;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    doc = null;
  }
  return { status: r.status, doc, text };
}

// expect(r, status, what): r when its status is that, else an error naming what and the body.
function expect(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: status ${r.status}, not ${status}: ${r.text}`);
  return r;
}
exports.expect = expect;

exports.admin = (method, p, body) => request(exports.url(), method, p, body, env('COMMERCE_TEST_ADMIN_TOKEN'));
exports.as = (uid, method, p, body) => request(exports.url(), method, p, body, exports.token(uid));

// platformMode('ok' | 'fail' | 'hang'): the fake data platform's answer to events.
exports.platformMode = async (mode) => {
  const base = new URL(env('COMMERCE_TEST_PLATFORM_URL')).origin;
  expect(await request(base, 'POST', '/_mode', { mode }), 200, `platform mode ${mode}`);
};

// sql(statement): its rows as text lines (the stack's administrator on its socket: the account
// of the user running the tests, by unix_socket).
exports.sql = (statement) =>
  execFileSync('mariadb', ['--socket', env('COMMERCE_TEST_DB_SOCKET'), `--user=${os.userInfo().username}`,
    '-N', '-B', env('COMMERCE_TEST_DB_NAME'), '-e', statement], { encoding: 'utf8' }).trim();

// until(what, fn, ms): poll the async fn every 200 ms until it returns a true value (which is
// returned); fail naming what after ms.
exports.until = async (what, fn, ms = 30000) => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up after ${ms} ms waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 200));
  }
};

// fixtures(balance): a new user (charged `balance`, when given) and two products priced 1000
// and 2500 with stock: { uid, products: [id, id] }.
exports.fixtures = async (balance) => {
  const uid = expect(await exports.admin('POST', '/admin/users', { name: 'browser test' }), 201, 'new user').doc.userId;
  if (balance) expect(await exports.as(uid, 'POST', `/users/${uid}/points/charge`, { amount: balance }), 200, 'charge');
  const products = [];
  for (const [name, price, stock] of [['Browser mug', 1000, 50], ['Browser tee', 2500, 20]]) {
    products.push(expect(await exports.admin('POST', '/admin/products', { name, price, stock }), 201, 'new product').doc.id);
  }
  return { uid, products };
};
