// Model view: every layer × head as a small heatmap, with its mean entropy and an attention-sink flag; hover to
// preview a head large, click to open it in the head view.
import { drawTile, ZoomMap, fmt } from '../heatmap.js';
import { mapGrid } from '../figure.js';
import { h } from './common.js';

let last = null;

export const modelView = {
  async render(app, el, alive) {
    const m = await app.maps();
    if (!alive()) return;
    last = m;
    const { layers: L, heads: H, side: S, length: T } = m;
    const size = Math.max(56, Math.min(150, Math.floor(Math.min(760 / H, 620 / L)) - 10));
    const grid = h('div', { class: 'grid', id: 'model-grid', style: `grid-template-columns: 28px repeat(${H}, ${size + 6}px)` });
    grid.append(h('div'), ...[...Array(H).keys()].map(x => h('div', { class: 'axis', style: 'text-align:center' }, `head ${x}`)));
    const preview = h('div', { class: 'panel', id: 'preview' }, h('h2', {}, 'Preview'), h('p', { class: 'note' }, 'Hover a tile to see it here; click to open it.'));
    const showPreview = (l, hd) => {
      const full = l === m.layer;
      const canvas = h('canvas');
      const role = m.roles[l * H + hd];
      preview.replaceChildren(h('h2', {}, `layer ${l}, head ${hd}`),
        h('div', { class: 'kv' }, h('span', {}, `entropy ${fmt(m.entropy[l * H + hd], 2)} nats`), h('span', {}, `strongest role: ${role.role}`),
          role.sink ? h('span', {}, '⚑ attention sink') : null),
        ...[canvas, full ? null : h('p', { class: 'note' }, `thumbnail (${S}×${S}, max-pooled); click for the full ${T}×${T} map`)].filter(Boolean));
      new ZoomMap(canvas, { values: full ? m.map(hd) : m.thumb(l, hd), rows: full ? T : S, cols: full ? T : S, size: 340,
        rowLabels: full ? m.tokens : [], colLabels: full ? m.tokens : [],
        describe: (i, j, v) => full ? `query ${i} ${JSON.stringify(m.tokens[i])} → key ${j} ${JSON.stringify(m.tokens[j])}\nweight ${fmt(v)}` : `block ${i},${j}: max ${fmt(v)}` });
    };
    for (let l = 0; l < L; l++) {
      grid.append(h('div', { class: 'axis', style: 'writing-mode: vertical-rl; transform: rotate(180deg); text-align:center' }, `layer ${l}`));
      for (let hd = 0; hd < H; hd++) {
        const canvas = h('canvas', { 'data-layer': l, 'data-head': hd });
        const role = m.roles[l * H + hd];
        const tile = h('div', { class: `tile${l === app.int('layer', 0) && hd === app.int('head', 0) ? ' selected' : ''}`, title: `layer ${l} head ${hd}` },
          canvas, role.sink ? h('span', { class: 'sink', title: `≥ ${m.sink_threshold * 100}% of the attention on the first token` }, 'sink') : null,
          h('div', { class: 'cap' }, h('span', {}, `L${l}H${hd}`), h('span', {}, `H=${fmt(m.entropy[l * H + hd], 2)}`)));
        drawTile(canvas, m.thumb(l, hd), S, size);
        tile.onmouseenter = () => showPreview(l, hd);
        tile.onclick = () => app.go('head', { layer: l, head: hd });
        grid.append(tile);
      }
    }
    const info = h('div', { class: 'kv' },
      h('span', {}, `${T} tokens`), h('span', {}, `kernel ${m.kernel}${m.exact ? '' : ' (approximate)'}`),
      h('span', {}, `loss on the text ${m.loss === null ? '—' : fmt(m.loss)}`),
      h('span', {}, `next: ${m.next.slice(0, 3).map(n => `${JSON.stringify(n.token)} ${(n.probability * 100).toFixed(1)}%`).join(', ')}`));
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, 'Every head'), info,
        h('p', { class: 'note' }, 'Rows are queries (the token predicting), columns keys; darker = more attention. H = mean row entropy in nats (0 = one key). "sink" marks heads that park their attention on the first token.'), grid),
      preview));
    showPreview(app.int('layer', 0) % L, app.int('head', 0) % H);
  },
  figure(app) {
    const m = last, { layers: L, heads: H, side: S } = m;
    const size = 120, items = [];
    const maps = [];
    for (let l = 0; l < L; l++) for (let hd = 0; hd < H; hd++)
      maps.push({ values: m.thumb(l, hd), rows: S, cols: S, title: `L${l} H${hd}  H=${fmt(m.entropy[l * H + hd], 2)}${m.roles[l * H + hd].sink ? '  sink' : ''}`,
        titleColor: m.roles[l * H + hd].sink ? '#b54708' : undefined });
    items.push(...mapGrid(maps, { size, columns: H }));
    return { title: `Attention of every head — ${m.model}`, subtitle: `${m.length} tokens: ${m.tokens.join('').slice(0, 120)}`,
      width: 32 + H * (size + 26), height: 90 + L * (size + 26), items };
  },
  data() {
    const m = last, { layers: L, heads: H, side: S } = m;
    const thumbs = [];
    for (let l = 0; l < L; l++) { const row = []; for (let hd = 0; hd < H; hd++) row.push(Array.from(m.thumb(l, hd))); thumbs.push(row); }
    return { model: m.model, tokens: m.tokens, ids: m.ids, side: S, loss: m.loss, entropy: m.entropy, roles: m.roles, thumbnails: thumbs, next: m.next };
  },
};
