// Model view of a seq2seq, BERT or ViT model: every layer × head of one attention group (encoder self, decoder
// self or cross) as a small map — cross-attention as a rectangle, decoder queries (rows) over encoder keys
// (columns) — with its mean entropy; hover to preview large, click to open the head. Beside it the input, the
// answer (BERT's predictions at each [MASK], a ViT's image with the [CLS] token's attention drawn on it).
import { matrixImage, attentionColor, ZoomMap, fmt } from '../heatmap.js';
import { report, currentGroup, groupMaps, groupTitle, encoderControls, answerPanel } from '../encoders.js';
import { drawVitImage, classTokenAttention } from '../vitimage.js';
import { h } from './common.js';

let last = null;

/** A (rows, cols) map drawn into a width × height tile, crisp. */
export function drawRectTile(canvas, values, rows, cols, width, height) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`; canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(matrixImage(values, rows, cols, attentionColor), 0, 0, canvas.width, canvas.height);
}

/** Tile width and height for a (rows, cols) map whose longer side is `size`. */
export const tileSize = (rows, cols, size) => [Math.max(8, Math.round(size * cols / Math.max(rows, cols))), Math.max(8, Math.round(size * rows / Math.max(rows, cols)))];

export const encoderModelView = {
  async render(app, el, alive) {
    const r = await report(app);
    if (!alive()) return;
    app.showInput?.(r.input);
    const group = currentGroup(app, r), maps = groupMaps(r, group), L = maps.length, H = maps[0].heads;
    const { rows: Tq, cols: Tk } = maps[0];
    last = { r, group, maps };
    const size = Math.max(56, Math.min(150, Math.floor(Math.min(760 / H, 620 / L)) - 10));
    const [tw, th] = tileSize(Tq, Tk, size);
    const grid = h('div', { class: 'grid', id: 'model-grid', 'data-group': group, style: `grid-template-columns: 28px repeat(${H}, ${tw + 6}px)` });
    grid.append(h('div'), ...[...Array(H).keys()].map(x => h('div', { class: 'axis', style: 'text-align:center' }, `head ${x}`)));
    const preview = h('div', { class: 'panel', id: 'preview' });
    const image = r.model_type === 'vit' ? h('canvas', { id: 'vit-image' }) : null;
    const showPreview = (l, hd) => {
      const m = maps[l], canvas = h('canvas', { id: 'preview-map' });
      preview.replaceChildren(h('h2', {}, `${groupTitle(group)}: layer ${l}, head ${hd}`),
        h('div', { class: 'kv' }, h('span', {}, `${m.rows} queries × ${m.cols} keys`), h('span', {}, `entropy ${fmt(m.roles[hd].entropy, 2)} nats`)),
        canvas, ...(image ? [h('h3', {}, `[CLS] → patches, layer ${l} head ${hd}`), image] : []));
      new ZoomMap(canvas, { values: m.head(hd), rows: m.rows, cols: m.cols, size: 340, rowLabels: m.queries, colLabels: m.keys,
        describe: (i, j, v) => `query ${i} ${JSON.stringify(m.queries[i])} → key ${j} ${JSON.stringify(m.keys[j])}\nweight ${fmt(v)}` });
      if (image) drawVitImage(image, { pixels: r.extra.pixels, imageSize: r.extra.image_size, patchSize: r.extra.patch_size, attention: classTokenAttention(m.head(hd), m.cols) });
    };
    for (let l = 0; l < L; l++) {
      grid.append(h('div', { class: 'axis', style: 'writing-mode: vertical-rl; transform: rotate(180deg); text-align:center' }, `layer ${l}`));
      for (let hd = 0; hd < H; hd++) {
        const m = maps[l], canvas = h('canvas', { 'data-layer': l, 'data-head': hd, 'data-rows': m.rows, 'data-cols': m.cols, 'data-group': group });
        const tile = h('div', { class: `tile${l === app.int('layer', 0) && hd === app.int('head', 0) ? ' selected' : ''}`, title: `layer ${l} head ${hd}` },
          canvas, h('div', { class: 'cap' }, h('span', {}, `L${l}H${hd}`), h('span', {}, `H=${fmt(m.roles[hd].entropy, 2)}`)));
        drawRectTile(canvas, m.head(hd), m.rows, m.cols, tw, th);
        tile.onmouseenter = () => showPreview(l, hd);
        tile.onclick = () => app.go('head', { layer: l, head: hd, heads: null });
        grid.append(tile);
      }
    }
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, `Every head — ${groupTitle(group)}`), encoderControls(app, r, 'model'), ...answerPanel(r),
        h('p', { class: 'note' }, group === 'cross'
          ? `Rows are the decoder's queries (<s> and the answer, ${Tq}), columns the encoder's keys (the source, ${Tk}): which source character each output position reads. H = mean row entropy in nats.`
          : 'Rows are queries, columns keys; darker = more attention. H = mean row entropy in nats (0 = one key).'), grid),
      preview));
    showPreview(Math.min(app.int('layer', 0), L - 1), Math.min(app.int('head', 0), H - 1));
  },
  figure() {
    const { r, group, maps } = last, H = maps[0].heads, size = 120, gap = 30, items = [];
    const [w, hh] = tileSize(maps[0].rows, maps[0].cols, size);
    maps.forEach((m, l) => { for (let hd = 0; hd < H; hd++) items.push({ type: 'map', x: 16 + hd * (w + gap), y: 72 + l * (hh + gap), w, h: hh,
      values: m.head(hd), rows: m.rows, cols: m.cols, title: `L${l} H${hd}  H=${fmt(m.roles[hd].entropy, 2)}` }); });
    return { title: `${groupTitle(group)} of every head — ${r.model_type}`, subtitle: `input ${r.input} → output ${r.output}`,
      width: Math.max(420, 32 + H * (w + gap)), height: 90 + maps.length * (hh + gap), items };
  },
  data() {
    const { r, group, maps } = last;
    return { model_type: r.model_type, input: r.input, output: r.output, group, maps: maps.map(m => ({ layer: m.layer, queries: m.queries, keys: m.keys,
      heads: [...Array(m.heads).keys()].map(hd => { const a = m.head(hd), rows = []; for (let i = 0; i < m.rows; i++) rows.push(Array.from(a.subarray(i * m.cols, (i + 1) * m.cols))); return rows; }) })) };
  },
};
