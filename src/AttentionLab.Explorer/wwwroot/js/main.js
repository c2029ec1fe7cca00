// The Explorer page: reads its state from the URL, draws the chosen view on load, keeps the URL in step with every
// setting (so any view can be shared or rendered headless), and exports the view as PNG, SVG, JSON or HTML.
import { getJson, getMaps } from './api.js';
import { toCanvas, toSvg } from './figure.js';
import { hideTip } from './heatmap.js';
import { modelView } from './views/model.js';
import { headView } from './views/head.js';
import { stepView } from './views/step.js';
import { rolesView } from './views/roles.js';
import { interveneView } from './views/intervene.js';
import { generateView } from './views/generate.js';
import { playgroundView } from './views/playground.js';
import { compareView } from './views/compare.js';
import { analyzeView } from './views/analyze.js';
import { trainingOffer } from './views/training.js';
import { unavailable } from './report.js';
import { h } from './views/common.js';

const views = { model: modelView, head: headView, step: stepView, roles: rolesView, intervene: interveneView, generate: generateView, playground: playgroundView, compare: compareView, analyze: analyzeView };
// seq2seq, BERT and ViT models: the views of a report's attention groups (the same views as GPT-2's); GET /api/models
// lists them per model
const REPORT_VIEWS = ['model', 'head', 'roles'];
const PLACEHOLDERS = { seq2seq: 'a source, e.g. abcdef (empty: a held-out one)', bert: 'a text; [MASK] or _ marks a blank', vit: 'index:N or class:NAME (a held-out image)' };

/** A view this kind of model does not offer: its one-line reason, in the page. */
function unavailableView(kind, name) {
  const reason = unavailable(kind, name);
  return {
    async render(app, el) { el.replaceChildren(h('p', { class: 'empty', id: 'unavailable' }, reason)); },
    figure() { return { title: reason, width: 900, height: 60, items: [] }; },
    data() { return { unavailable: reason }; },
  };
}
const DEFAULT_TEXT = 'ROMEO: But soft, what light through yonder window breaks?';
const $ = id => document.getElementById(id);

const params = new URLSearchParams(location.search);

export const app = {
  models: [], kernels: [], current: null, mapsCache: new Map(), renderSerial: 0,
  get(name, fallback = null) { return params.has(name) ? params.get(name) : fallback; },
  int(name, fallback) { const v = parseInt(params.get(name) ?? '', 10); return Number.isFinite(v) ? v : fallback; },
  num(name, fallback) { const v = parseFloat(params.get(name) ?? ''); return Number.isFinite(v) ? v : fallback; },
  bool(name, fallback) { return params.has(name) ? params.get(name) !== '0' && params.get(name) !== 'false' : fallback; },
  /** Sets (or with null, removes) URL parameters without reloading; the address always reproduces the view. */
  set(values) {
    for (const [k, v] of Object.entries(values)) { if (v === null || v === undefined || v === '') params.delete(k); else params.set(k, String(v)); }
    history.replaceState(null, '', `${location.pathname}?${params}`);
  },
  get view() { return views[this.get('view', 'model')] ? this.get('view', 'model') : 'model'; },
  get modelInfo() { return this.models.find(m => m.name === this.get('model')) ?? null; },
  /** "gpt2", "seq2seq", "bert" or "vit". */
  get kind() { return this.modelInfo?.kind ?? 'gpt2'; },
  /** Whether the current model's kind offers view `name` (GPT-2: every view). */
  offers(name) { return this.kind === 'gpt2' || (this.modelInfo?.views ?? REPORT_VIEWS).includes(name); },
  /** The view object that draws `name` for the current model's kind. */
  viewFor(name) { return this.offers(name) ? views[name] : unavailableView(this.kind, name); },
  /** Encoder kinds: the text box shows the input the model read (a default one when none was typed). */
  showInput(input) {
    if (params.has('text')) return;
    $('text').value = this.kind === 'vit' ? `index:${(input.match(/held-out image (\d+)/) ?? [])[1] ?? 0}` : input;
  },
  /** The request fields that name the model, the input and the kernel. */
  input() {
    const body = { model: this.get('model') };
    if (params.has('ids')) body.ids = params.get('ids').split(',').filter(s => s.trim() !== '').map(Number);
    else body.text = this.get('text', DEFAULT_TEXT);
    const kernel = this.get('attention'); if (kernel) body.attention = kernel;
    return body;
  },
  /** The page's maps for this input (and layer, zeroed heads, hidden tokens), fetched once and cached. */
  async maps(extra = {}) {
    const body = { ...this.input(), layer: this.int('layer', 0), thumb: 64, ...extra };
    const key = JSON.stringify(body);
    if (!this.mapsCache.has(key)) {
      const p = getMaps(body);
      this.mapsCache.set(key, p);
      p.catch(() => this.mapsCache.delete(key));
      if (this.mapsCache.size > 24) this.mapsCache.delete(this.mapsCache.keys().next().value);
    }
    return this.mapsCache.get(key);
  },
  error(message) { const e = $('error'); if (!message) { e.hidden = true; e.textContent = ''; } else { e.hidden = false; e.textContent = message; } },
  status(message) { $('status').textContent = message ?? ''; },
  go(view, extra = {}) { this.set({ view, ...extra }); render(); },
  rerender() { render(); },
};
window.explorer = app;

async function render() {
  const serial = ++app.renderSerial;
  hideTip();
  document.querySelectorAll('#tabs [data-view]').forEach(b => {
    b.classList.toggle('active', b.dataset.view === app.view);
    const offered = app.offers(b.dataset.view);
    b.disabled = !offered;
    b.title = offered ? '' : unavailable(app.kind, b.dataset.view);
  });
  const note = $('kind-note');
  note.hidden = app.kind === 'gpt2' || !app.models.length;
  note.textContent = note.hidden ? '' : `${app.kind} model: Model, Heads and Heads at a glance show ${app.kind === 'seq2seq' ? 'encoder, decoder and cross attention (pick the group in the view)' : app.modelInfo?.causal ? 'its causal self-attention' : 'its encoder self-attention'}; the other views need a GPT-2 model.`;
  $('text').placeholder = PLACEHOLDERS[app.kind] ?? (params.has('ids') ? `ids ${app.get('ids')}` : 'type a sentence and press Enter');
  const el = $('view');
  app.error(null);
  if (!app.models.length) { app.current = null; trainingOffer(app, el); return; }
  const view = app.viewFor(app.view);
  app.current = view;
  document.body.dataset.ready = '0';
  const t0 = performance.now();
  app.status('computing…');
  try {
    await view.render(app, el, () => serial === app.renderSerial);
    if (serial !== app.renderSerial) return;
    app.status(`${app.view} view · ${(performance.now() - t0).toFixed(0)} ms`);
  } catch (e) {
    if (serial !== app.renderSerial) return;
    app.status('');
    app.error(e.message);
    el.replaceChildren();
  } finally {
    if (serial === app.renderSerial) document.body.dataset.ready = '1';
  }
}

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob); a.download = name;
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function baseName() { return `attention-${app.view}-${(app.get('model') || 'model').replace(/[^\w.-]+/g, '_')}`; }

/** The current view as a blob of the given kind (also used by the tests). */
app.exportBlob = async function exportBlob(kind) {
  if (!app.current) throw new Error('nothing to export yet');
  const figure = app.current.figure(app);
  if (kind === 'png') return new Promise(ok => toCanvas(figure).toBlob(ok, 'image/png'));
  if (kind === 'svg') return new Blob([toSvg(figure)], { type: 'image/svg+xml' });
  if (kind === 'json') return new Blob([JSON.stringify({ url: location.href, view: app.view, ...app.current.data(app) })], { type: 'application/json' });
  if (kind === 'html') return new Blob([snapshot(figure)], { type: 'text/html' });
  throw new Error(`unknown export ${kind}`);
};

/** A standalone HTML file: the figure as inline SVG, the data as JSON, the link that reproduces the view. */
function snapshot(figure) {
  const data = JSON.stringify({ url: location.href, view: app.view, ...app.current.data(app) }).replace(/</g, '\\u003c');
  const esc = s => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(figure.title ?? 'Attention')}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#1d2433}svg{max-width:100%;height:auto;border:1px solid #d0d5dd}code{font-size:12px}</style></head>
<body><h1 style="font-size:18px">${esc(figure.title ?? '')}</h1><p>${esc(figure.subtitle ?? '')}</p>${toSvg(figure)}
<p>Snapshot of the AttentionLab Explorer, ${esc(new Date().toISOString())}. Reproduce it live: <code>${esc(location.href)}</code></p>
<script type="application/json" id="data">${data}</script></body></html>`;
}

async function exportView(kind) {
  try { download(`${baseName()}.${kind}`, await app.exportBlob(kind)); }
  catch (e) { app.error(`export failed: ${e.message}`); }
}

async function start() {
  document.querySelectorAll('#tabs [data-view]').forEach(b => { b.onclick = () => app.go(b.dataset.view); });
  document.querySelectorAll('[data-export]').forEach(b => { b.onclick = () => exportView(b.dataset.export); });
  $('input-form').onsubmit = e => {
    e.preventDefault();
    app.set({ model: $('model').value, text: $('text').value, ids: null, image: null, attention: $('kernel').value || null, zero: null, mask: null });
    render();
  };
  $('model').onchange = () => {
    const before = app.kind;
    app.set({ model: $('model').value });
    if (app.kind !== before || app.kind !== 'gpt2') {
      // another kind reads another input: start from its default, and from the first layer and head
      app.set({ text: null, ids: null, target: null, image: null, group: null, layer: null, head: null, heads: null, zero: null, mask: null });
      $('text').value = app.kind === 'gpt2' ? DEFAULT_TEXT : '';
    }
    render();
  };
  $('kernel').onchange = () => { app.set({ attention: $('kernel').value || null }); render(); };
  try {
    const [models, kernels] = await Promise.all([getJson('/api/models'), getJson('/api/kernels')]);
    app.models = models.models.filter(m => !m.error);
    app.canTrain = models.can_train_demo;
    app.kernels = kernels.kernels;
  } catch (e) { app.error(e.message); return; }
  const modelSelect = $('model');
  modelSelect.replaceChildren(...app.models.map(m => new Option(m.kind === 'gpt2' || !m.kind
    ? `${m.name} (${m.layers}L×${m.heads}H, ctx ${m.context})` : `${m.name} (${m.kind}, ${m.layers}L×${m.heads}H)`, m.name)));
  if (!app.modelInfo && app.models.length) app.set({ model: app.models[0].name });
  modelSelect.value = app.get('model') ?? '';
  const kernelSelect = $('kernel');
  kernelSelect.replaceChildren(new Option('as trained', ''), ...app.kernels.map(k => new Option(k, k.replace(/\[.*$/, '').replace(/:[A-Z]+/g, ''))));
  if (app.get('attention') && ![...kernelSelect.options].some(o => o.value === app.get('attention'))) kernelSelect.append(new Option(app.get('attention'), app.get('attention')));
  kernelSelect.value = app.get('attention') ?? '';
  $('text').value = params.has('ids') ? '' : app.get('text', app.kind === 'gpt2' ? DEFAULT_TEXT : '');
  if (params.has('ids')) $('text').placeholder = `ids ${app.get('ids')}`;
  render();
}

start();
