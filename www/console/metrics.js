// The console's reading of GET /metrics (Prometheus text format 0.0.4): the samples of one
// scrape, and what two scrapes a few seconds apart say: rates of counters and quantiles of
// histograms over the interval, computed as Prometheus's rate() and histogram_quantile() do.
'use strict';
(function (root) {
  const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
  const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

  function number(text) {
    if (text === '+Inf') return Infinity;
    if (text === '-Inf') return -Infinity;
    return Number(text);
  }

  // parse(text): [{name, labels: {k: v}, value}] of every sample line.
  function parse(text) {
    const out = [];
    for (const line of text.split('\n')) {
      if (!line || line[0] === '#') continue;
      const m = LINE.exec(line.trim());
      if (!m) continue;
      const labels = {};
      for (const l of (m[2] || '').matchAll(LABEL)) {
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
      out.push({ name: m[1], labels, value: number(m[3]) });
    }
    return out;
  }

  // sum(samples, name, by): Map of the label `by`'s value to the sum of name's samples.
  function sum(samples, name, by) {
    const m = new Map();
    for (const s of samples) {
      if (s.name !== name) continue;
      const k = by ? s.labels[by] : '';
      m.set(k, (m.get(k) || 0) + s.value);
    }
    return m;
  }

  // value(samples, name, labels): the one sample of name with these labels, or undefined.
  function value(samples, name, labels) {
    const want = Object.entries(labels || {});
    const s = samples.find((x) => x.name === name && want.every(([k, v]) => x.labels[k] === v));
    return s ? s.value : undefined;
  }

  // rates(a, b, seconds): Map of key to (b - a) / seconds for the keys of both (a counter that
  // went down was reset: that key is left out, as Prometheus leaves out the reset's interval).
  function rates(a, b, seconds) {
    const m = new Map();
    for (const [k, v] of b) {
      if (a.has(k) && v >= a.get(k) && seconds > 0) m.set(k, (v - a.get(k)) / seconds);
    }
    return m;
  }

  // quantile(q, buckets): buckets [[le, cumulative count]] ascending, +Inf last; the q-quantile
  // by linear interpolation inside its bucket (histogram_quantile), NaN without observations.
  function quantile(q, buckets) {
    if (!buckets.length) return NaN;
    const total = buckets[buckets.length - 1][1];
    if (!(total > 0)) return NaN;
    const rank = q * total;
    let prevLe = 0;
    let prevCount = 0;
    for (const [le, count] of buckets) {
      if (count >= rank) {
        if (le === Infinity) return prevLe; // beyond the last finite bound: its bound
        const inBucket = count - prevCount;
        return inBucket > 0 ? prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket : le;
      }
      prevLe = le;
      prevCount = count;
    }
    return prevLe;
  }

  // The buckets of a histogram per value of the label `by`: Map of key to Map of le to count.
  function buckets(samples, name, by) {
    const m = new Map();
    for (const s of samples) {
      if (s.name !== name + '_bucket') continue;
      const k = s.labels[by];
      if (!m.has(k)) m.set(k, new Map());
      const le = number(s.labels.le);
      m.get(k).set(le, (m.get(k).get(le) || 0) + s.value);
    }
    return m;
  }

  // quantiles(a, b, name, by, q): Map of key to the q-quantile of the observations made between
  // scrapes a and b (the buckets' differences); keys without any are left out.
  function quantiles(a, b, name, by, q) {
    const before = buckets(a, name, by);
    const out = new Map();
    for (const [k, now] of buckets(b, name, by)) {
      const was = before.get(k) || new Map();
      const diff = [...now.entries()]
        .map(([le, c]) => [le, c - (was.get(le) || 0)])
        .sort((x, y) => x[0] - y[0]);
      if (diff.some(([, c]) => c < 0)) continue; // reset
      const v = quantile(q, diff);
      if (!Number.isNaN(v)) out.set(k, v);
    }
    return out;
  }

  root.CommerceMetrics = { parse, sum, value, rates, quantile, quantiles };
})(window);
