/**
 * A small SVG line-plot generator (no dependencies): one plot, several
 * series of (x, y) points, linear or logarithmic axes, "nice" ticks, a
 * legend, and an optional note under the title.
 */

export interface Series {
  name: string;
  points: [number, number][];
  color?: string;
  dashed?: boolean;
}

export interface PlotOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  /** Format of tick labels. */
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Ticks at 1, 2, 5 x 10^k inside [lo, hi] (linear), about `count` of them. */
function linearTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Ticks at powers of ten (and 2, 5 x when the range is short) inside [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const mults = b - a <= 2 ? [1, 2, 5] : [1];
  for (let e = a; e <= b; e++) {
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(Number(v.toPrecision(12)));
    }
  }
  return out.length ? out : [lo, hi];
}

export function defaultFormat(v: number): string {
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e4) return String(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

export function linePlot(o: PlotOptions): string {
  const legend = Math.max(0, ...o.series.map((s) => s.name.length));
  const m = { left: 80, right: 60 + Math.ceil(legend * 6.8), top: o.subtitle ? 62 : 44, bottom: 56 };
  const W = o.width ?? 560 + m.right;
  const H = o.height ?? 440;
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const pts = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0) && (!o.logY || y > 0));
  let xlo = Math.min(...pts.map((p) => p[0]));
  let xhi = Math.max(...pts.map((p) => p[0]));
  let ylo = o.logY ? Math.min(...pts.map((p) => p[1])) : 0;
  let yhi = Math.max(...pts.map((p) => p[1]));
  if (!pts.length) { xlo = 1; xhi = 10; ylo = o.logY ? 1 : 0; yhi = 10; }
  if (xhi === xlo) { xhi = xlo * 2 || 1; }
  if (o.logY) { ylo = 10 ** Math.floor(Math.log10(ylo)); yhi = 10 ** Math.ceil(Math.log10(yhi)); }
  else {
    yhi *= 1.08;
    const t = linearTicks(ylo, yhi);
    yhi = Math.max(yhi, t[t.length - 1]!);
  }
  if (yhi === ylo) yhi = ylo + 1;
  const fx = (x: number) => m.left + (o.logX ? (Math.log10(x) - Math.log10(xlo)) / (Math.log10(xhi) - Math.log10(xlo)) : (x - xlo) / (xhi - xlo)) * pw;
  const fy = (y: number) => m.top + ph - (o.logY ? (Math.log10(y) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo)) : (y - ylo) / (yhi - ylo)) * ph;
  const xf = o.xFormat ?? defaultFormat;
  const yf = o.yFormat ?? defaultFormat;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  if (o.subtitle) parts.push(`<text x="${m.left}" y="42" fill="#555">${esc(o.subtitle)}</text>`);
  // Grid and ticks.
  const xt = o.logX ? logTicks(xlo, xhi) : linearTicks(xlo, xhi);
  const yt = o.logY ? logTicks(ylo, yhi) : linearTicks(ylo, yhi);
  for (const x of xt) {
    const X = fx(x).toFixed(1);
    parts.push(`<line x1="${X}" y1="${m.top}" x2="${X}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${X}" y="${m.top + ph + 18}" text-anchor="middle">${esc(xf(x))}</text>`);
  }
  for (const y of yt) {
    const Y = fy(y).toFixed(1);
    parts.push(`<line x1="${m.left}" y1="${Y}" x2="${m.left + pw}" y2="${Y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 8}" y="${Number(Y) + 4}" text-anchor="end">${esc(yf(y))}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(o.xLabel)}${o.logX ? ' (log scale)' : ''}</text>`);
  parts.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}${o.logY ? ' (log scale)' : ''}</text>`);
  // Series.
  o.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0) && (!o.logY || y > 0));
    if (ok.length) {
      const d = ok.map(([x, y], j) => `${j ? 'L' : 'M'}${fx(x).toFixed(1)},${fy(y).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
      for (const [x, y] of ok) parts.push(`<circle cx="${fx(x).toFixed(1)}" cy="${fy(y).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${s.name}: ${xf(x)} -> ${yf(y)}`)}</title></circle>`);
    }
    const ly = m.top + 10 + i * 22;
    const lx = m.left + pw + 16;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<circle cx="${lx + 13}" cy="${ly}" r="3.5" fill="${color}"/>`);
    parts.push(`<text x="${lx + 32}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
