// Model view: every layer × head of one attention group as a small map, with its mean entropy and an attention-sink
// flag; hover to preview a head large, click to open it in the head view. The same view for every model kind: a
// GPT-2's one group (causal self-attention, max-pooled thumbnails of long inputs), a BERT's or ViT's encoder, and an
// encoder-decoder's encoder, decoder or cross-attention — a rectangle, decoder queries (rows) over encoder keys
// (columns). Beside it what the model read and answered (BERT's predictions at each [MASK], a ViT's image with the
// [CLS] token's attention drawn on it).
import { matrixImage, attentionColor, ZoomMap, fmt } from '../heatmap.js';
import { report, currentGroup, groupTitle, groupControls, answerPanel } from '../report.js';
import { drawVitImage, classTokenAttention } from '../vitimage.js';
import { h } from './common.js';

let last = null;

/** A (rows, cols) map drawn into a width × height tile, crisp. */
function drawRectTile(canvas, values, rows, cols, width, height) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`; canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(matrixImage(values, rows, cols, attentionColor), 0, 0, canvas.width, canvas.height);
}

/** Tile width and height for a (rows, cols) map whose longer side is `size`. */
const tileSize = (rows, cols, size) => [Math.max(8, Math.round(size * cols / Math.max(rows, cols))), Math.max(8, Math.round(size * rows / Math.max(rows, cols)))];

/** The strongest role of a head's scores: GPT-2's answer names it "role", the others' "strongest" (both HeadRoles). */
const strongest = s => s.role ?? s.strongest ?? '—';

export const modelView = {
  async render(app, el, alive) {
    const rep = await report(app);
    if (!alive()) return;
    if (rep.kind !== 'gpt2') app.showInput?.(rep.input);
    const g = currentGroup(app, rep), { layers: L, heads: H, rows: Tq, cols: Tk } = g;
    last = { rep, g };
    const size = Math.max(56, Math.min(150, Math.floor(Math.min(760 / H, 620 / L)) - 10));
    const [tw, th] = tileSize(Tq, Tk, size);
    const grid = h('div', { class: 'grid', id: 'model-grid', 'data-group': g.kind, style: `grid-template-columns: 28px repeat(${H}, ${tw + 6}px)` });
    grid.append(h('div'), ...[...Array(H).keys()].map(x => h('div', { class: 'axis', style: 'text-align:center' }, `head ${x}`)));
    const preview = h('div', { class: 'panel', id: 'preview' });
    const image = rep.kind === 'vit' ? h('canvas', { id: 'vit-image' }) : null;
    const showPreview = (l, hd) => {
      const full = g.full(l), t = g.thumb(l, hd), role = g.roles[l * H + hd], canvas = h('canvas', { id: 'preview-map' });
      preview.replaceChildren(...[h('h2', {}, `${groupTitle(g)}: layer ${l}, head ${hd}`),
        h('div', { class: 'kv' }, h('span', {}, `${Tq} queries × ${Tk} keys`), h('span', {}, `entropy ${fmt(g.entropy(l, hd), 2)} nats`),
          h('span', {}, `strongest role: ${strongest(role)}`), role.sink ? h('span', {}, '⚑ attention sink') : null),
        canvas, full ? null : h('p', { class: 'note' }, `thumbnail (${t.rows}×${t.cols}, max-pooled); click for the full ${Tq}×${Tk} map`),
        ...(image ? [h('h3', {}, `[CLS] → patches, layer ${l} head ${hd}`), image] : [])].filter(Boolean));
      new ZoomMap(canvas, { values: full ? g.map(l, hd) : t.values, rows: full ? Tq : t.rows, cols: full ? Tk : t.cols, size: 340,
        rowLabels: full ? g.queries : [], colLabels: full ? g.keys : [],
        describe: (i, j, v) => full ? `query ${i} ${JSON.stringify(g.queries[i])} → key ${j} ${JSON.stringify(g.keys[j])}\nweight ${fmt(v)}` : `block ${i},${j}: max ${fmt(v)}` });
      if (image) drawVitImage(image, { pixels: rep.extra.pixels, imageSize: rep.extra.image_size, patchSize: rep.extra.patch_size, attention: classTokenAttention(g.map(l, hd), Tk) });
    };
    for (let l = 0; l < L; l++) {
      grid.append(h('div', { class: 'axis', style: 'writing-mode: vertical-rl; transform: rotate(180deg); text-align:center' }, `layer ${l}`));
      for (let hd = 0; hd < H; hd++) {
        const canvas = h('canvas', { 'data-layer': l, 'data-head': hd, 'data-rows': Tq, 'data-cols': Tk, 'data-group': g.kind });
        const role = g.roles[l * H + hd], t = g.thumb(l, hd);
        const tile = h('div', { class: `tile${l === app.int('layer', 0) && hd === app.int('head', 0) ? ' selected' : ''}`, title: `layer ${l} head ${hd}` },
          canvas, role.sink ? h('span', { class: 'sink', title: `≥ ${g.sinkThreshold * 100}% of the attention on the first token` }, 'sink') : null,
          h('div', { class: 'cap' }, h('span', {}, `L${l}H${hd}`), h('span', {}, `H=${fmt(g.entropy(l, hd), 2)}`)));
        drawRectTile(canvas, t.values, t.rows, t.cols, tw, th);
        tile.onmouseenter = () => showPreview(l, hd);
        tile.onclick = () => app.go('head', { layer: l, head: hd, heads: null });
        grid.append(tile);
      }
    }
    const note = g.kind === 'cross'
      ? `Rows are the decoder's queries (<s> and the answer, ${Tq}), columns the encoder's keys (the source, ${Tk}): which source character each output position reads. H = mean row entropy in nats.`
      : `Rows are queries${g.kind === 'decoder_self' ? ' (the token predicting)' : ''}, columns keys; darker = more attention. H = mean row entropy in nats (0 = one key).`
        + (g.roleSet === 'gpt2' ? ' "sink" marks heads that park their attention on the first token.' : '');
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, `Every head — ${groupTitle(g)}`), groupControls(app, rep, 'model'), ...answerPanel(rep, fmt),
        h('p', { class: 'note' }, note), grid),
      preview));
    showPreview(Math.min(app.int('layer', 0), L - 1), Math.min(app.int('head', 0), H - 1));
  },
  figure() {
    const { rep, g } = last, { layers: L, heads: H } = g, size = 120, gap = 26, items = [];
    const t0 = g.thumb(0, 0), [w, hh] = tileSize(t0.rows, t0.cols, size);
    for (let l = 0; l < L; l++) for (let hd = 0; hd < H; hd++) {
      const t = g.thumb(l, hd), sink = g.roles[l * H + hd].sink;
      items.push({ type: 'map', x: 16 + hd * (w + gap), y: 72 + l * (hh + gap), w, h: hh, values: t.values, rows: t.rows, cols: t.cols,
        title: `L${l} H${hd}  H=${fmt(g.entropy(l, hd), 2)}${sink ? '  sink' : ''}`, titleColor: sink ? '#b54708' : undefined });
    }
    return { title: `Attention of every head, ${groupTitle(g)} — ${rep.model}`,
      subtitle: rep.kind === 'gpt2' ? `${rep.tokens.length} tokens: ${rep.input.slice(0, 120)}` : `input ${rep.input} → output ${rep.output}`,
      width: Math.max(420, 32 + H * (w + gap)), height: 90 + L * (hh + gap), items };
  },
  data() {
    const { rep, g } = last, { layers: L, heads: H } = g, thumbs = [], entropy = [];
    for (let l = 0; l < L; l++) {
      const row = [];
      for (let hd = 0; hd < H; hd++) { row.push(Array.from(g.thumb(l, hd).values)); entropy.push(g.entropy(l, hd)); }
      thumbs.push(row);
    }
    return { model: rep.model, model_type: rep.kind, input: rep.input, output: rep.output, group: g.name, queries: g.queries, keys: g.keys,
      tokens: rep.tokens, ids: rep.ids, side: rep.side, loss: rep.loss, next: rep.next, entropy, roles: g.roles, thumbnails: thumbs };
  },
};
