// The demo storefront's behaviour: the session from /shop/session.json (a demo user, the coupon
// to offer, the user's access token), then the API as a shop's front end uses it: products with
// stock, the cart, issuing the coupon, checkout with it (an Idempotency-Key per attempt), the
// user's orders with cancel, the balance with a charge and its history. Every answer is put into
// the page as text, never as markup.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const { node, clear, badge, button, won, send } = window.Page;
  const CALLS_SHOWN = 12;
  let session = null; // {userId, couponId, token}
  let couponDoc = null; // GET /coupons/{id}
  let couponMine = null; // the user's copy (GET /users/{id}/coupons), or null
  let cartDoc = { items: [], subtotal: 0 };
  let productsNext = null;

  // ---------------------------------------------------------------- helpers

  function when(iso) {
    return iso ? iso.replace('T', ' ').replace(/:\d\d\.\d+Z$/, '') : '–';
  }

  function idempotencyKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  }

  function flash(text, kind) {
    const f = $('flash');
    f.textContent = text;
    f.dataset.kind = kind || 'info';
    f.hidden = false;
  }

  // One API call with the session's token; logged in "API calls". A problem+json answer is shown
  // as it is meant to be read: its detail.
  async function api(method, path, body, key) {
    const headers = { Authorization: 'Bearer ' + session.token };
    if (key) headers['Idempotency-Key'] = key;
    const started = performance.now();
    const r = await send(method, path, body, headers);
    logCall(method, path, r.status, performance.now() - started, r.doc);
    if (r.status >= 400) flash(r.doc && r.doc.detail ? `${r.doc.code}: ${r.doc.detail}` : `${method} ${path}: ${r.status}`, 'bad');
    return r;
  }

  function logCall(method, path, status, ms, doc) {
    const body = $('calls').tBodies[0];
    const tr = document.createElement('tr');
    tr.appendChild(node('td', new Date().toISOString().slice(11, 19), 'time'));
    tr.appendChild(node('td', `${method} ${path}`, 'req'));
    const st = node('td', status, 'num status');
    st.dataset.ok = status < 400 ? 'yes' : 'no';
    tr.appendChild(st);
    tr.appendChild(node('td', Math.round(ms), 'num'));
    tr.appendChild(node('td', summarize(doc), 'answer'));
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > CALLS_SHOWN) body.deleteRow(body.rows.length - 1);
  }

  // A few words on an answer, for the calls table.
  function summarize(doc) {
    if (!doc) return '';
    if (doc.code) return doc.code;
    if (doc.orderId) return `order ${doc.orderId} ${doc.status}`;
    if (Array.isArray(doc.items)) return `${doc.items.length} item${doc.items.length === 1 ? '' : 's'}`;
    if (doc.balance !== undefined) return `balance ${won(doc.balance)}`;
    if (doc.couponId) return `coupon ${doc.couponId}${doc.status ? ' ' + doc.status : ''}`;
    return '';
  }

  // ---------------------------------------------------------------- the session

  async function loadSession() {
    const r = await fetch('/shop/session.json', { cache: 'no-store' });
    if (r.status !== 200) {
      $('who').textContent = 'No session: start the dev stack with scripts/dev-up.';
      return false;
    }
    session = await r.json();
    let exp = null;
    try {
      const claims = JSON.parse(atob(session.token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      exp = claims.exp;
    } catch (e) {
      exp = null;
    }
    const until = exp ? new Date(exp * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : 'unknown';
    $('who').textContent = `acting as user ${session.userId} · a development token, valid until ${until}`;
    if (exp && exp * 1000 < Date.now()) flash('The demo token has expired: run scripts/dev-up again.', 'bad');
    return true;
  }

  // ---------------------------------------------------------------- products

  // The catalogue from its start, or after product N for /shop?after=N (the API's own cursor: a
  // link into a long catalogue).
  const startAfter = /^[1-9][0-9]{0,17}$/.test(new URLSearchParams(location.search).get('after') || '')
    ? new URLSearchParams(location.search).get('after')
    : null;

  async function products(more) {
    const after = more ? productsNext : startAfter;
    const r = await api('GET', '/products?limit=12' + (after ? `&after=${after}` : ''));
    if (r.status !== 200) return;
    const list = $('products');
    if (!more) clear(list);
    for (const p of r.doc.items) list.appendChild(productTile(p));
    productsNext = r.doc.next;
    $('products-more').hidden = !productsNext;
  }

  function productTile(p) {
    const li = node('li', null, 'product');
    li.dataset.productId = p.id;
    // a tile's letters: "Product 10" -> P10, "Browser mug" -> BM
    const words = p.name.trim().split(/\s+/);
    const last = words[words.length - 1];
    const initials = (/^\d{1,3}$/.test(last) && words.length > 1 ? words[0].slice(0, 1) + last
      : words.slice(0, 2).map((w) => w.slice(0, 1)).join('')).toUpperCase();
    const art = node('div', initials, `art hue-${p.id % 8}`);
    art.setAttribute('aria-hidden', 'true');
    li.appendChild(art);
    li.appendChild(node('h3', p.name));
    li.appendChild(node('p', won(p.price), 'price'));
    const stock = node('p', p.stock > 0 ? `${p.stock} in stock` : 'sold out', 'stock');
    stock.dataset.out = p.stock > 0 ? 'no' : 'yes';
    li.appendChild(stock);
    const row = node('div', null, 'buy');
    const qty = document.createElement('input');
    qty.type = 'number';
    qty.min = '1';
    qty.max = String(Math.max(1, Math.min(p.stock, 1000)));
    qty.value = '1';
    qty.className = 'qty';
    qty.setAttribute('aria-label', `quantity of ${p.name}`);
    row.appendChild(qty);
    const add = button('Add to cart', () => addToCart(p.id, Number(qty.value)), 'add');
    add.disabled = p.stock === 0;
    row.appendChild(add);
    li.appendChild(row);
    return li;
  }

  async function addToCart(pid, n) {
    if (!(n >= 1)) return;
    const line = cartDoc.items.find((i) => i.productId === pid);
    const r = await api('PUT', `/users/${session.userId}/cart/items/${pid}`, { quantity: (line ? line.quantity : 0) + n });
    if (r.status === 200) {
      showCart(r.doc);
      flash('Added to the cart.', 'ok');
    }
  }

  // ---------------------------------------------------------------- the cart and the coupon

  async function cart() {
    const r = await api('GET', `/users/${session.userId}/cart`);
    if (r.status === 200) showCart(r.doc);
  }

  function showCart(doc) {
    cartDoc = doc;
    const list = $('cart');
    clear(list);
    for (const it of doc.items) {
      const li = node('li', null, 'line');
      li.dataset.productId = it.productId;
      li.appendChild(node('span', it.name, 'name'));
      const qty = document.createElement('input');
      qty.type = 'number';
      qty.min = '1';
      qty.max = '1000';
      qty.value = String(it.quantity);
      qty.className = 'qty';
      qty.setAttribute('aria-label', `quantity of ${it.name}`);
      qty.addEventListener('change', async () => {
        const r = await api('PUT', `/users/${session.userId}/cart/items/${it.productId}`, { quantity: Number(qty.value) });
        if (r.status === 200) showCart(r.doc);
        else cart();
      });
      li.appendChild(qty);
      li.appendChild(node('span', won(it.amount), 'amount'));
      li.appendChild(button('×', async () => {
        const r = await api('DELETE', `/users/${session.userId}/cart/items/${it.productId}`);
        if (r.status === 204) cart();
      }, 'remove'));
      list.appendChild(li);
    }
    $('cart-empty').hidden = doc.items.length > 0;
    totals();
  }

  function discount(subtotal) {
    if (!couponDoc || !couponMine || couponMine.status !== 'AVAILABLE' || !$('use-coupon').checked) return 0;
    const d = couponDoc.type === 'FIXED' ? couponDoc.value : Math.floor((subtotal * couponDoc.value) / 100);
    return Math.min(d, subtotal);
  }

  function totals() {
    const sub = cartDoc.subtotal;
    const d = discount(sub);
    $('subtotal').textContent = won(sub);
    $('discount').textContent = d ? '−' + won(d) : won(0);
    $('total').textContent = won(sub - d);
    $('checkout').disabled = cartDoc.items.length === 0;
  }

  async function coupon() {
    const id = session.couponId;
    const pub = await api('GET', `/coupons/${id}`);
    if (pub.status !== 200) {
      $('coupon').hidden = true;
      return;
    }
    couponDoc = pub.doc;
    const mine = await api('GET', `/users/${session.userId}/coupons`);
    couponMine = mine.status === 200 ? mine.doc.items.find((c) => c.couponId === id) || null : null;
    const off = couponDoc.type === 'FIXED' ? won(couponDoc.value) : `${couponDoc.value} %`;
    $('coupon-name').textContent = `Coupon ${id}: “${couponDoc.name}”, ${off} off`;
    const state = $('coupon-state');
    if (couponMine) {
      state.textContent = couponMine.status === 'USED' ? `yours, used on order ${couponMine.usedOrderId}` : `yours: ${couponMine.status}`;
      state.dataset.state = couponMine.status;
    } else {
      state.textContent = `${couponDoc.remaining} of ${couponDoc.totalQuantity} left, until ${when(couponDoc.expiresAt)}`;
      state.dataset.state = 'OFFERED';
    }
    $('coupon-issue').hidden = !!couponMine;
    $('use-coupon-label').hidden = !(couponMine && couponMine.status === 'AVAILABLE');
    totals();
  }

  $('coupon-issue').addEventListener('click', async () => {
    const r = await api('POST', `/coupons/${session.couponId}/issue`, { userId: session.userId });
    if (r.status === 201) {
      $('use-coupon').checked = true;
      flash('The coupon is yours: it is ticked for checkout.', 'ok');
    }
    coupon();
  });
  $('use-coupon').addEventListener('change', totals);

  $('checkout').addEventListener('click', async () => {
    const b = $('checkout');
    b.disabled = true;
    const use = couponMine && couponMine.status === 'AVAILABLE' && $('use-coupon').checked;
    const r = await api('POST', `/users/${session.userId}/cart/checkout`, use ? { couponId: session.couponId } : {}, idempotencyKey());
    if (r.status === 201) {
      const o = r.doc;
      flash(`Order ${o.orderId} paid: ${won(o.total)}${o.discount ? ` (${won(o.discount)} off with the coupon)` : ''}.`, 'ok');
      $('use-coupon').checked = false;
    }
    await refresh();
  });

  // ---------------------------------------------------------------- orders

  async function orders() {
    const r = await api('GET', `/users/${session.userId}/orders?limit=10`);
    if (r.status !== 200) return;
    const list = $('orders');
    clear(list);
    for (const o of r.doc.items) {
      const li = node('li', null, 'order');
      li.dataset.orderId = o.orderId;
      li.dataset.status = o.status;
      const head = node('div', null, 'order-head');
      head.appendChild(node('span', `Order ${o.orderId}`, 'order-id'));
      head.appendChild(badge(o.status));
      head.appendChild(node('span', when(o.createdAt) + ' UTC', 'order-time'));
      li.appendChild(head);
      li.appendChild(node('p', o.items.map((i) => `${i.quantity} × ${i.name}`).join(', '), 'order-items'));
      const foot = node('div', null, 'order-foot');
      const money = o.discount ? `${won(o.total)} (${won(o.subtotal)} − ${won(o.discount)} coupon)` : won(o.total);
      foot.appendChild(node('span', money, 'order-total'));
      if (o.status === 'PAID') {
        foot.appendChild(button('Cancel', async () => {
          const c = await api('POST', `/orders/${o.orderId}/cancel`);
          if (c.status === 200) flash(`Order ${o.orderId} cancelled: ${won(o.total)} back on the balance.`, 'ok');
          await refresh();
        }, 'cancel secondary'));
      } else if (o.cancelledAt) {
        foot.appendChild(node('span', `cancelled ${when(o.cancelledAt)} UTC`, 'order-time'));
      }
      li.appendChild(foot);
      list.appendChild(li);
    }
    $('orders-empty').hidden = r.doc.items.length > 0;
  }

  // ---------------------------------------------------------------- the balance

  async function balance() {
    const r = await api('GET', `/users/${session.userId}/points`);
    if (r.status === 200) $('balance').textContent = won(r.doc.balance);
    const h = await api('GET', `/users/${session.userId}/points/history?limit=8`);
    if (h.status !== 200) return;
    const body = $('history').tBodies[0];
    clear(body);
    for (const e of h.doc.items) {
      const tr = document.createElement('tr');
      tr.dataset.type = e.type;
      const time = node('td', when(e.createdAt).slice(5), 'time');
      time.title = e.createdAt;
      tr.appendChild(time);
      tr.appendChild(node('td', e.orderId ? `${e.type.toLowerCase()}, order ${e.orderId}` : e.type.toLowerCase(), 'what'));
      tr.appendChild(node('td', (e.type === 'USE' ? '−' : '+') + won(e.amount), 'num'));
      tr.appendChild(node('td', won(e.balanceAfter), 'num'));
      body.appendChild(tr);
    }
    $('history-empty').hidden = h.doc.items.length > 0;
  }

  $('charge').addEventListener('click', async () => {
    const r = await api('POST', `/users/${session.userId}/points/charge`, { amount: 10000 }, idempotencyKey());
    if (r.status === 200) flash(`Charged ${won(r.doc.charged)}.`, 'ok');
    await balance();
  });

  $('products-more').addEventListener('click', () => products(true));

  async function refresh() {
    await Promise.all([products(false), cart(), orders(), balance()]);
    await coupon();
  }

  loadSession().then((ok) => {
    if (ok) refresh();
  });
})();
