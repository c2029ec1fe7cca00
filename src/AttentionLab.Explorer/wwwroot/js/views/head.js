// Head view (BertViz's): tokens in two columns joined by lines weighted by attention, one colour per head; hover a
// token to keep only its lines; toggle, solo or overlay heads, or average them. Beside it, the selected head's full
// map with zoom and pan (any length up to the context).
import { ZoomMap, headColor, fmt, printable } from '../heatmap.js';
import { h, headSelector, activeHeads, headChips } from './common.js';

let last = null;

function averaged(m, list) {
  const T = m.length, avg = new Float32Array(T * T);
  for (const hd of list) { const a = m.map(hd); for (let i = 0; i < avg.length; i++) avg[i] += a[i] / list.length; }
  return avg;
}

export const headView = {
  async render(app, el, alive) {
    const m = await app.maps();
    if (!alive()) return;
    const { heads: H, length: T, layers: L } = m;
    const layer = m.layer, head = app.int('head', 0) % H;
    const active = activeHeads(app, H), average = app.bool('avg', false);
    last = { m, active, average, layer, head };
    const { chips, avgBox } = headChips(app, H, active, head, average, headColor);
    const allBtn = h('button', { onclick: () => app.go('head', { heads: [...Array(H).keys()].join(',') }) }, 'all heads');
    const lines = h('canvas', { id: 'lines' });
    const rowH = T <= 40 ? 18 : Math.max(600 / T, 0.6);
    const height = Math.max(160, Math.ceil(T * rowH) + 10), width = 440, dpr = window.devicePixelRatio || 1;
    lines.width = width * dpr; lines.height = height * dpr; lines.style.width = `${width}px`; lines.style.height = `${height}px`;
    const drawLines = (focus) => {
      const ctx = lines.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, width, height);
      const y = i => 5 + (i + 0.5) * rowH, xl = 120, xr = width - 120;
      if (rowH >= 8) {
        ctx.font = `${Math.min(12, rowH * 0.8)}px DejaVu Sans Mono, monospace`; ctx.textBaseline = 'middle';
        for (let i = 0; i < T; i++) {
          const dim = focus && !(focus.side === 'q' ? focus.i === i : focus.i === i);
          ctx.fillStyle = dim ? '#98a2b3' : '#1d2433';
          ctx.textAlign = 'right'; ctx.fillText(printable(m.tokens[i]), xl - 6, y(i));
          ctx.textAlign = 'left'; ctx.fillText(printable(m.tokens[i]), xr + 6, y(i));
        }
      }
      const sets = average ? [{ map: averaged(m, active), color: a => `rgba(29,36,51,${a})` }] : active.map(hd => ({ map: m.map(hd), color: a => headColor(hd, H, a) }));
      const limit = T > 150 && !focus ? 0.2 : 0.01;
      for (const s of sets) for (let i = 0; i < T; i++) {
        if (focus && focus.side === 'q' && focus.i !== i) continue;
        for (let j = 0; j < T; j++) {
          if (focus && focus.side === 'k' && focus.i !== j) continue;
          const v = s.map[i * T + j];
          if (v < limit) continue;
          ctx.strokeStyle = s.color(Math.min(1, v * (sets.length > 1 ? 0.8 : 1))); ctx.lineWidth = Math.max(0.4, v * 3);
          ctx.beginPath(); ctx.moveTo(xl, y(i)); ctx.lineTo(xr, y(j)); ctx.stroke();
        }
      }
    };
    drawLines(null);
    lines.onmousemove = e => {
      const r = lines.getBoundingClientRect(), x = e.clientX - r.left, i = Math.floor((e.clientY - r.top - 5) / rowH);
      if (i < 0 || i >= T) { drawLines(null); return; }
      drawLines(x < width / 2 ? { side: 'q', i } : { side: 'k', i });
    };
    lines.onmouseleave = () => drawLines(null);
    const mapCanvas = h('canvas', { id: 'head-map' });
    const shown = average ? averaged(m, active) : m.map(head);
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, `Layer ${layer}: queries (left) attend to keys (right)`),
        h('div', { class: 'controls' }, ...headSelector(app, L, H, (l, hd) => app.go('head', { layer: l, head: hd, heads: null }))),
        h('div', { class: 'controls' }, chips, allBtn, avgBox),
        h('p', { class: 'note' }, 'Line weight and opacity = attention. Hover a token on the left to see where it looks, on the right to see who looks at it.'),
        lines),
      h('div', { class: 'panel' }, h('h2', {}, average ? `Average of heads ${active.join(', ')}` : `Layer ${layer}, head ${head}: ${T}×${T}`),
        h('div', { class: 'kv' }, h('span', {}, `entropy ${fmt(m.entropy[layer * H + head], 3)} nats`), h('span', {}, 'wheel: zoom · drag: pan · double-click: reset')),
        mapCanvas)));
    new ZoomMap(mapCanvas, { values: shown, rows: T, cols: T, rowLabels: m.tokens, colLabels: m.tokens, size: 520,
      describe: (i, j, v) => `query ${i} ${JSON.stringify(m.tokens[i])} → key ${j} ${JSON.stringify(m.tokens[j])}\nweight ${fmt(v)}` });
  },
  figure() {
    const { m, active, average, layer, head } = last, H = m.heads, T = m.length;
    const lineH = Math.min(Math.max(T * 16, 200), 800), mapSize = 420;
    const heads = average ? [{ map: averaged(m, active), color: 'rgba(29,36,51,1)' }] : active.map(hd => ({ map: m.map(hd), color: headColor(hd, H, 1) }));
    return {
      title: `Layer ${layer}, ${average ? `average of heads ${active.join(', ')}` : `heads ${active.join(', ')}`} — ${m.model}`,
      subtitle: `${T} tokens; lines: query (left) → key (right), weight = attention`, width: 520 + mapSize + 120, height: Math.max(lineH, mapSize + 90) + 80,
      items: [{ type: 'lines', x: 16, y: 60, w: 480, h: lineH, tokens: m.tokens, heads },
        { type: 'map', x: 600, y: 72, size: mapSize, values: average ? heads[0].map : m.map(head), rows: T, cols: T, rowLabels: m.tokens,
          title: average ? 'average map' : `head ${head}: entropy ${fmt(m.entropy[layer * H + head], 3)} nats` }],
    };
  },
  data() {
    const { m, active, layer } = last, T = m.length;
    const maps = {};
    for (const hd of active) { const a = m.map(hd), rows = []; for (let i = 0; i < T; i++) rows.push(Array.from(a.subarray(i * T, (i + 1) * T))); maps[hd] = rows; }
    return { model: m.model, tokens: m.tokens, layer, heads: active, attention: maps };
  },
};
