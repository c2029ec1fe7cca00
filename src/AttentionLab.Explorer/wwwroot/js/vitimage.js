// A ViT's input image with the [CLS] token's attention over the patches drawn on it: the image in grey, each patch
// tinted red in proportion to the attention [CLS] pays it (scaled to the largest patch weight), with the grid.

/** The [CLS] query's weights over the N patches (keys 1..N) of a (Tq, Tk) map, [CLS] first. */
export function classTokenAttention(values, cols) { return Array.from(values.subarray(1, cols)); }

export function drawVitImage(canvas, { pixels, imageSize, patchSize, attention, size = 260 }) {
  const dpr = window.devicePixelRatio || 1, side = imageSize / patchSize, cell = size / imageSize;
  canvas.width = size * dpr; canvas.height = size * dpr; canvas.style.width = `${size}px`; canvas.style.height = `${size}px`;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  let lo = Infinity, hi = -Infinity;
  for (const p of pixels) { lo = Math.min(lo, p); hi = Math.max(hi, p); }
  for (let y = 0; y < imageSize; y++) for (let x = 0; x < imageSize; x++) {
    const g = Math.round(255 * (pixels[y * imageSize + x] - lo) / ((hi - lo) || 1));
    ctx.fillStyle = `rgb(${g},${g},${g})`; ctx.fillRect(x * cell, y * cell, cell + 0.5, cell + 0.5);
  }
  const top = Math.max(...attention, 1e-9), patch = patchSize * cell;
  for (let k = 0; k < attention.length; k++) {
    const r = Math.floor(k / side), c = k % side;
    ctx.fillStyle = `rgba(220, 38, 38, ${(0.75 * attention[k] / top).toFixed(3)})`;
    ctx.fillRect(c * patch, r * patch, patch, patch);
    ctx.strokeStyle = 'rgba(255,255,255,0.5)'; ctx.strokeRect(c * patch + 0.5, r * patch + 0.5, patch - 1, patch - 1);
  }
}
