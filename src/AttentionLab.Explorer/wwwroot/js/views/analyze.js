// Analyze: the interpretability methods of `attnlab analyze` on the page — logit lens, activation patching, direct
// logit attribution, head ablation, induction heads, the neuron view and attention sinks. Every setting is in the URL
// (method, token, other, target, corrupt, site, kind, layer, head, query, key, period); the library computes (POST
// /api/analyze, streamed: a sweep's progress shows while it runs) and this view draws a map of the numbers.
import { divergingColor, fmt, printable } from '../heatmap.js';
import { h, select } from './common.js';

let last = null;

const METHODS = [
  ['lens', 'logit lens'], ['patch', 'activation patching'], ['attribute', 'direct logit attribution'], ['ablate', 'head ablation'],
  ['induction', 'induction heads'], ['neuron', 'neuron view (q ∘ k)'], ['sinks', 'attention sinks'],
];
const NOTES = {
  lens: 'Each layer\'s residual stream read through the model\'s own final norm and unembedding: the probability of the target (or of the top token) at every position. The last row is the model\'s output.',
  patch: 'The clean run\'s activation copied into the corrupted run, one cell at a time: the fraction of the clean metric it brings back (1 = all of it, 0 = none).',
  attribute: 'What each head and MLP writes straight into the logit difference through the unembedding, with the final norm\'s scale frozen (direct effect only). The terms, embeddings and biases included, sum to the total.',
  ablate: 'The change in loss when one head\'s output is replaced by zero or by its mean: how much the model needs that head here.',
  induction: 'Random tokens repeated twice: each head\'s attention from a second-copy token to the token after its earlier copy (1 = a perfect induction head).',
  neuron: 'The score of one query–key pair, dimension by dimension: q ∘ k, before and after the 1/√D scale. Their sum is the score softmax reads.',
  sinks: 'Each head\'s mean weight on the first token; and what changes when no later query may attend to it.',
};

/** POST with "stream": true: calls onProgress for each progress line, returns the result (or throws the error). */
async function postStream(url, body, onProgress) {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  if (!r.ok) {
    let message = `${r.status} ${r.statusText}`;
    try { const b = await r.json(); if (b.error) message = b.error; } catch { /* not JSON */ }
    throw new Error(message);
  }
  const reader = r.body.getReader(), decoder = new TextDecoder();
  let buffer = '', result = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, nl)); buffer = buffer.slice(nl + 1);
      if (line.progress) onProgress(line.progress);
      else if (line.error) throw new Error(line.error);
      else if (line.result) result = line.result;
    }
    if (done) break;
  }
  if (!result) throw new Error('the analysis ended without a result');
  return result;
}

/** The (rows, columns, values, limit, title) a method's answer is drawn as. */
function mapOf(r) {
  if (r.method === 'lens') {
    const T = r.tokens.length, values = r.stages.flatMap((_, s) => [...Array(T).keys()].map(p => {
      const c = r.cells[s * T + p]; return r.target ? c.target_p : c.top[0].p;
    }));
    return { rows: r.stages, cols: r.tokens, values, limit: 1, title: r.target ? `p(${JSON.stringify(r.target)}) at each layer and position` : 'top-1 probability at each layer and position',
      cellText: (i, j) => { const c = r.cells[i * T + j]; return `${printable(c.top[0].text)} ${fmt(c.top[0].p, 2)}`; } };
  }
  if (r.method === 'neuron') {
    const D = r.products.length;
    return { rows: ['q', 'k', 'q∘k', 'q∘k·scale'], cols: [...Array(D).keys()].map(String), values: [...r.q, ...r.k, ...r.products, ...r.scaled],
      limit: Math.max(...[...r.q, ...r.k].map(Math.abs), 1e-9), title: `head ${r.layer}.${r.head}: query ${r.query} → key ${r.key}, score ${fmt(r.score, 4)} = Σ q∘k · ${fmt(r.scale, 4)}` };
  }
  const grid = r.method === 'induction' ? r.induction : r.recovered ?? r.values;
  const cols = r.columns ?? grid[0].map((_, j) => `H${j}`);
  const values = grid.flat();
  const limit = r.method === 'patch' || r.method === 'induction' || r.method === 'sinks' ? 1 : Math.max(...values.map(v => Math.abs(v ?? 0)), 1e-9);
  const titles = { patch: `recovered fraction of ${r.metric} (${r.site})`, attribute: `direct attribution of ${r.metric}: total ${fmt(r.total, 4)}`,
    ablate: `${r.kind} ablation: change in loss (as trained ${fmt(r.base_loss, 4)})`, induction: `induction score (period ${r.period})`, sinks: 'mean weight on the first token' };
  return { rows: r.rows ?? grid.map((_, l) => `blocks.${l}`), cols, values, limit, title: titles[r.method] };
}

function summary(r) {
  if (r.method === 'patch') return `clean ${fmt(r.clean_metric, 4)}, corrupted ${fmt(r.corrupted_metric, 4)}`;
  if (r.method === 'attribute') return `Σ terms ${fmt(r.sum, 4)} = total ${fmt(r.total, 4)}; largest: ${[...r.terms].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, 4).map(t => `${t.name} ${fmt(t.value, 3)}`).join(', ')}`;
  if (r.method === 'induction') return `loss on the first copy ${fmt(r.first_half_loss, 3)}, on the second ${fmt(r.second_half_loss, 3)}; top head ${r.top.layer}.${r.top.head} (${fmt(r.top.score, 3)}): second copy's loss without it ${fmt(r.top.second_half_loss_without, 3)}`;
  if (r.method === 'sinks') return `with the first key removed: loss ${fmt(r.loss, 4)} → ${fmt(r.loss_without_first_key, 4)}; top token unchanged at ${r.same_top} of ${r.tokens.length - 1} positions`;
  if (r.method === 'neuron') return `raw score ${fmt(r.raw_score, 4)}; weight on this key after softmax ${fmt(r.weights[r.key], 4)}`;
  return '';
}

function field(app, name, label, placeholder) {
  const input = h('input', { type: 'text', name, value: app.get(name, ''), placeholder, spellcheck: 'false' });
  input.onchange = () => app.go('analyze', { [name]: input.value === '' ? null : input.value });
  return h('label', {}, label, input);
}

export const analyzeView = {
  async render(app, el, alive) {
    const method = METHODS.some(([m]) => m === app.get('method')) ? app.get('method') : 'lens';
    const body = { ...app.input(), method };
    const controls = [select('method', METHODS, method, v => app.go('analyze', { method: v }))];
    const tokenField = (name, label, placeholder) => {
      const v = app.get(name);
      if (v !== null) { if (/^#\d+$/.test(v)) body[`${name}_id`] = Number(v.slice(1)); else body[name] = v; }
      controls.push(field(app, name, label, placeholder));
    };
    if (method === 'lens') tokenField('target', 'target', 'a token, or #id');
    if (method === 'patch' || method === 'attribute') { tokenField('token', 'token', 'e.g. " Mary" or #5'); tokenField('other', 'minus', 'optional: " John"'); }
    if (method === 'patch') {
      if (app.get('corrupt') !== null) body.corrupt = app.get('corrupt');
      controls.push(field(app, 'corrupt', 'corrupted text', 'same length as the text'));
      body.site = app.get('site', 'z');
      controls.push(select('site', [['z', 'heads (z)'], ['resid', 'resid_pre'], ['attn', 'attn_out'], ['mlp', 'mlp_out']], body.site, v => app.go('analyze', { site: v })));
    }
    if (method === 'ablate') { body.kind = app.get('kind', 'zero'); controls.push(select('kind', [['zero', 'zero'], ['mean', 'mean']], body.kind, v => app.go('analyze', { kind: v }))); }
    if (method === 'induction') body.period = app.int('period', Math.min(24, Math.floor((app.modelInfo?.context ?? 48) / 2)));
    if (method === 'neuron') for (const k of ['layer', 'head', 'query', 'key']) if (app.get(k) !== null) body[k] = app.int(k, 0);
    if (method === 'neuron') for (const k of ['layer', 'head', 'query', 'key']) {
      const input = h('input', { type: 'number', name: k, value: app.get(k, ''), min: 0, style: 'width:4em' });
      input.onchange = () => app.go('analyze', { [k]: input.value === '' ? null : input.value });
      controls.push(h('label', {}, k, input));
    }
    const progress = h('div', { id: 'analyze-progress', class: 'note' }, '');
    el.replaceChildren(h('div', { class: 'panel' }, h('div', { class: 'kv', id: 'analyze-controls' }, ...controls), h('p', { class: 'note' }, NOTES[method]), progress));
    const r = await postStream('/api/analyze', body, p => {
      progress.textContent = `${p.done} / ${p.total} passes`;
      progress.dataset.done = p.done; progress.dataset.total = p.total;
    });
    if (!alive()) return;
    const m = mapOf(r);
    last = { r, m };
    const table = h('table', { class: 'roles', id: 'analyze-map', 'data-method': method },
      h('tr', {}, h('th', {}, ''), ...m.cols.map(c => h('th', {}, printable(c)))));
    m.rows.forEach((row, i) => table.append(h('tr', {}, h('th', {}, row), ...m.cols.map((_, j) => {
      const v = m.values[i * m.cols.length + j];
      const [R, G, B] = v === null || v === undefined ? [228, 231, 236] : divergingColor(v, m.limit);
      return h('td', { 'data-row': i, 'data-col': j, 'data-value': v ?? '', style: `background: rgb(${R},${G},${B}); color: ${Math.abs(v ?? 0) > 0.6 * m.limit ? '#fff' : '#1d2433'}`,
        title: `${row}, ${printable(m.cols[j])}: ${fmt(v, 4)}` }, m.cellText ? m.cellText(i, j) : fmt(v, 2));
    }))));
    el.replaceChildren(h('div', { class: 'panel' }, h('div', { class: 'kv', id: 'analyze-controls' }, ...controls), h('p', { class: 'note' }, NOTES[method]), progress),
      h('div', { class: 'panel' }, h('h2', {}, m.title), h('p', { id: 'analyze-summary' }, summary(r)), h('div', { style: 'overflow:auto' }, table)));
  },
  figure() {
    const { r, m } = last;
    const cell = Math.max(8, Math.min(40, Math.floor(720 / Math.max(m.cols.length, 1)))), w = cell * m.cols.length, hh = cell * m.rows.length;
    return {
      title: `${METHODS.find(([k]) => k === r.method)[1]} — ${r.model}`, subtitle: `${m.title}. ${summary(r)}`.slice(0, 160),
      width: Math.max(640, w + 220), height: hh + 200,
      items: [{ type: 'map', x: 150, y: 70, w, h: hh, rows: m.rows.length, cols: m.cols.length, values: m.values, color: 'diverging', limit: m.limit,
        rowLabels: m.rows, colLabels: m.cols, title: `blue −${fmt(m.limit, 3)} · white 0 · red +${fmt(m.limit, 3)}` }],
    };
  },
  data() { return { ...last.r }; },
};
