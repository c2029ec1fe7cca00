// Canvas heatmaps: colour maps, a zoomable/pannable map with hover read-out, and small tiles.

/** Attention in [0, 1] → white … dark blue; √ so small weights stay visible. */
export function attentionColor(v) {
  const s = Math.sqrt(Math.min(1, Math.max(0, v)));
  return [Math.round(255 - s * 230), Math.round(255 - s * 190), Math.round(255 - s * 95)];
}

/** Signed values → blue (−) … white … red (+), scaled by ±limit. */
export function divergingColor(v, limit) {
  const t = Math.max(-1, Math.min(1, v / (limit || 1)));
  return t >= 0 ? [255, Math.round(255 - t * 200), Math.round(255 - t * 210)] : [Math.round(255 + t * 210), Math.round(255 + t * 150), 255];
}

/** Colour of head h of H in the head view (evenly spaced hues). */
export function headColor(h, H, alpha = 1) {
  return `hsla(${Math.round((h * 360) / Math.max(H, 1) + 210) % 360}, 70%, 45%, ${alpha})`;
}

/** Paints a (rows, cols) matrix into an ImageData-backed canvas of that size (one pixel per cell). */
export function matrixImage(values, rows, cols, color) {
  const c = document.createElement('canvas');
  c.width = cols; c.height = rows;
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(cols, rows);
  for (let i = 0; i < rows * cols; i++) {
    const v = values[i];
    const [r, g, b] = v === null || v === undefined || Number.isNaN(v) ? [228, 231, 236] : color(v);
    img.data[i * 4] = r; img.data[i * 4 + 1] = g; img.data[i * 4 + 2] = b; img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** A small tile: the matrix scaled to size×size pixels, crisp. */
export function drawTile(canvas, values, side, size, color = attentionColor) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = size * dpr; canvas.height = size * dpr;
  canvas.style.width = `${size}px`; canvas.style.height = `${size}px`;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(matrixImage(values, side, side, color), 0, 0, canvas.width, canvas.height);
}

const tooltip = () => document.getElementById('tooltip');
export function showTip(event, text) {
  const t = tooltip(); t.textContent = text; t.hidden = false;
  t.style.left = `${event.clientX + 14}px`; t.style.top = `${event.clientY + 14}px`;
}
export function hideTip() { tooltip().hidden = true; }

/**
 * A (rows, cols) matrix on a canvas with token labels, wheel zoom, drag pan, double-click reset and a hover read-out.
 * Only the visible part is drawn (one drawImage of the cell image), so 1024×1024 maps stay responsive.
 */
export class ZoomMap {
  constructor(canvas, { values, rows, cols, rowLabels = [], colLabels = [], color = attentionColor, size = 520, describe, onHover, marks }) {
    Object.assign(this, { canvas, values, rows, cols, rowLabels, colLabels, color, describe, onHover, marks });
    this.margin = labelMargin(size, rows, cols, rowLabels.length > 0);
    this.size = size;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = (size + this.margin) * dpr; canvas.height = (size + this.margin) * dpr;
    canvas.style.width = `${size + this.margin}px`; canvas.style.height = `${size + this.margin}px`;
    canvas.classList.add('zoom');
    this.image = matrixImage(values, rows, cols, color);
    this.reset();
    canvas.onwheel = e => { e.preventDefault(); const [x, y] = this.local(e); this.zoomAt(x, y, e.deltaY < 0 ? 1.25 : 0.8); };
    canvas.ondblclick = () => { this.reset(); };
    let drag = null;
    canvas.onmousedown = e => { drag = { x: e.clientX, y: e.clientY, ox: this.ox, oy: this.oy }; };
    window.addEventListener('mouseup', () => { drag = null; });
    canvas.onmousemove = e => {
      if (drag && e.buttons) { this.ox = drag.ox + (e.clientX - drag.x); this.oy = drag.oy + (e.clientY - drag.y); this.draw(); return; }
      const cell = this.cellAt(e);
      if (!cell) { hideTip(); this.onHover?.(null); return; }
      const [i, j] = cell;
      const v = values[i * cols + j];
      showTip(e, this.describe ? this.describe(i, j, v) : `${i} → ${j}: ${fmt(v)}`);
      this.onHover?.(cell);
    };
    canvas.onmouseleave = () => { hideTip(); this.onHover?.(null); };
  }
  reset() { this.scale = this.size / Math.max(this.rows, this.cols); this.ox = 0; this.oy = 0; this.draw(); }
  local(e) { const r = this.canvas.getBoundingClientRect(); return [e.clientX - r.left - this.margin, e.clientY - r.top - this.margin]; }
  zoomAt(x, y, f) {
    const s = Math.min(Math.max(this.scale * f, this.size / Math.max(this.rows, this.cols)), 80);
    this.ox = x - ((x - this.ox) * s) / this.scale; this.oy = y - ((y - this.oy) * s) / this.scale; this.scale = s; this.draw();
  }
  cellAt(e) {
    const [x, y] = this.local(e);
    if (x < 0 || y < 0 || x > this.size || y > this.size) return null;
    const j = Math.floor((x - this.ox) / this.scale), i = Math.floor((y - this.oy) / this.scale);
    return i >= 0 && j >= 0 && i < this.rows && j < this.cols ? [i, j] : null;
  }
  draw() {
    const dpr = window.devicePixelRatio || 1, ctx = this.canvas.getContext('2d'), m = this.margin;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.size + m, this.size + m);
    ctx.save();
    ctx.beginPath(); ctx.rect(m, m, this.size, this.size); ctx.clip();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, m + this.ox, m + this.oy, this.cols * this.scale, this.rows * this.scale);
    if (this.marks) this.marks(ctx, m + this.ox, m + this.oy, this.scale);
    ctx.restore();
    ctx.strokeStyle = '#d0d5dd'; ctx.strokeRect(m + 0.5, m + 0.5, this.size - 1, this.size - 1);
    if (m > 8 && this.scale >= 6) {
      ctx.fillStyle = '#344054'; ctx.font = `${Math.min(12, this.scale * 0.8)}px DejaVu Sans Mono, monospace`;
      ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
      for (let i = 0; i < this.rows; i++) {
        const y = m + this.oy + (i + 0.5) * this.scale;
        if (y > m && y < m + this.size) ctx.fillText(printable(this.rowLabels[i] ?? ''), m - 4, y);
      }
      ctx.save(); ctx.textAlign = 'left';
      for (let j = 0; j < this.cols; j++) {
        const x = m + this.ox + (j + 0.5) * this.scale;
        if (x > m && x < m + this.size) { ctx.save(); ctx.translate(x, m - 4); ctx.rotate(-Math.PI / 2); ctx.fillText(printable(this.colLabels[j] ?? ''), 0, 0); ctx.restore(); }
      }
      ctx.restore();
    }
  }
}

/** Room for token labels when the cells are big enough to carry them. */
export function labelMargin(size, rows, cols, labelled) { return labelled && size / Math.max(rows, cols) >= 6 ? 70 : 8; }

export function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (v === -Infinity) return '−∞';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(digits);
}

/** Whitespace and control characters shown visibly (a space as ·, a newline as ⏎). */
export function printable(s) {
  return String(s).replace(/\n/g, '⏎').replace(/\t/g, '⇥').replace(/ /g, '·').replace(/\r/g, '␍');
}
