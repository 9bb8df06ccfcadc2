// The loss plot of the browser demo: training loss per step, one line per optimizer, on a canvas
// (log-scaled loss axis), redrawn whole after each step.

export interface Series {
  label: string;
  color: string;
  values: number[];
}

/** Draws the series on the canvas; x spans `steps`, y the range of every finite value. */
export function drawLosses(canvas: HTMLCanvasElement, series: Series[], steps: number): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  const pad = { left: 60, right: 20, top: 20, bottom: 40 };
  ctx.clearRect(0, 0, width, height);
  const finite = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && v > 0);
  if (finite.length === 0) return;
  const lo = Math.log(Math.min(...finite));
  const hi = Math.log(Math.max(...finite)) + 1e-9;
  const x = (step: number): number => pad.left + (step / Math.max(1, steps - 1)) * (width - pad.left - pad.right);
  const y = (v: number): number => pad.top + (1 - (Math.log(v) - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad.left, pad.top, width - pad.left - pad.right, height - pad.top - pad.bottom);
  ctx.fillStyle = '#444';
  ctx.font = '12px sans-serif';
  ctx.fillText(Math.exp(hi).toFixed(3), 5, pad.top + 10);
  ctx.fillText(Math.exp(lo).toFixed(3), 5, height - pad.bottom);
  ctx.fillText('training loss (log scale) per step', pad.left, height - 12);
  series.forEach((s, i) => {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.values.forEach((v, step) => (step === 0 ? ctx.moveTo(x(step), y(v)) : ctx.lineTo(x(step), y(v))));
    ctx.stroke();
    ctx.fillStyle = s.color;
    ctx.fillText(`${s.label}: ${s.values.at(-1)?.toFixed(4) ?? ''}`, width - pad.right - 200, pad.top + 18 * (i + 1));
  });
}
