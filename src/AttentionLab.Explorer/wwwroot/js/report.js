// One report for every model kind. A report is what the model read and answered plus its attention as groups
// (the library's AttentionGroup): GPT-2 has one, "decoder" (its causal self-attention); BERT and ViT one,
// "encoder"; an encoder-decoder three, "encoder", "decoder" and "cross" (decoder queries over encoder keys, a
// rectangle). The views draw whatever groups a report has. GPT-2 comes through its fast path, POST /api/maps
// (max-pooled thumbnails of every head and the full maps of one layer); the other kinds through POST /api/inspect
// (the JSON `attnlab inspect --model DIR --json` prints: every map in full). Both become the same object:
//   { kind, model, input, output, groups: [group], ... }
//   group = { name, kind, title, layers: L, heads: H, rows: Tq, cols: Tk, queries, keys, roleSet,
//             roles (L·H, layer-major), full(l), map(l, h) → (Tq·Tk), thumb(l, h) → {values, rows, cols}, entropy(l, h) }
import { postJson } from './api.js';
import { h, select } from './views/common.js';

const TITLES = { encoder_self: 'encoder self-attention', decoder_self: 'decoder self-attention', cross: 'cross-attention (decoder → encoder)' };
export const groupTitle = group => TITLES[group.kind] ?? group.kind;

/** Why a view is not offered for a kind of model (one line, shown in the page). */
export function unavailable(kind, view) {
  const what = { seq2seq: 'an encoder-decoder', bert: 'a BERT encoder', vit: 'a vision transformer' }[kind] ?? `a ${kind} model`;
  const why = {
    step: 'the step-by-step head reads the q, k and v of a GPT-2 layer (HeadProbe)',
    intervene: 'zeroing heads and hiding tokens act on a GPT-2 forward pass',
    generate: kind === 'seq2seq' ? 'this model decodes greedily: its answer and the cross-attention over it are in the Model view'
      : kind === 'bert' ? 'a BERT model fills in [MASK] blanks, it does not generate left to right (see its predictions in the Model view)'
        : 'a ViT classifies one image, it does not generate tokens',
    playground: 'the mask and kernel playground runs the q, k and v of a GPT-2 head',
    compare: 'Compare puts two GPT-2 models side by side',
  }[view] ?? 'this view needs a GPT-2 model';
  return `Not available for ${what}: ${why}.`;
}

/** The report of the current input, whatever the model. */
export async function report(app) {
  return app.kind === 'gpt2' ? fromMaps(await app.maps()) : inspect(app);
}

/** GPT-2: the header and floats of POST /api/maps as a report with one group. */
function fromMaps(m) {
  const { layers: L, heads: H, length: T, side: S } = m;
  const g = m.groups?.[0] ?? { name: 'decoder', kind: m.causal ? 'decoder_self' : 'encoder_self' };
  const group = {
    name: g.name, kind: g.kind, layers: L, heads: H, rows: T, cols: T, queries: m.tokens, keys: m.tokens, roleSet: 'gpt2',
    roles: m.roles, sinkThreshold: m.sink_threshold,
    full: l => l === m.layer,
    map(l, hd) { if (l !== m.layer) throw new Error(`the maps of layer ${l} were not fetched (layer ${m.layer} was)`); return m.map(hd); },
    thumb: (l, hd) => ({ values: m.thumb(l, hd), rows: S, cols: S }),
    entropy: (l, hd) => m.entropy[l * H + hd],
  };
  return { kind: 'gpt2', model: m.model, input: m.tokens.join(''), output: m.next[0]?.token ?? '', tokens: m.tokens, ids: m.ids,
    next: m.next, loss: m.loss, kernel: m.kernel, exact: m.exact, side: S, layer: m.layer, groups: [group] };
}

/** The request for a seq2seq, BERT or ViT input: "text" (a source, a text with [MASK] blanks, or index:N), "target", "image". */
function inspectInput(app) {
  const body = { model: app.get('model') };
  if (app.get('text')) body.text = app.get('text');
  if (app.get('target') !== null && app.kind === 'seq2seq') body.target = app.get('target');
  if (app.get('image') !== null && app.kind === 'vit' && !body.text) body.image = app.int('image', 0);
  const kernel = app.get('attention'); if (kernel) body.attention = kernel;
  return body;
}

/** POST /api/inspect, fetched once per input and kept (a few, most recent). */
const cache = new Map();
function inspect(app) {
  const body = inspectInput(app), key = JSON.stringify(body);
  if (!cache.has(key)) {
    const p = postJson('/api/inspect', body).then(r => fromInspect(r, body.model));
    cache.set(key, p);
    p.catch(() => cache.delete(key));
    if (cache.size > 12) cache.delete(cache.keys().next().value);
  }
  return cache.get(key);
}

/** The report's JSON as groups: each map's weights flattened into one Float32Array (H·Tq·Tk), its heads' roles kept. */
function fromInspect(r, model) {
  const maps = r.attention.map(m => {
    const Tq = m.query_labels.length, Tk = m.key_labels.length, H = m.heads, w = new Float32Array(H * Tq * Tk);
    m.weights.forEach((head, hd) => head.forEach((row, i) => w.set(row, (hd * Tq + i) * Tk)));
    return { kind: m.kind, layer: m.layer, heads: H, rows: Tq, cols: Tk, queries: m.query_labels, keys: m.key_labels, roles: m.roles,
      head: hd => w.subarray(hd * Tq * Tk, (hd + 1) * Tq * Tk) };
  });
  const groups = r.groups.map(g => {
    const ms = maps.filter(m => m.kind === g.kind).sort((a, b) => a.layer - b.layer), { heads: H, rows, cols, queries, keys } = ms[0];
    return { name: g.name, kind: g.kind, layers: ms.length, heads: H, rows, cols, queries, keys, roleSet: g.kind === 'cross' ? 'cross' : 'self',
      roles: ms.flatMap(m => m.roles.map(s => ({ ...s, layer: m.layer }))),
      full: () => true, map: (l, hd) => ms[l].head(hd), thumb: (l, hd) => ({ values: ms[l].head(hd), rows, cols }),
      entropy: (l, hd) => ms[l].roles[hd].entropy };
  });
  return { kind: r.model_type, model, input: r.input, output: r.output, extra: r.extra, groups };
}

/** The chosen group (URL group=encoder|decoder|cross, or its kind; default: cross when there is one, else the first). */
export function currentGroup(app, rep) {
  const asked = app.get('group');
  return rep.groups.find(g => g.name === asked || g.kind === asked) ?? rep.groups.find(g => g.name === 'cross') ?? rep.groups[0];
}

/** (Tq, Tk) mean over the given heads of layer l. */
export function meanOver(group, l, list) {
  const out = new Float32Array(group.rows * group.cols);
  for (const hd of list) { const a = group.map(l, hd); for (let i = 0; i < out.length; i++) out[i] += a[i] / list.length; }
  return out;
}

/** Mean row entropy in nats of a (Tq, Tk) map (0 = every query on one key). */
export function meanEntropy(values, rows, cols) {
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let e = 0;
    for (let j = 0; j < cols; j++) { const p = values[i * cols + j]; if (p > 0) e -= p * Math.log(p); }
    total += e;
  }
  return total / rows;
}

/** The group selector (only for a report with more than one group: the views' titles name the one group of the
 *  others) and the input's controls (target prefix, image index), shared by the views; null when there is none. */
export function groupControls(app, rep, view) {
  const group = currentGroup(app, rep), parts = [];
  if (rep.groups.length > 1)
    parts.push(select('group', rep.groups.map(g => [g.name, groupTitle(g)]), group.name, v => app.go(view, { group: v, layer: null, head: null, heads: null })));
  if (rep.kind === 'seq2seq') {
    const target = h('input', { type: 'text', id: 'target', value: app.get('target') ?? '', placeholder: 'decode greedily', spellcheck: 'false', size: 12 });
    target.onchange = () => app.go(view, { target: target.value === '' ? null : target.value });
    parts.push(h('label', { title: 'the start of the answer; greedy decoding continues from it' }, 'target prefix', target));
  }
  if (rep.kind === 'vit') {
    const index = Number((rep.input.match(/held-out image (\d+)/) ?? [])[1] ?? 0);
    const input = h('input', { type: 'number', id: 'image', min: 0, max: (app.modelInfo?.images ?? 256) - 1, value: index });
    input.onchange = () => app.go(view, { text: `index:${input.value}`, image: null });
    parts.push(h('label', { title: 'a held-out image of the synthetic shapes dataset' }, 'image', input));
  }
  return parts.length ? h('div', { class: 'controls', id: 'group-controls' }, ...parts) : null;
}

/** What the model read and answered: GPT-2's tokens, kernel, loss and next tokens; the input and output of the other
 *  kinds, plus BERT's predictions at each [MASK] or a ViT's class probabilities. */
export function answerPanel(rep, fmt) {
  if (rep.kind === 'gpt2')
    return [h('div', { class: 'kv' },
      h('span', {}, `${rep.tokens.length} tokens`), h('span', {}, `kernel ${rep.kernel}${rep.exact ? '' : ' (approximate)'}`),
      h('span', {}, `loss on the text ${rep.loss === null ? '—' : fmt(rep.loss)}`),
      h('span', {}, `next: ${rep.next.slice(0, 3).map(n => `${JSON.stringify(n.token)} ${(n.probability * 100).toFixed(1)}%`).join(', ')}`))];
  const rows = [h('div', { class: 'kv' }, h('span', {}, `${rep.kind} input: `, h('b', { class: 'token' }, rep.input)),
    h('span', {}, 'output: ', h('b', { class: 'token', id: 'answer' }, rep.output)))];
  const predictions = rep.extra?.predictions;
  if (predictions?.length) {
    const table = h('table', { class: 'roles', id: 'predictions' }, h('tr', {}, h('th', {}, 'position'), h('th', {}, 'predictions at [MASK]')));
    for (const p of predictions)
      table.append(h('tr', {}, h('td', {}, p.position), h('td', { class: 'token', style: 'text-align:left' },
        p.top.map(t => `${JSON.stringify(t.token)} ${(t.probability * 100).toFixed(1)}%`).join('  '))));
    rows.push(table);
  }
  const probabilities = rep.extra?.probabilities;
  if (probabilities) rows.push(h('div', { class: 'kv' }, ...Object.entries(probabilities).sort((a, b) => b[1] - a[1]).slice(0, 3)
    .map(([name, p]) => h('span', {}, `${name} ${(p * 100).toFixed(1)}%`))));
  return rows;
}
