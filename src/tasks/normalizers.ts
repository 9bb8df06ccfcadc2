// Task loss normalisers used by meta-training (LO: clip classification losses, NaN/Inf to the top).

/** Clips to [0, top]; NaN and ±Inf map to top. */
export function clippedNormalizer(top: number): (loss: number) => number {
  return (loss) => (Number.isFinite(loss) ? Math.min(Math.max(loss, 0), top) : top);
}

export function classificationClipTop(numClasses: number, clip: 'lo' | 'paper' = 'lo'): number {
  return (clip === 'lo' ? 1.5 : 1) * Math.log(numClasses);
}
