// Head view (BertViz's), for any group of any model: queries in the left column, keys in the right, joined by lines
// weighted by attention, one colour per head; hover a token to keep only its lines; toggle, solo or overlay heads,
// or average them. Beside it the selected head's full map with zoom and pan (any length up to the context). For
// cross-attention the left column is the decoder (<s> and the answer) and the right the encoder (the source), so
// the two columns differ in length. For a grouped-query (or multi-query) model a row of buttons says which query heads
// share each key/value head ("kv 0: heads 0–1"); a button shows that group's heads.
import { ZoomMap, headColor, fmt, printable } from '../heatmap.js';
import { report, currentGroup, groupTitle, groupControls, meanOver, meanEntropy } from '../report.js';
import { h, select, activeHeads, headChips, kvGroups, kvGroupLabel } from './common.js';

let last = null;

export const headView = {
  async render(app, el, alive) {
    const rep = await report(app);
    if (!alive()) return;
    if (rep.kind !== 'gpt2') app.showInput?.(rep.input);
    const g = currentGroup(app, rep), { layers: L, heads: H, rows: Tq, cols: Tk } = g;
    const layer = Math.min(app.int('layer', 0), L - 1), head = app.int('head', 0) % H;
    const active = activeHeads(app, H), average = app.bool('avg', false);
    last = { rep, g, layer, head, active, average };
    const { chips, avgBox } = headChips(app, H, active, head, average, headColor);
    const Hkv = app.kind === 'gpt2' ? app.modelInfo?.key_value_heads : undefined, groups = kvGroups(H, Hkv);
    last.groups = groups;
    for (const gr of groups) for (const hd of gr.heads) {
      const chip = chips.querySelector(`[data-head='${hd}']`);
      chip.dataset.kv = gr.kv; chip.title = `reads key/value head ${gr.kv} (${kvGroupLabel(gr)}) · ${chip.title}`;
    }
    const kvRow = groups.length ? h('div', { class: 'controls', id: 'kv-groups' },
      h('span', { class: 'note' }, `${Hkv === 1 ? 'multi-query' : 'grouped-query'} attention: ${H} query heads share ${Hkv} key/value head${Hkv === 1 ? '' : 's'}`),
      ...groups.map(gr => h('button', { class: 'kv-group', 'data-kv': gr.kv, 'data-heads': gr.heads.join(','), style: `border-left: 4px solid ${headColor(gr.heads[0], H)}`,
        title: 'show the query heads that share this key/value head', onclick: () => app.go('head', { heads: gr.heads.join(','), head: gr.heads[0], avg: null }) }, kvGroupLabel(gr)))) : null;
    const pickers = [select('layer', [...Array(L).keys()].map(l => [l, l]), layer, v => app.go('head', { layer: v, heads: null })),
      select('head', [...Array(H).keys()].map(x => [x, x]), head, v => app.go('head', { head: v, heads: null }))];
    const lines = h('canvas', { id: 'lines', 'data-rows': Tq, 'data-cols': Tk });
    const T = Math.max(Tq, Tk), rowH = T <= 40 ? 18 : Math.max(600 / T, 0.6);
    const height = Math.max(160, Math.ceil(T * rowH) + 10), width = 440, dpr = window.devicePixelRatio || 1;
    lines.width = width * dpr; lines.height = height * dpr; lines.style.width = `${width}px`; lines.style.height = `${height}px`;
    // each column is centred on its own: the shorter one (the source of a short answer) sits in the middle
    const yq = i => 5 + (T - Tq) * rowH / 2 + (i + 0.5) * rowH, yk = j => 5 + (T - Tk) * rowH / 2 + (j + 0.5) * rowH;
    const sets = average ? [{ map: meanOver(g, layer, active), color: a => `rgba(29,36,51,${a})` }]
      : active.map(hd => ({ map: g.map(layer, hd), color: a => headColor(hd, H, a) }));
    const drawLines = focus => {
      const ctx = lines.getContext('2d'), xl = 120, xr = width - 120;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, width, height);
      if (rowH >= 8) {
        ctx.font = `${Math.min(12, rowH * 0.8)}px DejaVu Sans Mono, monospace`; ctx.textBaseline = 'middle';
        ctx.textAlign = 'right';
        g.queries.forEach((s, i) => { ctx.fillStyle = focus?.side === 'q' && focus.i !== i ? '#98a2b3' : '#1d2433'; ctx.fillText(printable(s), xl - 6, yq(i)); });
        ctx.textAlign = 'left';
        g.keys.forEach((s, j) => { ctx.fillStyle = focus?.side === 'k' && focus.i !== j ? '#98a2b3' : '#1d2433'; ctx.fillText(printable(s), xr + 6, yk(j)); });
      }
      const limit = T > 150 && !focus ? 0.2 : 0.01;                     // a long input: only the strong lines until one token is picked
      for (const s of sets) for (let i = 0; i < Tq; i++) {
        if (focus?.side === 'q' && focus.i !== i) continue;
        for (let j = 0; j < Tk; j++) {
          if (focus?.side === 'k' && focus.i !== j) continue;
          const v = s.map[i * Tk + j];
          if (v < limit) continue;
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
    const shown = average ? sets[0].map : g.map(layer, head);
    const entropy = average ? meanEntropy(shown, Tq, Tk) : g.entropy(layer, head);
    const sides = g.kind === 'cross' ? 'decoder queries (left) attend to encoder keys (right)' : 'queries (left) attend to keys (right)';
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, `Layer ${layer}, ${groupTitle(g)}`),
        groupControls(app, rep, 'head'),
        h('div', { class: 'controls' }, ...pickers),
        h('div', { class: 'controls' }, chips, h('button', { onclick: () => app.go('head', { heads: [...Array(H).keys()].join(',') }) }, 'all heads'), avgBox),
        kvRow,
        h('p', { class: 'note' }, `Lines: ${sides}; weight and opacity = attention. Hover a token on the left to see where it looks, on the right to see who looks at it.`),
        lines),
      h('div', { class: 'panel' }, h('h2', {}, average ? `Average of heads ${active.join(', ')}` : `Layer ${layer}, head ${head}: ${Tq}×${Tk}`),
        h('div', { class: 'kv' }, h('span', {}, `entropy ${fmt(entropy, 3)} nats`), h('span', {}, 'wheel: zoom · drag: pan · double-click: reset')),
        mapCanvas)));
    new ZoomMap(mapCanvas, { values: shown, rows: Tq, cols: Tk, rowLabels: g.queries, colLabels: g.keys, size: 520,
      describe: (i, j, v) => `query ${i} ${JSON.stringify(g.queries[i])} → key ${j} ${JSON.stringify(g.keys[j])}\nweight ${fmt(v)}` });
  },
  figure() {
    const { rep, g, layer, head, active, average, groups } = last, H = g.heads, { rows: Tq, cols: Tk } = g;
    const lineH = Math.min(Math.max(Math.max(Tq, Tk) * 16, 200), 800), size = 420, scale = size / Math.max(Tq, Tk);
    const heads = average ? [{ map: meanOver(g, layer, active), color: 'rgba(29,36,51,1)' }] : active.map(hd => ({ map: g.map(layer, hd), color: headColor(hd, H, 1) }));
    const shown = average ? heads[0].map : g.map(layer, head);
    return {
      title: `${groupTitle(g)}, layer ${layer}, ${average ? `average of heads ${active.join(', ')}` : `heads ${active.join(', ')}`} — ${rep.model}`,
      subtitle: `${rep.kind === 'gpt2' ? `${Tq} tokens` : `input ${rep.input} → output ${rep.output}`}; lines: query (left) → key (right), weight = attention` +
        (groups.length ? `; key/value heads: ${groups.map(kvGroupLabel).join(', ')}` : ''),
      width: 520 + size + 120, height: Math.max(lineH, size + 90) + 80,
      items: [{ type: 'lines', x: 16, y: 60, w: 480, h: lineH, queries: g.queries, keys: g.keys, heads },
        { type: 'map', x: 600, y: 72, w: Tk * scale, h: Tq * scale, values: shown, rows: Tq, cols: Tk, rowLabels: g.queries, colLabels: g.keys,
          title: `${average ? 'average map' : `head ${head}`}: ${Tq}×${Tk}, entropy ${fmt(average ? meanEntropy(shown, Tq, Tk) : g.entropy(layer, head), 3)} nats` }],
    };
  },
  data() {
    const { rep, g, layer, active, groups } = last, maps = {};
    for (const hd of active) { const a = g.map(layer, hd), rows = []; for (let i = 0; i < g.rows; i++) rows.push(Array.from(a.subarray(i * g.cols, (i + 1) * g.cols))); maps[hd] = rows; }
    return { model: rep.model, model_type: rep.kind, input: rep.input, output: rep.output, group: g.name, layer,
      tokens: rep.tokens, queries: g.queries, keys: g.keys, heads: active, attention: maps,
      ...(groups.length ? { key_value_heads: groups.map(gr => ({ kv: gr.kv, heads: gr.heads })) } : {}) };
  },
};
