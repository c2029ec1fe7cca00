// One head, step by step: q·kᵀ → scaled → masked → softmax → weights·V with the model's real numbers; hover any
// cell for its value, see the row's entropy beside it and the q, k, v vectors of the hovered pair. The √d_k switch
// and a temperature on the scores show the rows flatten or saturate.
import { postJson } from '../api.js';
import { ZoomMap, divergingColor, attentionColor, matrixImage, fmt, labelMargin } from '../heatmap.js';
import { h, headSelector, checkbox } from './common.js';

let last = null;

const flat = rows => rows.flat().map(v => (v === null ? NaN : v));
const maxAbs = xs => xs.reduce((a, v) => (Number.isFinite(v) ? Math.max(a, Math.abs(v)) : a), 0) || 1;

function vectorStrip(label, values) {
  const c = document.createElement('canvas');
  const img = matrixImage(values, 1, values.length, v => divergingColor(v, maxAbs(values)));
  c.width = values.length * 6; c.height = 14; const ctx = c.getContext('2d'); ctx.imageSmoothingEnabled = false; ctx.drawImage(img, 0, 0, c.width, c.height);
  c.title = values.map(v => v.toFixed(3)).join(' ');
  return h('div', { class: 'kv' }, h('span', { style: 'width:70px' }, label), c);
}

export const stepView = {
  async render(app, el, alive) {
    const info = app.modelInfo;
    const layer = app.int('layer', 0), head = app.int('head', 0), scaled = app.bool('scaled', true), temperature = app.num('temp', 1);
    const r = await postJson('/api/head', { ...app.input(), layer, head, scaled, temperature });
    if (!alive()) return;
    last = r;
    const T = r.tokens.length, D = r.head_dim;
    const vectors = h('div', { class: 'panel', id: 'vectors' }, h('h2', {}, 'Hovered pair'), h('p', { class: 'note' }, 'Hover a cell of any matrix.'));
    const showPair = cell => {
      if (!cell) return;
      const [i, j] = cell;
      const dot = r.q[i].reduce((a, v, d) => a + v * r.k[j][d], 0);
      vectors.replaceChildren(h('h2', {}, `query ${i} ${JSON.stringify(r.tokens[i])} · key ${j} ${JSON.stringify(r.tokens[j])}`),
        vectorStrip(`q${i}`, r.q[i]), vectorStrip(`k${j}`, r.k[j]), vectorStrip(`v${j}`, r.v[j]),
        h('div', { class: 'kv' },
          h('span', {}, `q·k = ${fmt(dot)}`), h('span', {}, `× ${fmt(r.scale, 4)} = ${fmt(r.scaled_scores[i][j])}`),
          h('span', {}, r.masked[i][j] === null ? 'masked: −∞' : `kept`), h('span', {}, `softmax → ${fmt(r.weights[i][j])}`)),
        h('div', { class: 'kv' }, h('span', {}, `row ${i}: max ${fmt(r.row_max[i])}, Σexp ${fmt(r.row_sum[i])}, entropy ${fmt(r.entropy[i])} nats (uniform over ${i + 1}: ${fmt(Math.log(i + 1))})`)));
    };
    const stage = (title, key, color, note) => {
      const canvas = h('canvas', { 'data-stage': key });
      const values = flat(r[key]), cols = r[key][0].length, limit = maxAbs(values);
      new ZoomMap(canvas, { values, rows: T, cols, rowLabels: r.tokens, colLabels: key === 'output' ? [] : r.tokens, size: 230,
        color: color === 'div' ? v => divergingColor(v, limit) : attentionColor, onHover: c => c && key !== 'output' && showPair(c),
        describe: (i, j, v) => `${title}[${i}, ${j}] = ${Number.isNaN(v) ? '−∞ (masked)' : fmt(v, 4)}${key === 'weights' ? `\nrow entropy ${fmt(r.entropy[i])}` : ''}` });
      return h('div', { class: 'panel' }, h('h2', {}, title), h('p', { class: 'note', style: 'max-width:300px' }, note), canvas);
    };
    const entropyBars = h('canvas', { id: 'row-entropy' });
    {
      const w = 90, rowH = 230 / T * (230 / 230), dpr = window.devicePixelRatio || 1;
      entropyBars.width = w * dpr; entropyBars.height = 300 * dpr; entropyBars.style.width = `${w}px`; entropyBars.style.height = '300px';
      const ctx = entropyBars.getContext('2d'); ctx.scale(dpr, dpr);
      const top = labelMargin(230, T, T, true), maxH = Math.log(T);
      r.entropy.forEach((e, i) => { ctx.fillStyle = '#2351a8'; ctx.fillRect(0, top + i * rowH + 0.5, (e / (maxH || 1)) * (w - 10), Math.max(rowH - 1, 0.5)); });
    }
    const saturation = r.weights.reduce((a, row) => a + Math.max(...row), 0) / T;
    const controls = h('div', { class: 'controls' },
      ...headSelector(app, info.layers, info.heads, (l, hd) => app.go('step', { layer: l, head: hd })),
      checkbox(`divide by √d_k (√${D} = ${Math.sqrt(D).toFixed(2)})`, scaled, v => app.go('step', { scaled: v ? null : 0 }), 'scaled'),
      h('label', {}, 'temperature', h('input', { type: 'range', min: -2, max: 2, step: 0.05, value: Math.log(temperature) / Math.log(4), id: 'temperature',
        onchange: e => app.go('step', { temp: Math.pow(4, Number(e.target.value)).toFixed(3) }) }), h('span', {}, `τ = ${fmt(temperature, 2)}`)),
      h('span', { class: 'kv' }, `scale = ${scaled ? '1/√d_k' : '1'} / τ = ${fmt(r.scale, 4)}; mean max weight per row ${fmt(saturation)} (1 = saturated, one key)`));
    el.replaceChildren(
      h('div', { class: 'panel' }, h('h2', {}, `Layer ${layer}, head ${head}: attention(Q, K, V) = softmax(QKᵀ · scale + mask) · V`), controls),
      h('div', { class: 'row', style: 'margin-top:12px' },
        stage('1. scores  q·kᵀ', 'scores', 'div', 'Dot product of each query with each key (red +, blue −).'),
        stage(`2. scaled  × ${fmt(r.scale, 3)}`, 'scaled_scores', 'div', scaled ? 'Divided by √d_k so the scores do not grow with the head size.' : 'Not scaled: large scores push softmax towards one key.'),
        stage('3. masked', 'masked', 'div', r.causal ? 'Causal: a query may not see later keys (grey = −∞).' : 'No mask.'),
        stage('4. softmax → weights', 'weights', 'att', 'exp and normalise each row: every row sums to 1.'),
        h('div', { class: 'panel' }, h('h2', {}, 'row entropy'), h('p', { class: 'note', style: 'max-width:90px' }, 'nats, bar = share of ln T'), entropyBars),
        stage('5. output  weights·V', 'output', 'div', `Each row mixes the value vectors (${D} numbers per token).`),
        vectors));
    showPair([T - 1, 0]);
  },
  figure() {
    const r = last, T = r.tokens.length, size = 220;
    const stages = [['scores', 'q·kᵀ', 'diverging'], ['scaled_scores', `× ${fmt(r.scale, 3)}`, 'diverging'], ['masked', 'masked', 'diverging'], ['weights', 'softmax', 'attention'], ['output', 'weights·V', 'diverging']];
    return {
      title: `Layer ${r.layer}, head ${r.head}, step by step — ${r.model}`, subtitle: `scale ${fmt(r.scale, 4)}, temperature ${r.temperature}, ${T} tokens`,
      width: 16 + stages.length * (size + 90), height: size + 170,
      items: stages.map(([key, title, color], k) => {
        const values = flat(r[key]);
        return { type: 'map', x: 80 + k * (size + 90), y: 80, w: size, h: size, values, rows: T, cols: r[key][0].length, color, limit: maxAbs(values), title,
          rowLabels: k === 0 ? r.tokens : undefined, colLabels: r.tokens };
      }),
    };
  },
  data() { return { ...last }; },
};
