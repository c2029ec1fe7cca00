// Heads at a glance, for any group of any model: per head, the mean row entropy and the mean attention mass a query
// puts on a kind of key (0–1), as the library computes them — this view only draws them. GPT-2 (HeadRoles, from
// POST /api/maps): previous token, first token (an attention sink), self and induction (the token after an earlier
// copy of the current one, Olsson et al. 2022). Seq2seq, BERT and ViT (HeadRoles, the "roles" of each map of
// POST /api/inspect): the mean row maximum, and for self-attention previous, next, self and first key ([CLS] for a
// ViT); for cross-attention (decoder query i over encoder key j) the diagonal A[i, i + d] (reading the source in
// order) and the anti-diagonal A[i, Tk−1−i + d] (reading it backwards, as reversing needs), each at its best shift
// d in [−2, 2].
import { attentionColor, fmt } from '../heatmap.js';
import { report, currentGroup, groupTitle, groupControls } from '../report.js';
import { h } from './common.js';

let last = null;

/** Per role set: [key in the API's roles, column title], whether a "row max" column comes first, whether a
 *  "strongest" column comes last, and the note under the title. */
const ROLE_SETS = {
  gpt2: {
    roles: [['previous', 'previous token'], ['first', 'first token (sink)'], ['self', 'self'], ['induction', 'induction']], rowMax: false, strongest: true,
    note: 'Each score is the mean attention mass a query puts on that kind of key (0–1). previous: on the token before; first: on token 0 (attention sink); self: on itself; induction: on the token after an earlier copy of the current token (Olsson et al. 2022). Click a row to open the head.',
  },
  self: {
    roles: [['previous', 'previous key'], ['next', 'next key'], ['self', 'self'], ['first', 'first key']], rowMax: true, strongest: false,
    note: 'Each score is the mean attention mass a query puts on that kind of key (0–1): the one before, the one after (an encoder sees both), itself, the first ([CLS] for a ViT). Row max: 1 = every query on one key. Click a row to open the head.',
  },
  cross: {
    roles: [['diagonal', 'diagonal (in order)'], ['anti_diagonal', 'anti-diagonal (reversed)']], rowMax: true, strongest: false,
    note: 'Each score is the mean attention mass a decoder query puts on that encoder key (0–1): diagonal = decoder position i reads source position i + d; anti-diagonal = it reads the source from the end (what reversing needs); d, in brackets, is the best shift in [−2, 2]. Row max: 1 = every query on one key. Click a row to open the head.',
  },
};

function cell(v, shift, why) {
  if (v === null || v === undefined) return h('td', why ? { title: why } : {}, '—');
  const [r, g, b] = attentionColor(v);
  const text = shift === undefined || shift === null ? fmt(v, 2) : `${fmt(v, 2)} (${shift >= 0 ? '+' : '−'}${Math.abs(shift)})`;
  return h('td', { style: `background: rgb(${r},${g},${b}); color: ${v > 0.45 ? '#fff' : '#1d2433'}` }, text);
}

export const rolesView = {
  async render(app, el, alive) {
    const rep = await report(app);
    if (!alive()) return;
    if (rep.kind !== 'gpt2') app.showInput?.(rep.input);
    const g = currentGroup(app, rep), set = ROLE_SETS[g.roleSet], { layers: L, heads: H } = g;
    last = { rep, g, set };
    const why = g.roleSet === 'gpt2' ? 'no repeated token in the text' : null;
    const table = h('table', { class: 'roles', id: 'roles-table', 'data-group': g.kind },
      h('tr', {}, h('th', {}, 'head'), h('th', {}, 'entropy'), set.rowMax ? h('th', {}, 'row max') : null, ...set.roles.map(([, t]) => h('th', {}, t)),
        set.strongest ? h('th', {}, 'strongest') : null));
    for (const s of g.roles)
      table.append(h('tr', { style: 'cursor:pointer', onclick: () => app.go('head', { layer: s.layer, head: s.head, heads: null }) },
        h('th', {}, `L${s.layer} H${s.head}`), h('td', {}, fmt(s.entropy, 2)), set.rowMax ? cell(s.row_max) : null,
        ...set.roles.map(([k]) => cell(s[k], s[`${k}_shift`], why)), set.strongest ? h('td', {}, s.sink ? `${s.role} ⚑` : s.role) : null));
    const best = set.roles.map(([k, t]) => {
      const top = g.roles.filter(s => s[k] !== null && s[k] !== undefined).sort((a, b) => b[k] - a[k]).slice(0, 3);
      return h('div', {}, h('b', {}, t), ': ', top.length ? top.map(s => `L${s.layer}H${s.head} ${fmt(s[k], 2)}`).join(', ') : (k === 'induction' ? '— (repeat a token to measure it)' : '—'));
    });
    const side = [h('h2', {}, 'Strongest heads per role'), ...best];
    if (set.roles.some(([k]) => k === 'induction') && rep.ids && app.modelInfo?.vocab) {
      const repeat = h('button', {
        onclick: () => {
          // a random token sequence seen twice: induction heads attend to the token after the earlier copy
          const vocab = app.modelInfo.vocab, n = Math.min(Math.floor(app.modelInfo.context / 2), 24);
          let seed = 12345; const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
          const first = [...Array(n)].map(() => Math.floor(rand() * vocab));
          app.set({ ids: [...first, ...first].join(','), text: null }); app.mapsCache.clear(); app.rerender();
        },
      }, 'use a random sequence, repeated');
      side.push(h('p', {}, repeat), h('p', { class: 'note' }, 'Induction needs repeats: a repeated random sequence is the standard test.'));
    }
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, `Heads at a glance — ${groupTitle(g)}, ${L} layers × ${H} heads`),
        groupControls(app, rep, 'roles'),
        h('p', { class: 'note' }, set.note + (g.kind === 'decoder_self' && g.roleSet !== 'gpt2' ? ' The first query, which can only see itself under the causal mask, is left out.' : '')),
        table),
      h('div', { class: 'panel' }, ...side)));
  },
  figure() {
    const { rep, g, set } = last, { layers: L, heads: H } = g, cellW = 70, cellH = 40, items = [];
    const columns = [...(set.rowMax ? [['row_max', 'row max']] : []), ...set.roles];
    columns.forEach(([k, t], c) => items.push({ type: 'map', x: 60 + c * (H * cellW / 2 + 60), y: 80, w: H * cellW / 2, h: L * cellH / 2,
      values: g.roles.map(s => s[k] ?? NaN), rows: L, cols: H, title: t }));
    return { title: `Head roles, ${groupTitle(g)} — ${rep.model}`, subtitle: 'rows: layers, columns: heads; darker = stronger',
      width: Math.max(720, 120 + columns.length * (H * cellW / 2 + 60)), height: 140 + L * cellH / 2, items };
  },
  data() {
    const { rep, g } = last;
    return { model: rep.model, model_type: rep.kind, input: rep.input, output: rep.output, group: g.name, tokens: rep.tokens, ids: rep.ids, roles: g.roles };
  },
};
