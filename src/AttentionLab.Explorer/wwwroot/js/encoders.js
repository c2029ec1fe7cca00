// Seq2seq, BERT and ViT models: the page reads POST /api/inspect (the JSON `attnlab inspect --model DIR --json`
// prints) and splits its maps into groups — encoder self-attention, decoder self-attention, cross-attention. A map
// is (H, Tq, Tk): queries are rows, keys columns; cross-attention has decoder queries over encoder keys, so it is a
// rectangle, not a square.
import { postJson } from './api.js';
import { h, select } from './views/common.js';

/** URL name ⇄ the report's kind. */
export const GROUPS = { encoder: 'encoder_self', decoder: 'decoder_self', cross: 'cross' };
const TITLES = { encoder_self: 'encoder self-attention', decoder_self: 'decoder self-attention', cross: 'cross-attention (decoder → encoder)' };
export const groupTitle = kind => TITLES[kind] ?? kind;

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

/** The request for the current input: "text" (a source, a text with [MASK] blanks, or index:N), "target", "image". */
export function encoderInput(app) {
  const body = { model: app.get('model') };
  if (app.get('text')) body.text = app.get('text');
  if (app.get('target') !== null && app.modelInfo?.kind === 'seq2seq') body.target = app.get('target');
  if (app.get('image') !== null && app.modelInfo?.kind === 'vit' && !body.text) body.image = app.int('image', 0);
  const kernel = app.get('attention'); if (kernel) body.attention = kernel;
  return body;
}

/** The report for the current input, fetched once per input and kept (a few, most recent). */
const cache = new Map();
export async function report(app) {
  const body = encoderInput(app);
  const key = JSON.stringify(body);
  if (!cache.has(key)) {
    const p = postJson('/api/inspect', body).then(prepare);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
    if (cache.size > 12) cache.delete(cache.keys().next().value);
  }
  return cache.get(key);
}

/** Flattens each map's weights into one Float32Array (H·Tq·Tk) with a head(h) accessor. */
function prepare(r) {
  r.maps = r.attention.map(m => {
    const Tq = m.query_labels.length, Tk = m.key_labels.length, H = m.heads, w = new Float32Array(H * Tq * Tk);
    m.weights.forEach((head, hd) => head.forEach((row, i) => w.set(row, (hd * Tq + i) * Tk)));
    return { kind: m.kind, layer: m.layer, heads: H, rows: Tq, cols: Tk, queries: m.query_labels, keys: m.key_labels, w,
      head(hd) { return w.subarray(hd * Tq * Tk, (hd + 1) * Tq * Tk); } };
  });
  r.groups = [...new Set(r.maps.map(m => m.kind))];
  return r;
}

/** The chosen group's kind (URL group=encoder|decoder|cross; default: cross when there is one, else the first). */
export function currentGroup(app, r) {
  const asked = GROUPS[app.get('group')] ?? app.get('group');
  if (r.groups.includes(asked)) return asked;
  return r.groups.includes('cross') ? 'cross' : r.groups[0];
}

/** The maps of one group, by layer. */
export function groupMaps(r, kind) { return r.maps.filter(m => m.kind === kind).sort((a, b) => a.layer - b.layer); }

/** (Tq, Tk) mean over the given heads (all when none are given). */
export function meanOver(map, heads = null) {
  const list = heads ?? [...Array(map.heads).keys()], out = new Float32Array(map.rows * map.cols);
  for (const hd of list) { const a = map.head(hd); for (let i = 0; i < out.length; i++) out[i] += a[i] / list.length; }
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

/** The group selector and the controls of the input (target prefix, image index), shared by the views. */
export function encoderControls(app, r, view) {
  const kind = app.modelInfo?.kind, group = currentGroup(app, r);
  const groupNames = Object.entries(GROUPS).filter(([, k]) => r.groups.includes(k));
  const parts = [];
  if (groupNames.length > 1 || kind === 'seq2seq')
    parts.push(select('group', groupNames.map(([name, k]) => [name, groupTitle(k)]), groupNames.find(([, k]) => k === group)[0],
      v => app.go(view, { group: v, layer: null, head: null, heads: null })));
  else parts.push(h('span', { class: 'note' }, groupTitle(group)));
  if (kind === 'seq2seq') {
    const target = h('input', { type: 'text', id: 'target', value: app.get('target') ?? '', placeholder: 'decode greedily', spellcheck: 'false', size: 12 });
    target.onchange = () => app.go(view, { target: target.value === '' ? null : target.value });
    parts.push(h('label', { title: 'the start of the answer; greedy decoding continues from it' }, 'target prefix', target));
  }
  if (kind === 'vit') {
    const index = Number((r.input.match(/held-out image (\d+)/) ?? [])[1] ?? 0);
    const input = h('input', { type: 'number', id: 'image', min: 0, max: (app.modelInfo.images ?? 256) - 1, value: index });
    input.onchange = () => app.go(view, { text: `index:${input.value}`, image: null });
    parts.push(h('label', { title: 'a held-out image of the synthetic shapes dataset' }, 'image', input));
  }
  return h('div', { class: 'controls', id: 'group-controls' }, ...parts);
}

/** Input and answer, plus BERT's predictions at each [MASK] or a ViT's class probabilities. */
export function answerPanel(r) {
  const rows = [h('div', { class: 'kv' }, h('span', {}, `${r.model_type} input: `, h('b', { class: 'token' }, r.input)),
    h('span', {}, 'output: ', h('b', { class: 'token', id: 'answer' }, r.output)))];
  const predictions = r.extra?.predictions;
  if (predictions?.length) {
    const table = h('table', { class: 'roles', id: 'predictions' }, h('tr', {}, h('th', {}, 'position'), h('th', {}, 'predictions at [MASK]')));
    for (const p of predictions)
      table.append(h('tr', {}, h('td', {}, p.position), h('td', { class: 'token', style: 'text-align:left' },
        p.top.map(t => `${JSON.stringify(t.token)} ${(t.probability * 100).toFixed(1)}%`).join('  '))));
    rows.push(table);
  }
  const probabilities = r.extra?.probabilities;
  if (probabilities) rows.push(h('div', { class: 'kv' }, ...Object.entries(probabilities).sort((a, b) => b[1] - a[1]).slice(0, 3)
    .map(([name, p]) => h('span', {}, `${name} ${(p * 100).toFixed(1)}%`))));
  return rows;
}
