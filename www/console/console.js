// The operator console's behaviour: the admin token (this tab's sessionStorage, sent only as an
// Authorization header), readiness, the outbox with its failed events and their replay, the
// order lookup, the popular list, and the live charts read from /metrics every few seconds.
// Everything the service returns is put into the page as text, never as markup.
'use strict';
(function () {
  const M = window.CommerceMetrics;
  const Chart = window.CommerceChart;
  const { node, clear, badge, button, won, send } = window.Page;
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = 'commerce.console.adminToken';
  const METRICS_MS = 5000; // a scrape
  const SPAN_MS = 5 * 60 * 1000; // the charts' window
  const PANELS_MS = 10000; // readiness, the outbox list, recent orders
  const POPULAR_MS = 60000;
  const TOP_ROUTES = 6;

  let token = '';
  try {
    token = sessionStorage.getItem(TOKEN_KEY) || '';
  } catch (e) {
    token = ''; // storage refused (a private mode): the token lives in memory only
  }
  let failedNext = null; // the failed events' next page cursor
  let shownOrder = null; // the order the lookup shows
  const scrapes = []; // [{t, samples}] of the last SPAN_MS

  // ---------------------------------------------------------------- helpers

  // One API call; the admin token goes with /admin/… only.
  async function call(method, path, body) {
    const admin = path.startsWith('/admin/');
    const r = await send(method, path, body, token && admin ? { Authorization: 'Bearer ' + token } : {});
    if (r.status === 401 && admin) refused();
    return r;
  }

  // "2026-11-21T10:00:00.123Z" -> "2026-11-21 10:00:00" (the page says its times are UTC)
  function when(iso) {
    return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, '') : '–';
  }

  function age(seconds) {
    if (!(seconds >= 0)) return '–';
    if (seconds < 1) return '0 s';
    if (seconds < 90) return Math.round(seconds) + ' s';
    if (seconds < 5400) return Math.round(seconds / 60) + ' min';
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + ' h';
    return Math.round(seconds / 86400) + ' days';
  }

  // A table row; a cell is a node, text, or {t: time} (kept on one line, the full time as its title).
  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      if (c instanceof Node) td.appendChild(c);
      else if (c && typeof c === 'object') {
        td.textContent = when(c.t);
        td.className = 'time';
        if (c.t) td.title = c.t;
      } else td.textContent = c === null || c === undefined ? '–' : String(c);
      tr.appendChild(td);
    }
    return tr;
  }

  function orderLink(id) {
    return button('#' + id, () => lookup(String(id)), 'link');
  }

  // ---------------------------------------------------------------- the token

  function showToken() {
    $('token-form').hidden = !!token;
    $('token-set').hidden = !token;
    for (const e of document.querySelectorAll('.admin-only')) e.hidden = !token;
    for (const e of document.querySelectorAll('.needs-token')) e.hidden = !!token;
  }

  function keep(t) {
    token = t;
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      // memory only
    }
    showToken();
  }

  function refused() {
    keep('');
    $('token-note').textContent = 'The service refused the admin token (401): paste it again.';
  }

  $('token-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = $('token-input').value.trim();
    $('token-input').value = '';
    if (!t) return;
    keep(t);
    $('token-note').textContent = '';
    const r = await call('GET', '/admin/outbox?limit=1');
    if (r.status === 200) adminPanels();
  });

  $('token-forget').addEventListener('click', () => {
    keep('');
    $('token-note').textContent = 'Forgotten.';
  });

  // ---------------------------------------------------------------- readiness

  async function readiness() {
    const chip = $('ready');
    try {
      const r = await fetch('/readyz', { cache: 'no-store' });
      await r.text(); // read to the end: the request is over
      chip.dataset.state = r.status === 200 ? 'ok' : 'bad';
      chip.textContent = r.status === 200 ? 'ready: database answers' : `not ready (${r.status})`;
    } catch (e) {
      chip.dataset.state = 'bad';
      chip.textContent = 'unreachable';
    }
  }

  // ---------------------------------------------------------------- the outbox

  async function outbox(more) {
    const r = await call('GET', '/admin/outbox?limit=20' + (more && failedNext ? '&after=' + failedNext : ''));
    if (r.status !== 200 || !r.doc) return;
    const d = r.doc;
    $('ob-delivered').textContent = d.delivered;
    const body = $('failed').tBodies[0];
    if (!more) clear(body);
    for (const e of d.failedEvents) {
      const tr = row([
        node('code', e.eventId.slice(0, 8) + '…'),
        e.type.replace('ORDER_', ''),
        orderLink(e.orderId),
        e.attempts,
        { t: e.occurredAt },
        node('span', e.lastError, 'error-text'),
        button('Replay', () => replay(e.eventId), 'small replay'),
      ]);
      tr.cells[3].className = 'num';
      tr.dataset.eventId = e.eventId;
      tr.title = e.eventId;
      body.appendChild(tr);
    }
    failedNext = d.next;
    $('failed-more').hidden = !d.next;
    $('failed-empty').hidden = body.rows.length > 0;
    $('replay-all').disabled = d.failed === 0;
  }

  async function replay(eventId) {
    const r = await call('POST', '/admin/outbox/replay', eventId ? { eventId } : {});
    const note = $('outbox-note');
    if (r.status === 200) {
      note.textContent = `Replayed ${r.doc.replayed} event${r.doc.replayed === 1 ? '' : 's'}: back in line for the relay.`;
    } else if (r.doc) {
      note.textContent = `Replay refused: ${r.doc.detail || r.status}`;
    }
    await outbox(false);
    if (shownOrder) await lookup(shownOrder, true);
  }

  $('replay-all').addEventListener('click', () => replay(null));
  $('failed-more').addEventListener('click', () => outbox(true));

  // ---------------------------------------------------------------- the order lookup

  function fact(dl, term, value) {
    dl.appendChild(node('dt', term));
    const dd = document.createElement('dd');
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = value === null || value === undefined ? '–' : String(value);
    dl.appendChild(dd);
  }

  async function lookup(id, quiet) {
    const note = $('lookup-note');
    if (!/^[1-9][0-9]{0,18}$/.test(id)) {
      note.textContent = 'An order id is a positive number.';
      return;
    }
    $('lookup-id').value = id;
    const r = await call('GET', '/admin/orders/' + id);
    if (r.status !== 200) {
      if (!quiet) {
        $('order').hidden = true;
        shownOrder = null;
        note.textContent = r.doc && r.doc.detail ? r.doc.detail : `status ${r.status}`;
      }
      return;
    }
    shownOrder = id;
    note.textContent = '';
    const o = r.doc.order;
    const facts = $('order-facts');
    clear(facts);
    fact(facts, 'order', '#' + o.orderId);
    fact(facts, 'user', o.userId);
    fact(facts, 'status', badge(o.status));
    fact(facts, 'total', `${won(o.total)} (subtotal ${won(o.subtotal)}, discount ${won(o.discount)})`);
    fact(facts, 'coupon', o.couponId);
    fact(facts, 'created', when(o.createdAt));
    if (o.cancelledAt) fact(facts, 'cancelled', when(o.cancelledAt));
    const items = $('order-items').tBodies[0];
    clear(items);
    for (const it of o.items) {
      items.appendChild(row([it.productId, it.name, it.quantity, won(it.unitPrice), won(it.amount)]));
    }
    for (const tr of items.rows) for (const i of [2, 3, 4]) tr.cells[i].className = 'num';
    const events = $('order-events').tBodies[0];
    clear(events);
    for (const e of r.doc.events) {
      const state = badge(e.state);
      if (e.purged) state.title = 'delivered, then purged after relay_retention_hours';
      const tr = row([
        e.type,
        state,
        e.attempts,
        { t: e.occurredAt },
        e.claimedBy ? `claimed by ${e.claimedBy} until ${when(e.nextAttemptAt)}` : { t: e.nextAttemptAt },
        e.purged ? 'yes (purged since)' : { t: e.deliveredAt },
        node('span', e.lastError, 'error-text'),
        e.state === 'FAILED' && e.eventId ? button('Replay', () => replay(e.eventId), 'small replay') : '',
      ]);
      tr.cells[2].className = 'num';
      tr.dataset.type = e.type;
      tr.dataset.state = e.state;
      events.appendChild(tr);
    }
    $('order').hidden = false;
  }

  $('lookup-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    lookup($('lookup-id').value.trim());
  });

  async function recent() {
    const r = await call('GET', '/admin/orders?limit=8');
    if (r.status !== 200 || !r.doc) return;
    const body = $('recent').tBodies[0];
    clear(body);
    for (const o of r.doc.items) {
      const tr = row([orderLink(o.orderId), o.userId, badge(o.status), won(o.total), { t: o.createdAt }]);
      tr.cells[3].className = 'num';
      body.appendChild(tr);
    }
    if (!r.doc.items.length) body.appendChild(row(['no orders yet', '', '', '', '']));
  }

  // ---------------------------------------------------------------- popular products

  async function popular() {
    const r = await call('GET', '/products/popular');
    if (r.status !== 200 || !r.doc) return;
    const d = r.doc;
    const facts = $('popular-facts');
    clear(facts);
    fact(facts, 'window', d.from ? `${d.from} – ${d.to} (${d.days} days)` : 'none yet');
    fact(facts, 'computed', d.computedAt ? when(d.computedAt) : 'never');
    fact(facts, 'last success', node('span', '…', 'batch-age'));
    const body = $('popular-items').tBodies[0];
    clear(body);
    for (const it of d.items) {
      const tr = row([it.rank, `${it.name} (#${it.productId})`, it.soldQuantity, it.stock]);
      for (const i of [0, 2, 3]) tr.cells[i].className = 'num';
      body.appendChild(tr);
    }
    $('popular-empty').hidden = d.items.length > 0;
    batchAge();
  }

  // ---------------------------------------------------------------- /metrics

  let lastSamples = [];

  function batchAge() {
    const e = document.querySelector('#popular-facts .batch-age');
    const ts = M.value(lastSamples, 'commerce_popular_last_success_timestamp_seconds');
    if (!e || ts === undefined) return;
    e.textContent = ts > 0 ? `${age(Date.now() / 1000 - ts)} ago` : 'never';
    e.dataset.stale = ts > 0 && Date.now() / 1000 - ts > 26 * 3600 ? 'yes' : 'no';
  }

  function gauges(samples) {
    const g = (state) => M.value(samples, 'commerce_outbox_events', { state });
    const set = (id, v) => {
      $(id).textContent = v === undefined ? '–' : String(v);
    };
    set('ob-due', g('due'));
    set('ob-waiting', g('waiting'));
    set('ob-failed', g('failed'));
    $('ob-failed').dataset.bad = g('failed') > 0 ? 'yes' : 'no';
    const a = M.value(samples, 'commerce_outbox_oldest_pending_age_seconds');
    $('ob-age').textContent = a === undefined ? '–' : a > 0 ? age(a) : 'none';
    const b = samples.find((s) => s.name === 'commerce_build_info');
    if (b) $('build').textContent = `build ${b.labels.version} (${b.labels.revision})`;
    batchAge();
  }

  // One chart's series from the scrapes: fn(a, b, seconds) gives a Map of key to value for
  // the interval between two scrapes; keys picks and names the series shown.
  function seriesOf(fn, keys) {
    const points = new Map();
    for (let i = 1; i < scrapes.length; i++) {
      const a = scrapes[i - 1];
      const b = scrapes[i];
      for (const [k, v] of fn(a.samples, b.samples, (b.t - a.t) / 1000)) {
        if (!points.has(k)) points.set(k, []);
        points.get(k).push([b.t, v]);
      }
    }
    return keys(points).map(([key, name]) => ({ key, name, points: points.get(key) || [] }));
  }

  // The routes busiest over the window, at most TOP_ROUTES.
  function busiest(points) {
    return [...points.entries()]
      .map(([k, p]) => [k, p.reduce((s, [, v]) => s + v, 0)])
      .filter(([, total]) => total > 0)
      .sort((x, y) => y[1] - x[1])
      .slice(0, TOP_ROUTES)
      .map(([k]) => [k, k]);
  }

  function charts() {
    const now = Date.now();
    // the window grows with the page's life, from a minute to SPAN_MS
    const span = Math.min(SPAN_MS, Math.max(60000, now - scrapes[0].t));
    const opts = { now, span, gap: METRICS_MS * 2.5 };
    const reqs = (a, b, s) =>
      M.rates(M.sum(a, 'commerce_http_requests_total', 'route'), M.sum(b, 'commerce_http_requests_total', 'route'), s);
    const rps = seriesOf(reqs, busiest);
    Chart.draw($('chart-rps'), $('legend-rps'), rps, { ...opts, digits: 1, unit: '/s' });
    const routes = new Set(rps.map((s) => s.key));
    const p99 = (a, b) => {
      const q = M.quantiles(a, b, 'commerce_http_request_duration_seconds', 'route', 0.99);
      return new Map([...q].filter(([k]) => routes.has(k)).map(([k, v]) => [k, v * 1000]));
    };
    Chart.draw($('chart-p99'), $('legend-p99'), seriesOf(p99, () => rps.map((s) => [s.key, s.name])), {
      ...opts,
      digits: 1,
      unit: ' ms',
    });
    const outcomes = (a, b, s) => {
      const m = M.rates(M.sum(a, 'commerce_orders_total', 'outcome'), M.sum(b, 'commerce_orders_total', 'outcome'), s);
      const c = M.rates(M.sum(a, 'commerce_order_cancels_total'), M.sum(b, 'commerce_order_cancels_total'), s);
      if (c.has('')) m.set('cancelled', c.get(''));
      return m;
    };
    const names = (points) =>
      [...points.keys()]
        .filter((k) => k === 'paid' || points.get(k).some(([, v]) => v > 0))
        .sort()
        .map((k) => [k, k.replace(/_/g, ' ')]);
    Chart.draw($('chart-orders'), $('legend-orders'), seriesOf(outcomes, names), { ...opts, digits: 1, unit: '/s' });
  }

  async function scrape() {
    try {
      const r = await fetch('/metrics', { cache: 'no-store' });
      if (r.status !== 200) return;
      const samples = M.parse(await r.text());
      const t = Date.now();
      scrapes.push({ t, samples });
      while (scrapes.length && scrapes[0].t < t - SPAN_MS - METRICS_MS) scrapes.shift();
      lastSamples = samples;
      gauges(samples);
      charts();
      $('refreshed').textContent = 'updated ' + new Date(t).toISOString().slice(11, 19) + 'Z';
    } catch (e) {
      $('refreshed').textContent = 'metrics unreachable';
    }
  }

  // ---------------------------------------------------------------- the loops

  async function adminPanels() {
    if (!token) return;
    await outbox(false);
    await recent();
    if (shownOrder) await lookup(shownOrder, true);
  }

  showToken();
  readiness();
  scrape();
  popular();
  adminPanels();
  setInterval(scrape, METRICS_MS);
  setInterval(() => {
    readiness();
    adminPanels();
  }, PANELS_MS);
  setInterval(popular, POPULAR_MS);
})();
