// Small line charts on a canvas, drawn by hand: a series of [x, y] points,
// axes scaled to the data, the latest value labelled.

/**
 * drawLine draws points ([x, y], x increasing) on canvas.
 * @param {HTMLCanvasElement} canvas
 * @param {number[][]} points
 * @param {{color: string, unit: string, xSpan: number}} opts
 */
export function drawLine(canvas, points, opts) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const padL = 44, padR = 8, padT = 8, padB = 18;
  const grid = "#2a3542"; // --line of style.css
  const muted = "#8a98a8"; // --muted
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = muted;
  if (points.length === 0) {
    ctx.fillText("waiting for final blocks", padL, h / 2);
    return;
  }
  const xMax = points[points.length - 1][0];
  const xMin = Math.min(points[0][0], xMax - opts.xSpan);
  let yMax = 0;
  for (const p of points) yMax = Math.max(yMax, p[1]);
  yMax = niceCeil(yMax);
  const x = (v) => padL + ((v - xMin) / Math.max(xMax - xMin, 1e-9)) * (w - padL - padR);
  const y = (v) => h - padB - (v / yMax) * (h - padT - padB);
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    ctx.beginPath();
    ctx.moveTo(padL, y(v));
    ctx.lineTo(w - padR, y(v));
    ctx.stroke();
    ctx.fillText(formatTick(v), 2, y(v) + 4);
  }
  ctx.fillText(`last ${Math.round(opts.xSpan)} s`, padL, h - 4);
  ctx.strokeStyle = opts.color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  points.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p[0]), y(p[1])) : ctx.lineTo(x(p[0]), y(p[1]))));
  ctx.stroke();
}

function niceCeil(v) {
  if (v <= 0) return 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * mag) return m * mag;
  return 10 * mag;
}

function formatTick(v) {
  return v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k` : `${Math.round(v * 100) / 100}`;
}
