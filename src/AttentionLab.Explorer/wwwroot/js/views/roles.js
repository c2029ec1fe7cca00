// Heads at a glance: every head's entropy and role scores (previous token, first token, self, induction), computed
// by the library (HeadRoles) on the live model, so "heads specialize" can be checked on any text.
import { attentionColor, fmt } from '../heatmap.js';
import { h } from './common.js';

let last = null;
const ROLES = [['previous', 'previous token'], ['first', 'first token (sink)'], ['self', 'self'], ['induction', 'induction']];

function cell(v) {
  if (v === null || v === undefined) return h('td', { title: 'no repeated token in the text' }, '—');
  const [r, g, b] = attentionColor(v);
  return h('td', { style: `background: rgb(${r},${g},${b}); color: ${v > 0.45 ? '#fff' : '#1d2433'}` }, fmt(v, 2));
}

export const rolesView = {
  async render(app, el, alive) {
    const m = await app.maps();
    if (!alive()) return;
    last = m;
    const { layers: L, heads: H } = m;
    const table = h('table', { class: 'roles', id: 'roles-table' },
      h('tr', {}, h('th', {}, 'head'), h('th', {}, 'entropy'), ...ROLES.map(([, t]) => h('th', {}, t)), h('th', {}, 'strongest')));
    for (const s of m.roles) {
      const row = h('tr', { style: 'cursor:pointer', onclick: () => app.go('head', { layer: s.layer, head: s.head, heads: null }) },
        h('th', {}, `L${s.layer} H${s.head}`), h('td', {}, fmt(s.entropy, 2)), ...ROLES.map(([k]) => cell(s[k])), h('td', {}, s.sink ? `${s.role} ⚑` : s.role));
      table.append(row);
    }
    const best = ROLES.map(([k, t]) => {
      const top = m.roles.filter(s => s[k] !== null).sort((a, b) => b[k] - a[k]).slice(0, 3);
      return h('div', {}, h('b', {}, t), ': ', top.length ? top.map(s => `L${s.layer}H${s.head} ${fmt(s[k], 2)}`).join(', ') : '— (repeat a token to measure it)');
    });
    const repeat = h('button', {
      onclick: () => {
        // a random token sequence seen twice: induction heads attend to the token after the earlier copy
        const vocab = app.modelInfo.vocab, n = Math.min(Math.floor(app.modelInfo.context / 2), 24);
        let seed = 12345; const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
        const first = [...Array(n)].map(() => Math.floor(rand() * vocab));
        app.set({ ids: [...first, ...first].join(','), text: null }); app.mapsCache.clear(); app.rerender();
      },
    }, 'use a random sequence, repeated');
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, `Heads at a glance — ${L} layers × ${H} heads`),
        h('p', { class: 'note' }, 'Each score is the mean attention mass a query puts on that kind of key (0–1). previous: on the token before; first: on token 0 (attention sink); self: on itself; induction: on the token after an earlier copy of the current token (Olsson et al. 2022). Click a row to open the head.'),
        table),
      h('div', { class: 'panel' }, h('h2', {}, 'Strongest heads per role'), ...best, h('p', {}, repeat),
        h('p', { class: 'note' }, 'Induction needs repeats: a repeated random sequence is the standard test.'))));
  },
  figure() {
    const m = last, { layers: L, heads: H } = m, cellW = 70, cellH = 40, items = [];
    ROLES.forEach(([k, t], r) => {
      const values = m.roles.map(s => s[k] ?? NaN);
      items.push({ type: 'map', x: 60 + r * (H * cellW / 2 + 60), y: 80, w: H * cellW / 2, h: L * cellH / 2, values, rows: L, cols: H, title: t });
    });
    return { title: `Head roles — ${m.model}`, subtitle: 'rows: layers, columns: heads; darker = stronger', width: 120 + ROLES.length * (H * cellW / 2 + 60), height: 140 + L * cellH / 2, items };
  },
  data() { return { model: last.model, tokens: last.tokens, ids: last.ids, roles: last.roles }; },
};
