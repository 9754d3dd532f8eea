// A small SVG line chart for the console's live figures: one line per series over a sliding
// time window, a y axis from 0 to a round maximum, and a legend with each series' last value.
// Drawn with DOM calls only (the page's Content-Security-Policy allows no inline style).
'use strict';
(function (root) {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 360;
  const H = 180;
  const PAD = { left: 44, right: 10, top: 10, bottom: 24 };
  const PALETTE = ['#1f6fb2', '#c05621', '#2f855a', '#805ad5', '#b83280', '#2c7a7b', '#975a16', '#4a5568'];
  const colors = new Map(); // a series keeps its colour for the page's life

  function colorOf(key) {
    if (!colors.has(key)) colors.set(key, PALETTE[colors.size % PALETTE.length]);
    return colors.get(key);
  }

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (parent) parent.appendChild(e);
    return e;
  }

  // A round upper bound at or above v: 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function fmt(v, digits) {
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + 'k';
    return v.toFixed(v >= 100 ? 0 : digits);
  }

  // draw(svg, legend, series, opts): series [{key, name, points: [[ms, value]...]}];
  // opts {now, span (ms, the window shown), gap (ms: a longer pause breaks the line), digits,
// unit}. Each series' group carries data-key and data-max (its highest value shown); the svg
// carries data-points (how many points are drawn).
  function draw(svg, legend, series, opts) {
    const digits = opts.digits === undefined ? 1 : opts.digits;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const x0 = opts.now - opts.span;
    let max = 0;
    for (const s of series) for (const [, v] of s.points) max = Math.max(max, v);
    const top = niceMax(max);
    const px = (t) => PAD.left + ((t - x0) / opts.span) * (W - PAD.left - PAD.right);
    const py = (v) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);

    const axes = el('g', { class: 'axes' }, svg);
    // round steps: a top of 5 in fifths, of 1 or 2 in quarters (0.25, 0.5, 2.5 … as written)
    const lead = Math.round(top / 10 ** Math.floor(Math.log10(top)));
    const steps = lead === 5 ? 5 : 4;
    const ystep = top / steps;
    const places = [0, 1, 2].find((d) => Math.abs(Math.round(ystep * 10 ** d) - ystep * 10 ** d) < 1e-9) ?? 3;
    for (let i = 0; i <= steps; i++) {
      const v = ystep * i;
      el('line', { x1: PAD.left, x2: W - PAD.right, y1: py(v), y2: py(v), class: i ? 'gridline' : 'baseline' }, axes);
      const t = el('text', { x: PAD.left - 6, y: py(v) + 4, 'text-anchor': 'end', class: 'tick' }, axes);
      t.textContent = fmt(v, places);
    }
    // time ticks back from now, at most 6 of them
    const step = [10, 15, 30, 60, 120].map((x) => x * 1000).find((x) => opts.span / x <= 6) || 300000;
    for (let back = 0; back <= opts.span + 1; back += step) {
      const label = back === 0 ? 'now' : back % 60000 ? `-${back / 1000}s` : `-${back / 60000}m`;
      const anchor = back === 0 ? 'end' : back + step > opts.span + 1 ? 'start' : 'middle';
      el('text', { x: px(opts.now - back), y: H - 6, 'text-anchor': anchor, class: 'tick' }, axes).textContent = label;
    }

    let plotted = 0;
    while (legend.firstChild) legend.removeChild(legend.firstChild);
    for (const s of series) {
      const color = colorOf(s.key);
      const pts = s.points.filter(([t]) => t >= x0);
      const top = pts.reduce((m, [, v]) => Math.max(m, v), 0);
      const g = el('g', { class: 'series', 'data-key': s.key, 'data-max': top }, svg);
      let run = [];
      const flush = () => {
        if (run.length > 1) el('polyline', { points: run.join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-linejoin': 'round' }, g);
        if (run.length === 1) el('circle', { cx: run[0].split(',')[0], cy: run[0].split(',')[1], r: 2, fill: color }, g);
        run = [];
      };
      pts.forEach(([t, v], i) => {
        if (i > 0 && t - pts[i - 1][0] > opts.gap) flush();
        run.push(`${px(t).toFixed(1)},${py(v).toFixed(1)}`);
        plotted++;
      });
      flush();
      const li = document.createElement('li');
      const sw = el('svg', { width: 12, height: 12, viewBox: '0 0 12 12', 'aria-hidden': 'true' });
      el('rect', { x: 1, y: 1, width: 10, height: 10, rx: 2, fill: color }, sw);
      li.appendChild(sw);
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = s.name;
      li.appendChild(name);
      const last = document.createElement('span');
      last.className = 'value';
      const lp = pts[pts.length - 1];
      last.textContent = lp && opts.now - lp[0] <= opts.gap ? fmt(lp[1], digits) + (opts.unit || '') : '–';
      li.appendChild(last);
      legend.appendChild(li);
    }
    if (!series.length) {
      const li = document.createElement('li');
      li.className = 'none';
      li.textContent = 'nothing yet';
      legend.appendChild(li);
    }
    svg.setAttribute('data-points', String(plotted));
  }

  root.CommerceChart = { draw };
})(window);
