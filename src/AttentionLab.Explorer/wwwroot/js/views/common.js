// Small DOM helpers shared by the views.
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'style') e.style.cssText = v;
    else if (k.startsWith('on')) e[k] = v;
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

export function numberInput(label, value, onchange, { min, max, step = 1, name } = {}) {
  const input = h('input', { type: 'number', value, min, max, step, name });
  input.onchange = () => onchange(input.value === '' ? null : Number(input.value));
  return h('label', {}, label, input);
}

export function checkbox(label, checked, onchange, name) {
  const input = h('input', { type: 'checkbox', name });
  input.checked = checked;
  input.onchange = () => onchange(input.checked);
  return h('label', {}, input, label);
}

export function select(label, options, value, onchange) {
  const s = h('select', {}, ...options.map(([v, text]) => new Option(text, v)));
  s.value = value;
  s.onchange = () => onchange(s.value);
  return h('label', {}, label, s);
}

/** "0.1,2.3" ⇄ [[0,1],[2,3]] (heads in a URL). */
export const heads = {
  parse: s => (s ? s.split(',').filter(Boolean).map(p => p.split('.').map(Number)) : []),
  format: list => list.map(([l, hh]) => `${l}.${hh}`).join(','),
};
export const positions = {
  parse: s => (s ? s.split(',').filter(x => x !== '').map(Number) : []),
  format: list => list.join(','),
};

export function headSelector(app, L, H, onpick) {
  const layer = Math.min(app.int('layer', 0), L - 1), head = Math.min(app.int('head', 0), H - 1);
  return [
    select('layer', [...Array(L).keys()].map(l => [l, l]), layer, v => onpick(Number(v), head)),
    select('head', [...Array(H).keys()].map(x => [x, x]), head, v => onpick(layer, Number(v))),
  ];
}

/** The heads a head view shows: "heads" from the URL (comma-separated), or the one "head". */
export function activeHeads(app, H) {
  const s = app.get('heads');
  if (s === null) return [app.int('head', 0) % H];
  return s.split(',').filter(Boolean).map(Number).filter(x => x >= 0 && x < H);
}

/** One chip per head in its colour: click toggles it, double-click solos it; and the "average" box. */
/** Grouped-query attention's groups: query head hd reads key/value head ⌊hd / (H/Hkv)⌋ (Hugging Face's repeat_kv),
 * so key/value head k serves the query heads k·H/Hkv … (k+1)·H/Hkv − 1. Empty for multi-head attention (Hkv = H). */
export function kvGroups(H, Hkv) {
  if (!Hkv || Hkv >= H || H % Hkv) return [];
  const n = H / Hkv;
  return [...Array(Hkv).keys()].map(kv => ({ kv, heads: [...Array(n).keys()].map(i => kv * n + i) }));
}

/** "kv 0: heads 0–2" (or "kv 0: head 0" for a group of one). */
export const kvGroupLabel = g => g.heads.length > 1 ? `kv ${g.kv}: heads ${g.heads[0]}–${g.heads.at(-1)}` : `kv ${g.kv}: head ${g.heads[0]}`;

export function headChips(app, H, active, head, average, color) {
  const chips = h('div', { class: 'chips', id: 'head-chips' }, ...[...Array(H).keys()].map(hd => {
    const on = active.includes(hd);
    const chip = h('span', { class: `chip ${on ? 'on' : 'off'}`, style: on ? `background:${color(hd, H)}` : `color:${color(hd, H)}`, 'data-head': hd,
      title: 'click: toggle · double-click: solo' }, `head ${hd}`);
    chip.onclick = e => {
      if (e.detail > 1) return;
      const next = on ? active.filter(x => x !== hd) : [...active, hd].sort((a, b) => a - b);
      app.go('head', { heads: next.join(','), head: next.includes(head) || !next.length ? head : hd });
    };
    chip.ondblclick = () => app.go('head', { heads: String(hd), head: hd });
    return chip;
  }));
  const avgBox = h('label', {}, h('input', { type: 'checkbox', id: 'avg', ...(average ? { checked: true } : {}), onchange: e => app.go('head', { avg: e.target.checked ? 1 : null }) }), 'average the selected heads');
  return { chips, avgBox };
}
