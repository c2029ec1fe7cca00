// Mask and variant playground: compose causal, padding, sliding-window, global-token and prefix masks; see which
// cells are visible, which each strategy computes or skips, the attention the model produces under that mask with
// the chosen kernel, and its error against exact attention (sweep a Performer's feature count); step through
// FlashAttention's tiles with the running max and sum, and count the bytes moved between HBM and on-chip memory.
import { postJson } from '../api.js';
import { ZoomMap, fmt } from '../heatmap.js';
import { h, checkbox, numberInput, positions } from './common.js';

let last = null;

const bits = s => Float32Array.from(s, c => (c === '1' ? 1 : 0));
/** computed & visible = 1 (blue), computed but masked = wasted (0.35), skipped = 0. */
const usage = (computed, visible) => Float32Array.from(computed, (c, i) => (c === '1' ? (visible[i] === '1' ? 1 : 0.3) : 0));

/** HBM traffic in bytes (fp32) for one head: naive writes and reads the T×T scores and weights; tiled reads each
 *  computed K/V tile once per query block and never stores T×T (Dao et al. 2022, Theorem 2). */
export function hbmBytes(T, d, tiles, B) {
  const naive = 4 * (3 * T * d + 4 * T * T + T * d);
  const tiled = 4 * (T * d + 2 * tiles * B * d + T * d);
  return { naive, tiled };
}

export const playgroundView = {
  async render(app, el, alive) {
    const info = app.modelInfo;
    const s = {
      layer: app.int('layer', 0), head: app.int('head', 0), causal: app.bool('causal', info.causal), window: app.int('window', null),
      ahead: app.int('ahead', 0), global: app.int('global', 0), prefix: app.int('prefix', 0), pad: positions.parse(app.get('pad')),
      tile: app.int('tile', 4), kernel: app.get('pk', 'naive'), sweep: app.get('sweep', ''),
    };
    const body = { ...app.input(), layer: s.layer, head: s.head, causal: s.causal, window: s.window, ahead: s.ahead, global: s.global, prefix: s.prefix, pad: s.pad, tile: s.tile, attention: s.kernel, sweep: s.sweep || null };
    const [r, trace] = await Promise.all([postJson('/api/playground', body), postJson('/api/head', { ...app.input(), layer: s.layer, head: s.head })]);
    if (!alive()) return;
    const T = r.length, d = trace.head_dim, step = Math.min(app.int('fstep', 0), 100000);
    last = { r, s };
    const panel = (title, values, note, opts = {}) => {
      const c = h('canvas', { 'data-panel': title });
      new ZoomMap(c, { values, rows: T, cols: T, rowLabels: r.tokens, colLabels: r.tokens, size: 220, ...opts,
        describe: opts.describe ?? ((i, j, v) => `${title} [${i}, ${j}] = ${fmt(v, 4)}`) });
      return h('div', { class: 'panel' }, h('h2', {}, title), h('p', { class: 'note', style: 'max-width:260px' }, note), c);
    };
    const set = v => app.go('playground', v);
    const controls = h('div', { class: 'controls' },
      numberInput('layer', s.layer, v => set({ layer: v }), { min: 0, max: info.layers - 1 }), numberInput('head', s.head, v => set({ head: v }), { min: 0, max: info.heads - 1 }),
      checkbox('causal', s.causal, v => set({ causal: v ? 1 : 0 }), 'causal'),
      numberInput('window (keys back, empty = off)', s.window ?? '', v => set({ window: v }), { min: 1, name: 'window' }),
      numberInput('ahead', s.ahead, v => set({ ahead: v || null }), { min: 0 }),
      numberInput('global tokens', s.global, v => set({ global: v || null }), { min: 0, max: T }),
      numberInput('prefix', s.prefix, v => set({ prefix: v || null }), { min: 0, max: T }),
      h('label', {}, 'padded keys', h('input', { type: 'text', value: positions.format(s.pad), size: 8, placeholder: 'e.g. 3,4', onchange: e => set({ pad: e.target.value.replace(/\s/g, '') || null }) })),
      numberInput('tile B', s.tile, v => set({ tile: v }), { min: 1, max: 64 }),
      h('label', {}, 'kernel', h('input', { type: 'text', value: s.kernel, size: 14, list: 'kernel-names', onchange: e => set({ pk: e.target.value || null }) }),
        h('datalist', { id: 'kernel-names' }, ...r.kernels.map(k => h('option', { value: k })))),
      h('label', {}, 'sweep', h('input', { type: 'text', value: s.sweep, size: 26, placeholder: r.kernels.some(k => k.startsWith('performer')) ? 'performer:8;performer:32;performer:128' : 'kernels separated by ;',
        onchange: e => set({ sweep: e.target.value || null }) })));
    const c = r.counts;
    // Flash tiling stepper over the computed tiles, with the online softmax's running max m and sum l per row
    const B = s.tile, nb = Math.ceil(T / B), order = [];
    for (let bi = 0; bi < nb; bi++) for (let bj = 0; bj < nb; bj++) {
      let any = false;
      for (let i = bi * B; i < Math.min(T, bi * B + B) && !any; i++) for (let j = bj * B; j < Math.min(T, bj * B + B); j++) if (r.tiles[i * T + j] === '1') { any = true; break; }
      if (any) order.push([bi, bj]);
    }
    const k = Math.min(step, Math.max(order.length - 1, 0)), [bi, bj] = order[k] ?? [0, 0];
    const rowsInBlock = [], scores = trace.scaled_scores;
    for (let i = bi * B; i < Math.min(T, bi * B + B); i++) {
      let m = -Infinity, l = 0, mPrev = -Infinity;
      for (const [pbi, pbj] of order.slice(0, k + 1)) {
        if (pbi !== bi) continue;
        mPrev = m;
        for (let j = pbj * B; j < Math.min(T, pbj * B + B); j++) if (r.visible[i * T + j] === '1') m = Math.max(m, scores[i][j]);
        l = l * (m === -Infinity ? 0 : Math.exp((mPrev === -Infinity ? m : mPrev) - m));
        for (let j = pbj * B; j < Math.min(T, pbj * B + B); j++) if (r.visible[i * T + j] === '1') l += Math.exp(scores[i][j] - m);
      }
      rowsInBlock.push(h('tr', {}, h('td', {}, `row ${i}`), h('td', {}, fmt(m)), h('td', {}, fmt(l)), h('td', {}, mPrev === -Infinity || m === -Infinity ? '—' : fmt(Math.exp(mPrev - m)))));
    }
    const bytes = hbmBytes(T, d, order.length, B);
    const stepper = h('div', { class: 'panel', id: 'flash-stepper' }, h('h2', {}, `Flash tiling: tile ${k + 1} of ${order.length} (query block ${bi}, key block ${bj})`),
      h('div', { class: 'controls' }, h('button', { onclick: () => set({ fstep: Math.max(0, k - 1) }) }, '◀ previous'), h('button', { id: 'flash-next', onclick: () => set({ fstep: Math.min(order.length - 1, k + 1) }) }, 'next tile ▶')),
      h('table', { class: 'roles' }, h('tr', {}, h('th', {}, ''), h('th', {}, 'running max m'), h('th', {}, 'running sum l'), h('th', {}, 'rescale e^(m_old−m)')), ...rowsInBlock),
      h('p', { class: 'note' }, `Bytes between HBM and on-chip memory for this head (fp32, d = ${d}): naive ${bytes.naive.toLocaleString()} (stores the ${T}×${T} scores and weights), tiled ${bytes.tiled.toLocaleString()} (reads each K/V tile once per query block, never stores T×T) — ${(bytes.naive / bytes.tiled).toFixed(2)}× less.`));
    const tileMarks = (ctx, x, y, sc) => { ctx.strokeStyle = '#f79009'; ctx.lineWidth = 2; ctx.strokeRect(x + bj * B * sc, y + bi * B * sc, B * sc, B * sc); };
    const sweep = r.sweep.length ? h('div', { class: 'panel', id: 'sweep' }, h('h2', {}, 'Error against exact attention'),
      h('table', { class: 'roles' }, h('tr', {}, h('th', {}, 'kernel'), h('th', {}, 'max |A − A_exact|'), h('th', {}, 'mean over visible cells')), ...r.sweep.map(x => h('tr', {}, h('td', {}, x.attention), h('td', {}, x.max_error.toExponential(2)), h('td', {}, x.mean_error.toExponential(2)))))) : null;
    el.replaceChildren(h('div', { class: 'panel' }, h('h2', {}, 'Masks and kernels'), controls,
        h('div', { class: 'kv' }, h('span', {}, `${c.visible} of ${c.cells} cells visible`), h('span', {}, `naive computes ${c.naive}`), h('span', {}, `row ranges ${c.rows}`), h('span', {}, `${B}×${B} tiles ${c.tiles}`),
          h('span', {}, `kernel ${r.attention} ${r.exact ? '(exact)' : '(approximate)'} on this head's q, k, v: max error ${r.max_error.toExponential(2)}, mean ${r.mean_error.toExponential(2)}`))),
      h('div', { class: 'row', style: 'margin-top:12px' },
        panel('mask (visible keys)', bits(r.visible), 'Blue = query (row) may attend to key (column).'),
        panel('row ranges', usage(r.rows, r.visible), 'A kernel that scores one key range per row: light = computed then masked (wasted).'),
        panel(`tiles ${B}×${B}`, usage(r.tiles, r.visible), 'A tiled kernel skips tiles with no visible cell (white).', { marks: tileMarks }),
        panel(`attention (${r.attention})`, Float32Array.from(r.weights), 'This head\'s real q, k, v under this mask, through the chosen kernel.'),
        panel('|error| vs exact', Float32Array.from(r.error), 'Zero for exact kernels; a Performer approximates softmax with random features.', { describe: (i, j, v) => `|A − A_exact| [${i}, ${j}] = ${v.toExponential(2)}` }),
        stepper, sweep));
  },
  figure() {
    const { r } = last, T = r.length, size = 220;
    const maps = [['mask', bits(r.visible)], ['row ranges', usage(r.rows, r.visible)], ['tiles', usage(r.tiles, r.visible)], [`attention (${r.attention})`, Float32Array.from(r.weights)], ['|error|', Float32Array.from(r.error)]];
    return { title: `Masks and kernels — ${r.model}, layer ${r.layer} head ${r.head}`, subtitle: `${r.counts.visible}/${r.counts.cells} visible; max error ${r.max_error.toExponential(2)}`,
      width: 60 + maps.length * (size + 40), height: size + 150,
      items: maps.map(([title, values], k) => ({ type: 'map', x: 40 + k * (size + 40), y: 80, size, values, rows: T, cols: T, title })) };
  },
  data() { return { ...last.r, settings: last.s }; },
};
