// No model yet: offer to train the demo model (what `attnlab demo` trains), with its progress in the page.
import { getJson, postJson } from '../api.js';
import { fmt } from '../heatmap.js';
import { h } from './common.js';

export function trainingOffer(app, el) {
  const progress = h('progress', { max: 1, value: 0 }), line = h('p', { class: 'note', id: 'train-status' });
  const button = h('button', { class: 'primary', id: 'train-demo', disabled: !app.canTrain }, 'Train the demo model');
  const poll = async () => {
    try {
      const s = await getJson('/api/train-demo');
      if (s.steps) { progress.max = s.steps; progress.value = s.step ?? 0; }
      line.textContent = s.error ? `training failed: ${s.error}` : s.running
        ? `step ${s.step ?? 0} / ${s.steps ?? '…'} · loss ${fmt(s.loss)}${s.val_loss ? ` · validation ${fmt(s.val_loss)}` : ''} · ${Math.round(s.seconds)} s of ~${Math.round(s.budget_seconds)} s`
        : s.done ? `done: ${s.model}` : '';
      if (s.done) { location.search = `?model=${encodeURIComponent(s.model)}`; return; }
      if (s.running) setTimeout(poll, 1000);
    } catch (e) { app.error(e.message); }
  };
  button.onclick = async () => { button.disabled = true; try { await postJson('/api/train-demo', {}); poll(); } catch (e) { app.error(e.message); } };
  el.replaceChildren(h('div', { class: 'panel empty' }, h('h2', {}, 'No model yet'),
    h('p', {}, app.canTrain ? 'Train the demo model here: a 4-layer character-level GPT on tiny Shakespeare, about 3 minutes on a laptop. Progress shows below; the Explorer opens it when done.'
      : 'Start the Explorer with --model DIR, or run "attnlab demo" first.'),
    button, h('p', {}, progress), line));
  poll();
}
