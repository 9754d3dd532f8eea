// What the operator console and the demo storefront (www/shop, which nginx serves this file to
// as /shop/page.js) share: building the page out of the service's answers, always as text,
// never as markup, and reading an answer's JSON.
'use strict';
(function (root) {
  // node(tag, text, cls): an element holding text (null: none), of class cls.
  function node(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
  }

  // A state (PAID, DELIVERED, …) as a badge its stylesheet colours by data-state.
  function badge(state) {
    const b = node('span', state, 'badge');
    b.dataset.state = state;
    return b;
  }

  function button(label, onClick, cls) {
    const b = node('button', label, cls);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  // An amount of won as people read it: "12,500 ₩" ("–" for none).
  function won(n) {
    return n === null || n === undefined ? '–' : n.toLocaleString('en-US') + ' ₩';
  }

  // The JSON of a fetch response, read to its end; null when it has none.
  async function answer(r) {
    const text = await r.text();
    try {
      return text ? JSON.parse(text) : null;
    } catch (e) {
      return null;
    }
  }

  // send(method, path, body, headers): one request to this site's API, body (when given) sent as
  // JSON, never cached, no cookies, no referrer: {status, doc} (doc: the answer's JSON or null).
  async function send(method, path, body, headers) {
    const h = { Accept: 'application/json', ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const r = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    return { status: r.status, doc: await answer(r) };
  }

  root.Page = { node, clear, badge, button, won, answer, send };
})(window);
