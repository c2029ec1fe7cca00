// Export figures: a view describes itself as a list of items (maps, lines, bars, text) and this file draws that
// list either on a canvas (PNG) or as SVG markup, with the same layout, so the two exports always agree.
import { attentionColor, divergingColor, matrixImage, printable } from './heatmap.js';

const rgb = ([r, g, b]) => `rgb(${r},${g},${b})`;
const esc = s => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function colorFor(item) {
  return item.color === 'diverging' ? v => divergingColor(v, item.limit) : attentionColor;
}

class CanvasPen {
  constructor(width, height, scale = 2) {
    this.canvas = document.createElement('canvas');
    this.canvas.width = width * scale; this.canvas.height = height * scale;
    this.ctx = this.canvas.getContext('2d');
    this.ctx.scale(scale, scale);
    this.ctx.fillStyle = '#fff'; this.ctx.fillRect(0, 0, width, height);
  }
  rect(x, y, w, h, fill, stroke) {
    if (fill) { this.ctx.fillStyle = fill; this.ctx.fillRect(x, y, w, h); }
    if (stroke) { this.ctx.strokeStyle = stroke; this.ctx.lineWidth = 1; this.ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1); }
  }
  line(x1, y1, x2, y2, color, width) {
    const c = this.ctx; c.strokeStyle = color; c.lineWidth = width; c.beginPath(); c.moveTo(x1, y1); c.lineTo(x2, y2); c.stroke();
  }
  text(x, y, s, { size = 12, color = '#1d2433', anchor = 'start', weight = 'normal', rotate = 0, mono = false } = {}) {
    const c = this.ctx; c.save(); c.translate(x, y); if (rotate) c.rotate((rotate * Math.PI) / 180);
    c.fillStyle = color; c.font = `${weight} ${size}px ${mono ? 'DejaVu Sans Mono, monospace' : 'DejaVu Sans, sans-serif'}`;
    c.textAlign = anchor === 'end' ? 'right' : anchor === 'middle' ? 'center' : 'left'; c.textBaseline = 'middle';
    c.fillText(s, 0, 0); c.restore();
  }
  matrix(x, y, w, h, item) {
    this.ctx.imageSmoothingEnabled = false;
    this.ctx.drawImage(matrixImage(item.values, item.rows, item.cols, colorFor(item)), x, y, w, h);
  }
}

class SvgPen {
  constructor(width, height) { this.width = width; this.height = height; this.parts = [`<rect width="${width}" height="${height}" fill="#fff"/>`]; }
  rect(x, y, w, h, fill, stroke) { this.parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${fill || 'none'}"${stroke ? ` stroke="${stroke}"` : ''}/>`); }
  line(x1, y1, x2, y2, color, width) { this.parts.push(`<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${color}" stroke-width="${width.toFixed(2)}"/>`); }
  text(x, y, s, { size = 12, color = '#1d2433', anchor = 'start', weight = 'normal', rotate = 0, mono = false } = {}) {
    this.parts.push(`<text x="${x}" y="${y}" font-size="${size}" fill="${color}" text-anchor="${anchor}" dominant-baseline="middle" font-weight="${weight}"` +
      ` font-family="${mono ? 'DejaVu Sans Mono, monospace' : 'DejaVu Sans, sans-serif'}"${rotate ? ` transform="rotate(${rotate} ${x} ${y})"` : ''}>${esc(s)}</text>`);
  }
  matrix(x, y, w, h, item) {
    const { rows, cols, values } = item, color = colorFor(item);
    if (rows * cols <= 16384) {      // real vector cells for maps a reader may want to edit
      const cw = w / cols, ch = h / rows, out = [];
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
        const v = values[i * cols + j];
        const c = v === null || v === undefined || Number.isNaN(v) ? [228, 231, 236] : color(v);
        if (c[0] === 255 && c[1] === 255 && c[2] === 255) continue;
        out.push(`<rect x="${(x + j * cw).toFixed(2)}" y="${(y + i * ch).toFixed(2)}" width="${cw.toFixed(2)}" height="${ch.toFixed(2)}" fill="${rgb(c)}"/>`);
      }
      this.parts.push(`<g shape-rendering="crispEdges">${out.join('')}</g>`);
    } else {                          // a 1024×1024 map as 1M rects would not open anywhere: embed it as an image
      const url = matrixImage(values, rows, cols, color).toDataURL('image/png');
      this.parts.push(`<image x="${x}" y="${y}" width="${w}" height="${h}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${url}"/>`);
    }
  }
  toString() { return `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}">${this.parts.join('')}</svg>`; }
}

function drawItems(pen, figure) {
  if (figure.title) pen.text(16, 18, figure.title, { size: 15, weight: 'bold' });
  if (figure.subtitle) pen.text(16, 38, figure.subtitle, { size: 11, color: '#667085' });
  for (const it of figure.items) {
    if (it.type === 'text') pen.text(it.x, it.y, it.text, it);
    else if (it.type === 'map') {
      if (it.title) pen.text(it.x, it.y - 8, it.title, { size: 11, color: it.titleColor || '#344054' });
      pen.matrix(it.x, it.y, it.w ?? it.size, it.h ?? it.size, it);
      pen.rect(it.x, it.y, it.w ?? it.size, it.h ?? it.size, null, '#d0d5dd');
      const labelled = it.rowLabels && it.rows <= 64 && (it.h ?? it.size) / it.rows >= 7;
      if (labelled) {
        const ch = (it.h ?? it.size) / it.rows, cw = (it.w ?? it.size) / it.cols, fs = Math.min(11, ch * 0.8);
        it.rowLabels.forEach((s, i) => pen.text(it.x - 3, it.y + (i + 0.5) * ch, printable(s), { size: fs, anchor: 'end', mono: true }));
        (it.colLabels || it.rowLabels).forEach((s, j) => pen.text(it.x + (j + 0.5) * cw, it.y + (it.h ?? it.size) + 4, printable(s), { size: fs, anchor: 'end', mono: true, rotate: -90 }));
      }
    } else if (it.type === 'lines') {
      // queries (left) → keys (right); "tokens" alone: the same tokens on both sides. Each column centred on its own.
      const { x, y, w, h } = it, queries = it.queries ?? it.tokens, keys = it.keys ?? it.tokens, Tq = queries.length, Tk = keys.length;
      const T = Math.max(Tq, Tk), step = h / T, fs = Math.min(12, step * 0.85);
      const yq = i => y + ((T - Tq) / 2 + i + 0.5) * step, yk = j => y + ((T - Tk) / 2 + j + 0.5) * step;
      if (step >= 6) {
        queries.forEach((s, i) => pen.text(x + 60, yq(i), printable(s), { size: fs, anchor: 'end', mono: true }));
        keys.forEach((s, j) => pen.text(x + w - 60, yk(j), printable(s), { size: fs, mono: true }));
      }
      for (const hd of it.heads) for (let i = 0; i < Tq; i++) for (let j = 0; j < Tk; j++) {
        const v = hd.map[i * Tk + j];
        if (v > 0.02) pen.line(x + 66, yq(i), x + w - 66, yk(j), hd.color.replace(/[\d.]+\)$/, `${Math.min(1, v).toFixed(2)})`), Math.max(0.5, v * 3));
      }
    } else if (it.type === 'bars') {
      if (it.title) pen.text(it.x, it.y - 10, it.title, { size: 12, weight: 'bold' });
      it.rows.forEach((r, k) => {
        const yy = it.y + k * 18;
        pen.text(it.x + 90, yy + 7, printable(r.label), { size: 11, anchor: 'end', mono: true });
        pen.rect(it.x + 96, yy + 1, Math.max(1, r.value * it.w), 6, '#2351a8');
        if (r.value2 !== undefined) pen.rect(it.x + 96, yy + 8, Math.max(1, r.value2 * it.w), 6, '#f79009');
        pen.text(it.x + 100 + it.w, yy + 7, r.text ?? '', { size: 10, color: '#667085' });
      });
    }
  }
}

export function toCanvas(figure) { const pen = new CanvasPen(figure.width, figure.height); drawItems(pen, figure); return pen.canvas; }
export function toSvg(figure) { const pen = new SvgPen(figure.width, figure.height); drawItems(pen, figure); return pen.toString(); }

/** A grid of maps (the model view, the compare view) as figure items. */
export function mapGrid(maps, { x0 = 16, y0 = 60, size = 120, gap = 26, columns }) {
  const items = [];
  maps.forEach((m, k) => {
    const r = Math.floor(k / columns), c = k % columns;
    items.push({ type: 'map', x: x0 + c * (size + gap), y: y0 + r * (size + gap) + 12, size, ...m });
  });
  return items;
}
