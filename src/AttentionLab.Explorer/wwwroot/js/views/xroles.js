// Heads at a glance for a seq2seq, BERT or ViT model: per head of the chosen group, the mean row entropy, the mean
// row maximum and the mean attention mass on a kind of key (0–1), as the library computes them (EncoderHeadRoles;
// each map of POST /api/inspect carries its heads' "roles"). Self-attention: previous, next, self and first key
// ([CLS] for a ViT). Cross-attention (decoder query i over encoder key j): the diagonal A[i, i + d] (reading the
// source in order) and the anti-diagonal A[i, Tk−1−i + d] (reading it backwards, as reversing needs), each at its
// best shift d in [−2, 2]. This view only draws them.
import { attentionColor, fmt } from '../heatmap.js';
import { report, currentGroup, groupMaps, groupTitle, encoderControls } from '../encoders.js';
import { h } from './common.js';

let last = null;

/** [key in the API's roles, column title]. */
const SELF = [['previous', 'previous key'], ['next', 'next key'], ['self', 'self'], ['first', 'first key']];
const CROSS = [['diagonal', 'diagonal (in order)'], ['anti_diagonal', 'anti-diagonal (reversed)']];

/** Every head's scores as the API gives them: [{layer, head, entropy, row_max, <role>: score, <role>_shift: d}]. */
function scores(maps) {
  return maps.flatMap(m => m.roles.map(s => ({ ...s, layer: m.layer })));
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
    const rows = scores(maps);
    last = { r, group, roles, rows, L: maps.length, H: maps[0].heads };
    const table = h('table', { class: 'roles', id: 'roles-table', 'data-group': group },
      h('tr', {}, h('th', {}, 'head'), h('th', {}, 'entropy'), h('th', {}, 'row max'), ...roles.map(([, t]) => h('th', {}, t))));
    for (const s of rows)
      table.append(h('tr', { style: 'cursor:pointer', onclick: () => app.go('head', { layer: s.layer, head: s.head, heads: null }) },
        h('th', {}, `L${s.layer} H${s.head}`), h('td', {}, fmt(s.entropy, 2)), cell(s.row_max), ...roles.map(([k]) => cell(s[k], s[`${k}_shift`]))));
    const best = roles.map(([k, t]) => {
      const top = rows.filter(s => s[k] !== null).sort((a, b) => b[k] - a[k]).slice(0, 3);
      return h('div', {}, h('b', {}, t), ': ', top.map(s => `L${s.layer}H${s.head} ${fmt(s[k], 2)}`).join(', ') || '—');
    });
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, `Heads at a glance — ${groupTitle(group)}, ${maps.length} layers × ${maps[0].heads} heads`),
        encoderControls(app, r, 'roles'),
        h('p', { class: 'note' }, group === 'cross'
          ? 'Each score is the mean attention mass a decoder query puts on that encoder key (0–1): diagonal = decoder position i reads source position i + d; anti-diagonal = it reads the source from the end (what reversing needs); d, in brackets, is the best shift in [−2, 2]. Row max: 1 = every query on one key. Click a row to open the head.'
          : 'Each score is the mean attention mass a query puts on that kind of key (0–1): the one before, the one after (an encoder sees both), itself, the first ([CLS] for a ViT). Row max: 1 = every query on one key. Click a row to open the head.'
            + (group === 'decoder_self' ? ' The first query, which can only see itself under the causal mask, is left out.' : '')),
        table),
      h('div', { class: 'panel' }, h('h2', {}, 'Strongest heads per role'), ...best)));
  },
  figure() {
    const { r, group, roles, rows, L, H } = last, cellW = 70, cellH = 40, items = [];
    [['row_max', 'row max'], ...roles].forEach(([k, t], c) => items.push({ type: 'map', x: 60 + c * (H * cellW / 2 + 60), y: 80, w: H * cellW / 2, h: L * cellH / 2,
      values: rows.map(s => s[k] ?? NaN), rows: L, cols: H, title: t }));
    return { title: `Head roles, ${groupTitle(group)} — ${r.model_type}`, subtitle: 'rows: layers, columns: heads; darker = stronger',
      width: 120 + (roles.length + 1) * (H * cellW / 2 + 60), height: 140 + L * cellH / 2, items };
  },
  data() { const { r, group, rows } = last; return { model_type: r.model_type, input: r.input, output: r.output, group, roles: rows }; },
};
