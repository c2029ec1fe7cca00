// Compare: two models (or two checkpoints of one run) side by side on the same text: every head's map, the loss
// and the next-token prediction of each, and for models of the same shape the difference of the selected head.
import { getMaps } from '../api.js';
import { drawTile, ZoomMap, divergingColor, fmt } from '../heatmap.js';
import { mapGrid } from '../figure.js';
import { h, select } from './common.js';

let last = null;

function grid(m, size) {
  const { layers: L, heads: H, side: S } = m;
  const g = h('div', { class: 'grid', style: `grid-template-columns: repeat(${H}, ${size + 6}px)` });
  for (let l = 0; l < L; l++) for (let hd = 0; hd < H; hd++) {
    const c = h('canvas'); drawTile(c, m.thumb(l, hd), S, size);
    g.append(h('div', { class: 'tile', title: `L${l}H${hd}` }, c, h('div', { class: 'cap' }, h('span', {}, `L${l}H${hd}`), h('span', {}, fmt(m.entropy[l * H + hd], 2)))));
  }
  return g;
}

export const compareView = {
  async render(app, el, alive) {
    const others = app.models.filter(m => m.name !== app.get('model'));
    const other = app.get('model2') ?? others[0]?.name ?? app.get('model');
    const input = app.input(), layer = app.int('layer', 0);
    const [a, b] = await Promise.all([app.maps(), getMaps({ ...input, model: other, layer, thumb: 64 })]);
    if (!alive()) return;
    last = { a, b };
    const size = Math.max(40, Math.min(90, Math.floor(440 / Math.max(a.heads, b.heads)) - 8));
    const side = m => h('div', { class: 'panel' }, h('h2', {}, m.model),
      h('div', { class: 'kv' }, h('span', {}, `loss ${fmt(m.loss)}`), h('span', {}, `next ${m.next.slice(0, 3).map(n => `${JSON.stringify(n.token)} ${(n.probability * 100).toFixed(0)}%`).join(', ')}`)), grid(m, size));
    const same = a.layers === b.layers && a.heads === b.heads && a.length === b.length;
    let diff = null;
    if (same) {
      const hd = app.int('head', 0) % a.heads, T = a.length, da = a.map(hd), db = b.map(hd), values = new Float32Array(T * T);
      for (let i = 0; i < values.length; i++) values[i] = db[i] - da[i];
      const c = h('canvas', { id: 'compare-diff' });
      diff = h('div', { class: 'panel' }, h('h2', {}, `layer ${a.layer} head ${hd}: ${b.model} − ${a.model}`), c);
      new ZoomMap(c, { values, rows: T, cols: T, rowLabels: a.tokens, colLabels: a.tokens, size: 300, color: v => divergingColor(v, 1),
        describe: (i, j, v) => `[${i}, ${j}] ${fmt(db[i * T + j])} − ${fmt(da[i * T + j])} = ${fmt(v)}` });
    }
    el.replaceChildren(h('div', { class: 'controls' }, select('compare with', app.models.map(m => [m.name, m.name]), other, v => app.go('compare', { model2: v }))),
      h('div', { class: 'row' }, side(a), side(b), diff));
  },
  figure() {
    const { a, b } = last, size = 80, items = [];
    const maps = m => { const out = []; for (let l = 0; l < m.layers; l++) for (let hd = 0; hd < m.heads; hd++) out.push({ values: m.thumb(l, hd), rows: m.side, cols: m.side, title: `L${l}H${hd}` }); return out; };
    items.push({ type: 'text', x: 16, y: 60, text: `${a.model}: loss ${fmt(a.loss)}`, size: 12 });
    items.push(...mapGrid(maps(a), { y0: 72, size, columns: a.heads }));
    const x0 = 40 + a.heads * (size + 26);
    items.push({ type: 'text', x: x0, y: 60, text: `${b.model}: loss ${fmt(b.loss)}`, size: 12 });
    items.push(...mapGrid(maps(b), { x0, y0: 72, size, columns: b.heads }));
    return { title: 'Compare', subtitle: a.tokens.join('').slice(0, 100), width: x0 + b.heads * (size + 26) + 20, height: 110 + Math.max(a.layers, b.layers) * (size + 26), items };
  },
  data() { const { a, b } = last; return { models: [a.model, b.model], tokens: [a.tokens, b.tokens], loss: [a.loss, b.loss], entropy: [a.entropy, b.entropy], roles: [a.roles, b.roles] }; },
};
