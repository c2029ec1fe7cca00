// Heads at a glance for a seq2seq, BERT or ViT model: per head of the chosen group, the mean row entropy and the
// mean attention mass on a kind of key (0–1). Self-attention: previous, next, self and first key ([CLS] for a ViT).
// Cross-attention (decoder query i over encoder key j): the diagonal A[i, i + d] (reading the source in order) and
// the anti-diagonal A[i, Tk−1−i + d] (reading it backwards, as reversing needs), each at the shift d in [−2, 2] that
// scores best (query i holds the token written at step i − 1, so a head may look one key ahead or behind), and the
// mean row maximum.
import { attentionColor, fmt } from '../heatmap.js';
import { report, currentGroup, groupMaps, groupTitle, encoderControls, meanEntropy } from '../encoders.js';
import { h } from './common.js';

let last = null;

const SELF = [['previous', 'previous key', (A, i, j) => j === i - 1], ['next', 'next key', (A, i, j) => j === i + 1],
  ['self', 'self', (A, i, j) => j === i], ['first', 'first key', (A, i, j) => j === 0]];
const CROSS = [['diagonal', 'diagonal (in order)', (A, i, j, Tk, d) => j === i + d], ['anti', 'anti-diagonal (reversed)', (A, i, j, Tk, d) => j === Tk - 1 - i + d]];
const SHIFTS = [-2, -1, 0, 1, 2];

/** Mean over the rows that have such a key of the mass on it; null when no row has one. */
function score(a, rows, cols, is, d = 0) {
  let total = 0, n = 0;
  for (let i = 0; i < rows; i++) {
    let s = 0, any = false;
    for (let j = 0; j < cols; j++) if (is(a, i, j, cols, d)) { s += a[i * cols + j]; any = true; }
    if (any) { total += s; n++; }
  }
  return n ? total / n : null;
}

/** The best score over the shifts, with its shift (cross-attention). */
function bestShift(a, rows, cols, is) {
  let best = null, shift = 0;
  for (const d of SHIFTS) { const v = score(a, rows, cols, is, d); if (v !== null && (best === null || v > best)) { best = v; shift = d; } }
  return [best, shift];
}

function rowMax(a, rows, cols) {
  let total = 0;
  for (let i = 0; i < rows; i++) { let mx = 0; for (let j = 0; j < cols; j++) mx = Math.max(mx, a[i * cols + j]); total += mx; }
  return total / rows;
}

/** Every head's scores: [{layer, head, entropy, max, <role>: score}]. */
function scores(maps, roles) {
  const out = [];
  for (const m of maps) for (let hd = 0; hd < m.heads; hd++) {
    const a = m.head(hd), s = { layer: m.layer, head: hd, entropy: meanEntropy(a, m.rows, m.cols), max: rowMax(a, m.rows, m.cols) };
    for (const [k, , is] of roles) {
      if (roles === CROSS) [s[k], s[`${k}_shift`]] = bestShift(a, m.rows, m.cols, is);
      else s[k] = score(a, m.rows, m.cols, is);
    }
    out.push(s);
  }
  return out;
}

function cell(v, shift) {
  if (v === null || v === undefined) return h('td', {}, '—');
  const [r, g, b] = attentionColor(v);
  const text = shift === undefined ? fmt(v, 2) : `${fmt(v, 2)} (${shift >= 0 ? '+' : '−'}${Math.abs(shift)})`;
  return h('td', { style: `background: rgb(${r},${g},${b}); color: ${v > 0.45 ? '#fff' : '#1d2433'}` }, text);
}

export const encoderRolesView = {
  async render(app, el, alive) {
    const r = await report(app);
    if (!alive()) return;
    app.showInput?.(r.input);
    const group = currentGroup(app, r), maps = groupMaps(r, group), roles = group === 'cross' ? CROSS : SELF;
    const rows = scores(maps, roles);
    last = { r, group, roles, rows, L: maps.length, H: maps[0].heads };
    const table = h('table', { class: 'roles', id: 'roles-table', 'data-group': group },
      h('tr', {}, h('th', {}, 'head'), h('th', {}, 'entropy'), h('th', {}, 'row max'), ...roles.map(([, t]) => h('th', {}, t))));
    for (const s of rows)
      table.append(h('tr', { style: 'cursor:pointer', onclick: () => app.go('head', { layer: s.layer, head: s.head, heads: null }) },
        h('th', {}, `L${s.layer} H${s.head}`), h('td', {}, fmt(s.entropy, 2)), cell(s.max), ...roles.map(([k]) => cell(s[k], s[`${k}_shift`]))));
    const best = roles.map(([k, t]) => {
      const top = rows.filter(s => s[k] !== null).sort((a, b) => b[k] - a[k]).slice(0, 3);
      return h('div', {}, h('b', {}, t), ': ', top.map(s => `L${s.layer}H${s.head} ${fmt(s[k], 2)}`).join(', ') || '—');
    });
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, `Heads at a glance — ${groupTitle(group)}, ${maps.length} layers × ${maps[0].heads} heads`),
        encoderControls(app, r, 'roles'),
        h('p', { class: 'note' }, group === 'cross'
          ? 'Each score is the mean attention mass a decoder query puts on that encoder key (0–1): diagonal = decoder position i reads source position i + d; anti-diagonal = it reads the source from the end (what reversing needs); d, in brackets, is the best shift in [−2, 2]. Row max: 1 = every query on one key. Click a row to open the head.'
          : 'Each score is the mean attention mass a query puts on that kind of key (0–1): the one before, the one after (an encoder sees both), itself, the first ([CLS] for a ViT). Row max: 1 = every query on one key. Click a row to open the head.'),
        table),
      h('div', { class: 'panel' }, h('h2', {}, 'Strongest heads per role'), ...best)));
  },
  figure() {
    const { r, group, roles, rows, L, H } = last, cellW = 70, cellH = 40, items = [];
    [['max', 'row max'], ...roles].forEach(([k, t], c) => items.push({ type: 'map', x: 60 + c * (H * cellW / 2 + 60), y: 80, w: H * cellW / 2, h: L * cellH / 2,
      values: rows.map(s => s[k] ?? NaN), rows: L, cols: H, title: t }));
    return { title: `Head roles, ${groupTitle(group)} — ${r.model_type}`, subtitle: 'rows: layers, columns: heads; darker = stronger',
      width: 120 + (roles.length + 1) * (H * cellW / 2 + 60), height: 140 + L * cellH / 2, items };
  },
  data() { const { r, group, rows } = last; return { model_type: r.model_type, input: r.input, output: r.output, group, roles: rows }; },
};
