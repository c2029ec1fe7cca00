// Interventions: zero heads (click them) or hide tokens (click them) and see the next-token distribution and the
// loss change against the unedited model; for a hidden token, what the model predicts in its place.
import { postJson } from '../api.js';
import { fmt, printable } from '../heatmap.js';
import { h, heads, positions } from './common.js';

let last = null;

export const interveneView = {
  async render(app, el, alive) {
    const info = app.modelInfo, L = info.layers, H = info.heads;
    const zero = heads.parse(app.get('zero')), mask = positions.parse(app.get('mask'));
    const r = await postJson('/api/intervene', { ...app.input(), zero, mask, top_k: 10 });
    if (!alive()) return;
    last = r;
    const grid = h('div', { class: 'grid', id: 'zero-grid', style: `grid-template-columns: 60px repeat(${H}, 44px)` });
    for (let l = 0; l < L; l++) {
      grid.append(h('div', { class: 'axis' }, `layer ${l}`));
      for (let hd = 0; hd < H; hd++) {
        const on = zero.some(([a, b]) => a === l && b === hd);
        grid.append(h('span', { class: `chip${on ? ' zeroed' : ''}`, 'data-layer': l, 'data-head': hd, title: on ? 'zeroed: click to restore' : 'click to zero this head',
          onclick: () => app.go('intervene', { zero: heads.format(on ? zero.filter(([a, b]) => !(a === l && b === hd)) : [...zero, [l, hd]]) }) }, `H${hd}`));
      }
    }
    const tokens = h('div', { class: 'chips', id: 'mask-tokens' }, ...r.tokens.map((t, i) => {
      const on = mask.includes(i);
      return h('span', { class: `chip token${on ? ' masked' : ''}`, 'data-pos': i, title: on ? 'hidden: click to show' : 'click to hide this token from every query',
        onclick: () => app.go('intervene', { mask: positions.format(on ? mask.filter(x => x !== i) : [...mask, i].sort((a, b) => a - b)) }) }, printable(t));
    }));
    const maxP = Math.max(...r.changes.map(c => Math.max(c.before, c.after)), 1e-9);
    const bars = h('table', { class: 'cands', id: 'changes' }, h('tr', {}, h('th', {}, 'token'), h('th', {}, 'before'), h('th', {}, 'after'), h('th', {}, 'change')),
      ...r.changes.slice(0, 12).map(c => h('tr', {}, h('td', { class: 'token' }, printable(c.token)),
        h('td', {}, h('span', { class: 'bar', style: `width:${(c.before / maxP) * 140}px` }), ` ${(c.before * 100).toFixed(1)}%`),
        h('td', {}, h('span', { class: 'bar after', style: `width:${(c.after / maxP) * 140}px` }), ` ${(c.after * 100).toFixed(1)}%`),
        h('td', { style: `color:${c.change < 0 ? '#b42318' : '#067647'}` }, `${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)} pts`))));
    const lossDelta = r.after.loss !== null && r.before.loss !== null ? r.after.loss - r.before.loss : null;
    const preds = r.predictions.map(p => h('div', {}, h('b', {}, `position ${p.position} ${JSON.stringify(p.token)}: `),
      p.predicted ? `the model predicts there ${p.predicted.map(n => `${JSON.stringify(n.token)} ${(n.probability * 100).toFixed(1)}%`).join(', ')}; the real token is rank ${p.actual_rank} (${(p.actual_probability * 100).toFixed(2)}%)` : 'nothing precedes it'));
    el.replaceChildren(h('div', { class: 'row' },
      h('div', { class: 'panel' }, h('h2', {}, 'Zero heads'), h('p', { class: 'note' }, 'A zeroed head adds nothing to the residual stream (its output × 0).'), grid,
        h('h3', {}, 'Hide tokens (no query may attend to them)'), tokens,
        h('p', {}, h('button', { onclick: () => app.go('intervene', { zero: null, mask: null }) }, 'reset'))),
      h('div', { class: 'panel', id: 'intervene-result' }, h('h2', {}, 'Effect on the next token'),
        h('div', { class: 'kv' }, h('span', {}, `loss before ${fmt(r.before.loss)}`), h('span', {}, `after ${fmt(r.after.loss)}`),
          h('span', { id: 'loss-delta' }, `Δ ${lossDelta === null ? '—' : (lossDelta >= 0 ? '+' : '') + fmt(lossDelta)}`), h('span', {}, `KL(before‖after) ${fmt(r.kl, 4)} nats`)),
        bars, ...preds)));
  },
  figure() {
    const r = last;
    return {
      title: `Intervention — ${r.model}`, subtitle: `zeroed ${r.zeroed.map(([l, hd]) => `L${l}H${hd}`).join(' ') || 'none'}; hidden positions ${r.masked.join(' ') || 'none'}; loss ${fmt(r.before.loss)} → ${fmt(r.after.loss)}; KL ${fmt(r.kl, 4)}`,
      width: 640, height: 100 + Math.min(12, r.changes.length) * 18 + 40,
      items: [{ type: 'bars', x: 16, y: 80, w: 380, title: 'next-token probability: before (blue) and after (orange)',
        rows: r.changes.slice(0, 12).map(c => ({ label: c.token, value: c.before, value2: c.after, text: `${(c.before * 100).toFixed(1)}% → ${(c.after * 100).toFixed(1)}%` })) }],
    };
  },
  data() { return { ...last }; },
};
