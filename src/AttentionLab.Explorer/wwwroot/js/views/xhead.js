// Head view of a seq2seq, BERT or ViT model (BertViz's, for any group): queries in the left column, keys in the
// right, joined by lines weighted by attention, one colour per head. For cross-attention the left column is the
// decoder (<s> and the answer) and the right the encoder (the source), so the two columns differ in length.
import { ZoomMap, headColor, fmt, printable } from '../heatmap.js';
import { report, currentGroup, groupMaps, groupTitle, encoderControls, meanOver, meanEntropy } from '../encoders.js';
import { h, select, activeHeads, headChips } from './common.js';

let last = null;

export const encoderHeadView = {
  async render(app, el, alive) {
    const r = await report(app);
    if (!alive()) return;
    app.showInput?.(r.input);
    const group = currentGroup(app, r), maps = groupMaps(r, group), L = maps.length;
    const layer = Math.min(app.int('layer', 0), L - 1), m = maps[layer], H = m.heads, head = app.int('head', 0) % H;
    const { rows: Tq, cols: Tk } = m;
    const active = activeHeads(app, H), average = app.bool('avg', false);
    last = { r, group, m, layer, head, active, average };
    const { chips, avgBox } = headChips(app, H, active, head, average, headColor);
    const pickers = [select('layer', maps.map((_, l) => [l, l]), layer, v => app.go('head', { layer: v, heads: null })),
      select('head', [...Array(H).keys()].map(x => [x, x]), head, v => app.go('head', { head: v, heads: null }))];
    const lines = h('canvas', { id: 'lines', 'data-rows': Tq, 'data-cols': Tk });
    const T = Math.max(Tq, Tk), rowH = T <= 40 ? 18 : Math.max(600 / T, 0.6);
    const height = Math.max(160, Math.ceil(T * rowH) + 10), width = 440, dpr = window.devicePixelRatio || 1;
    lines.width = width * dpr; lines.height = height * dpr; lines.style.width = `${width}px`; lines.style.height = `${height}px`;
    // each column is centred on its own: the shorter one (the source of a short answer) sits in the middle
    const yq = i => 5 + (T - Tq) * rowH / 2 + (i + 0.5) * rowH, yk = j => 5 + (T - Tk) * rowH / 2 + (j + 0.5) * rowH;
    const sets = average ? [{ map: meanOver(m, active), color: a => `rgba(29,36,51,${a})` }] : active.map(hd => ({ map: m.head(hd), color: a => headColor(hd, H, a) }));
    const drawLines = focus => {
      const ctx = lines.getContext('2d'), xl = 120, xr = width - 120;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, width, height);
      if (rowH >= 8) {
        ctx.font = `${Math.min(12, rowH * 0.8)}px DejaVu Sans Mono, monospace`; ctx.textBaseline = 'middle';
        ctx.textAlign = 'right';
        m.queries.forEach((s, i) => { ctx.fillStyle = focus?.side === 'q' && focus.i !== i ? '#98a2b3' : '#1d2433'; ctx.fillText(printable(s), xl - 6, yq(i)); });
        ctx.textAlign = 'left';
        m.keys.forEach((s, j) => { ctx.fillStyle = focus?.side === 'k' && focus.i !== j ? '#98a2b3' : '#1d2433'; ctx.fillText(printable(s), xr + 6, yk(j)); });
      }
      for (const s of sets) for (let i = 0; i < Tq; i++) {
        if (focus?.side === 'q' && focus.i !== i) continue;
        for (let j = 0; j < Tk; j++) {
          if (focus?.side === 'k' && focus.i !== j) continue;
          const v = s.map[i * Tk + j];
          if (v < 0.01) continue;
          ctx.strokeStyle = s.color(Math.min(1, v * (sets.length > 1 ? 0.8 : 1))); ctx.lineWidth = Math.max(0.4, v * 3);
          ctx.beginPath(); ctx.moveTo(xl, yq(i)); ctx.lineTo(xr, yk(j)); ctx.stroke();
        }
      }
    };
    drawLines(null);
    lines.onmousemove = e => {
      const b = lines.getBoundingClientRect(), left = e.clientX - b.left < width / 2, y = e.clientY - b.top - 5;
      const n = left ? Tq : Tk, i = Math.floor((y - (T - n) * rowH / 2) / rowH);
      drawLines(i >= 0 && i < n ? { side: left ? 'q' : 'k', i } : null);
    };
    lines.onmouseleave = () => drawLines(null);
    const mapCanvas = h('canvas', { id: 'head-map', 'data-rows': Tq, 'data-cols': Tk });
    const shown = average ? meanOver(m, active) : m.head(head);
    const sides = group === 'cross' ? 'decoder queries (left) attend to encoder keys (right)' : 'queries (left) attend to keys (right)';
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, `${groupTitle(group)}, layer ${layer}: ${sides}`),
        encoderControls(app, r, 'head'),
        h('div', { class: 'controls' }, ...pickers),
        h('div', { class: 'controls' }, chips, h('button', { onclick: () => app.go('head', { heads: [...Array(H).keys()].join(',') }) }, 'all heads'), avgBox),
        h('p', { class: 'note' }, 'Line weight and opacity = attention. Hover a token on the left to see where it looks, on the right to see who looks at it.'),
        lines),
      h('div', { class: 'panel' }, h('h2', {}, average ? `Average of heads ${active.join(', ')}` : `Layer ${layer}, head ${head}: ${Tq}×${Tk}`),
        h('div', { class: 'kv' }, h('span', {}, `entropy ${fmt(meanEntropy(shown, Tq, Tk), 3)} nats`), h('span', {}, 'wheel: zoom · drag: pan · double-click: reset')),
        mapCanvas)));
    new ZoomMap(mapCanvas, { values: shown, rows: Tq, cols: Tk, rowLabels: m.queries, colLabels: m.keys, size: 520,
      describe: (i, j, v) => `query ${i} ${JSON.stringify(m.queries[i])} → key ${j} ${JSON.stringify(m.keys[j])}\nweight ${fmt(v)}` });
  },
  figure() {
    const { r, group, m, layer, head, active, average } = last, size = 420;
    const shown = average ? meanOver(m, active) : m.head(head), scale = size / Math.max(m.rows, m.cols);
    return {
      title: `${groupTitle(group)}, layer ${layer}, ${average ? `average of heads ${active.join(', ')}` : `head ${head}`} — ${r.model_type}`,
      subtitle: `input ${r.input} → output ${r.output}; rows: queries, columns: keys`, width: size + 160, height: size + 160,
      items: [{ type: 'map', x: 90, y: 72, w: m.cols * scale, h: m.rows * scale, values: shown, rows: m.rows, cols: m.cols,
        rowLabels: m.queries, colLabels: m.keys, title: `${m.rows}×${m.cols}, entropy ${fmt(meanEntropy(shown, m.rows, m.cols), 3)} nats`}],
    };
  },
  data() {
    const { r, group, m, layer, active } = last, maps = {};
    for (const hd of active) { const a = m.head(hd), rows = []; for (let i = 0; i < m.rows; i++) rows.push(Array.from(a.subarray(i * m.cols, (i + 1) * m.cols))); maps[hd] = rows; }
    return { model_type: r.model_type, input: r.input, output: r.output, group, layer, queries: m.queries, keys: m.keys, heads: active, attention: maps };
  },
};
