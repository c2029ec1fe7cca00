// Generate step by step: the next-token candidates after temperature, top-k and top-p; pick one (click) or sample
// (seeded); the maps grow by a row per step, and the KV cache's reused rows and newly computed rows are marked.
import { postJson } from '../api.js';
import { ZoomMap, fmt, printable } from '../heatmap.js';
import { h, headSelector, numberInput } from './common.js';

let session = null, rows = null, last = null;

/** Appends a step's new attention rows (L, H, n, Tk) to the rows kept from earlier steps. */
function accumulate(r) {
  const L = r.layers, H = r.heads, n = r.new, Tk = r.ids.length;
  if (!rows || r.reused === 0 || r.session !== session?.id) rows = [...Array(L * H)].map(() => []);
  if (n > 0 && rows[0].length + n === Tk)
    for (let lh = 0; lh < L * H; lh++) for (let i = 0; i < n; i++) rows[lh].push(r.rows.slice((lh * n + i) * Tk, (lh * n + i + 1) * Tk));
  session = { id: r.session, model: r.model };
}

export const generateView = {
  async render(app, el, alive) {
    const info = app.modelInfo;
    const opts = { temperature: app.num('temperature', 1), top_k: app.int('top_k', 0), top_p: app.num('top_p', 1), seed: app.int('seed', 1337) };
    let r = await postJson('/api/generate', { ...app.input(), ...opts, session: session?.model === app.get('model') ? session.id : null, candidates: 20 });
    if (!alive()) return;
    // ?steps=N replays N sampled steps on load (the seed makes them the same every time), so a link can show a run
    for (let k = app.int('steps', 0); k > 0 && !r.full; k--) {
      accumulate(r);
      const ids = [...r.ids, r.sampled];
      app.set({ ids: ids.join(','), text: null, steps: k - 1 || null });
      r = await postJson('/api/generate', { model: r.model, ids, ...opts, session: r.session, candidates: 20 });
      if (!alive()) return;
    }
    accumulate(r);
    const L = r.layers, H = r.heads, n = r.new, Tk = r.ids.length;
    last = { r, rows, opts };
    const layer = app.int('layer', 0) % L, head = app.int('head', 0) % H;
    const pick = id => { app.set({ ids: [...r.ids, id].join(','), text: null }); app.go('generate'); };
    const maxP = r.candidates[0]?.probability || 1;
    const table = h('table', { class: 'cands', id: 'candidates' }, h('tr', {}, h('th', {}, 'token'), h('th', {}, 'p (after τ, top-k, top-p)'), h('th', {}, 'raw softmax')),
      ...r.candidates.map(c => h('tr', { onclick: () => pick(c.id), 'data-id': c.id, title: 'click to append this token' },
        h('td', { class: 'token' }, printable(c.token)),
        h('td', {}, h('span', { class: 'bar', style: `width:${(c.probability / maxP) * 160}px` }), ` ${(c.probability * 100).toFixed(1)}%`),
        h('td', {}, `${(c.raw * 100).toFixed(2)}%`))));
    const T = rows[layer * H + head].length;
    const values = new Float32Array(T * Tk);
    rows[layer * H + head].forEach((row, i) => values.set(row, i * Tk));
    const canvas = h('canvas', { id: 'generate-map' });
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, 'Next token'),
        h('div', { class: 'controls' },
          numberInput('temperature', opts.temperature, v => app.go('generate', { temperature: v }), { min: 0, max: 10, step: 0.1, name: 'temperature' }),
          numberInput('top-k', opts.top_k, v => app.go('generate', { top_k: v || null }), { min: 0, step: 1, name: 'top_k' }),
          numberInput('top-p', opts.top_p, v => app.go('generate', { top_p: v }), { min: 0.01, max: 1, step: 0.05, name: 'top_p' }),
          numberInput('seed', opts.seed, v => app.go('generate', { seed: v }), { min: 0, step: 1, name: 'seed' })),
        h('div', { class: 'controls' },
          h('button', { class: 'primary', id: 'sample', disabled: r.full, onclick: () => pick(r.sampled) }, `sample → ${JSON.stringify(r.sampled_token)}`),
          h('button', { id: 'back', disabled: r.ids.length <= 1, onclick: () => { app.set({ ids: r.ids.slice(0, -1).join(','), text: null }); app.go('generate'); } }, 'back one token')),
        h('p', { class: 'note' }, `${r.kept} token(s) kept by top-k/top-p; temperature 0 = greedy. Click a row to pick it.`), table),
      h('div', { class: 'panel' }, h('h2', {}, 'The sequence and its attention'),
        h('p', { class: 'token', id: 'generated', style: 'max-width:560px; white-space:pre-wrap' }, r.tokens.join('')),
        h('div', { class: 'controls' }, ...headSelector(app, L, H, (l, hd) => app.go('generate', { layer: l, head: hd }))),
        h('div', { class: 'legend' }, h('span', {}, h('i', { style: 'background:#98a2b3' }), `${r.reused} rows reused from the KV cache`),
          h('span', {}, h('i', { style: 'background:#f79009' }), `${n} new row(s) computed this step`)),
        h('p', { class: 'note' }, 'Each step runs only the new token: its query attends to every cached key and value (the rows above were computed in earlier steps and are not recomputed).'),
        canvas)));
    new ZoomMap(canvas, { values, rows: T, cols: Tk, rowLabels: r.tokens, colLabels: r.tokens, size: 440,
      describe: (i, j, v) => `query ${i} ${JSON.stringify(r.tokens[i])} → key ${j} ${JSON.stringify(r.tokens[j])}: ${fmt(v)}${i >= T - n ? ' (new)' : ' (cached step)'}`,
      marks: (ctx, x, y, s) => {
        ctx.lineWidth = 2;
        ctx.strokeStyle = '#98a2b3'; if (T - n > 0) ctx.strokeRect(x - 1, y, 3, (T - n) * s);
        ctx.strokeStyle = '#f79009'; ctx.strokeRect(x, y + (T - n) * s, Tk * s, n * s);
      } });
  },
  figure(app) {
    const { r, rows: rr } = last, H = r.heads, layer = app.int('layer', 0) % r.layers, head = app.int('head', 0) % H;
    const T = rr[layer * H + head].length, Tk = r.ids.length, values = new Float32Array(T * Tk);
    rr[layer * H + head].forEach((row, i) => values.set(row, i * Tk));
    return {
      title: `Generation step — ${r.model}`, subtitle: `${r.reused} cached rows reused, ${r.new} new; next candidates after temperature/top-k/top-p`,
      width: 900, height: 520,
      items: [{ type: 'map', x: 80, y: 90, size: 380, values, rows: T, cols: Tk, rowLabels: r.tokens, title: `layer ${layer} head ${head}` },
        { type: 'bars', x: 500, y: 100, w: 260, title: 'candidates', rows: r.candidates.slice(0, 15).map(c => ({ label: c.token, value: c.probability, text: `${(c.probability * 100).toFixed(1)}%` })) }],
    };
  },
  data() { const { r } = last; return { model: r.model, ids: r.ids, tokens: r.tokens, candidates: r.candidates, reused: r.reused, new: r.new, sampled: r.sampled }; },
};
