// The Explorer's calls to its own server. Errors come back as {"error": "one line"} and are thrown as Error(line).

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  try { const body = await response.json(); if (body.error) message = body.error; } catch { /* not JSON */ }
  const e = new Error(message); e.status = response.status; return e;
}

export async function getJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw await failure(r);
  return r.json();
}

export async function postJson(url, body) {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw await failure(r);
  return r.json();
}

/** POST /api/maps: a JSON header, then float32 thumbnails (L, H, S, S) and the maps of one layer (H, T, T) — with
 *  "packing": "lower" (a causal model) each row i carries only its first i + 1 values, the rest being 0. */
export async function getMaps(body) {
  const r = await fetch('/api/maps', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw await failure(r);
  const buffer = await r.arrayBuffer();
  const n = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  const start = 4 + n + ((4 - (4 + n) % 4) % 4);
  const { layers: L, heads: H, side: S, length: T } = header;
  const thumbs = new Float32Array(buffer, start, L * H * S * S);
  const layerMaps = header.packing === 'lower'
    ? unpackLower(new Float32Array(buffer, start + L * H * S * S * 4, H * T * (T + 1) / 2), H, T)
    : new Float32Array(buffer, start + L * H * S * S * 4, H * T * T);
  return {
    ...header, thumbs, layerMaps, bytes: buffer.byteLength,
    thumb(l, h) { return thumbs.subarray((l * H + h) * S * S, (l * H + h + 1) * S * S); },
    map(h) { return layerMaps.subarray(h * T * T, (h + 1) * T * T); },
  };
}

/** (H, T, T) maps from rows packed up to the diagonal (row i: i + 1 values). */
function unpackLower(packed, H, T) {
  const full = new Float32Array(H * T * T);
  let at = 0;
  for (let r = 0; r < H * T; r++) {
    const n = (r % T) + 1;
    full.set(packed.subarray(at, at + n), r * T);
    at += n;
  }
  return full;
}
