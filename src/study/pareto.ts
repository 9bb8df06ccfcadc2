// The Pareto frontier of optimizers on (loss, cost), both minimised: which points no other dominates.
//
// Only trained points take part: an untrained learned optimizer (θ never meta-trained) is shown in
// the report but must neither sit on the frontier nor push a trained point off it. Points whose loss
// or cost is not a finite number (a diverged run, a missing measurement) take no part either.

export interface ParetoPoint {
  /** Lower is better (the mean training loss). */
  loss: number;
  /** Lower is better (time per step relative to SGD, optimizer-state bytes per parameter, …). */
  cost: number;
  /** False for an untrained learned optimizer: kept off the frontier. */
  trained: boolean;
}

/** Whether a point can take part: trained, with a finite loss and a finite cost. */
export function eligible(point: ParetoPoint): boolean {
  return point.trained && Number.isFinite(point.loss) && Number.isFinite(point.cost);
}

/** Whether a is at least as good as b on both axes and strictly better on one. */
export function dominates(a: ParetoPoint, b: ParetoPoint): boolean {
  return a.loss <= b.loss && a.cost <= b.cost && (a.loss < b.loss || a.cost < b.cost);
}

/**
 * For each point, whether it is on the frontier: eligible and dominated by no eligible point. Points
 * that tie exactly (same loss and cost) do not dominate each other, so both are on the frontier.
 */
export function paretoMask(points: readonly ParetoPoint[]): boolean[] {
  // Sort by cost, then loss: a point is dominated exactly when some earlier point (in this order) has
  // a lower loss, or an equal loss at a lower cost. One sweep keeps the best loss seen so far.
  const order = points.map((p, i) => i).filter((i) => eligible(points[i]))
    .sort((a, b) => points[a].cost - points[b].cost || points[a].loss - points[b].loss);
  const mask = points.map(() => false);
  let bestLoss = Infinity;
  let bestLossCost = Infinity;
  for (const i of order) {
    const p = points[i];
    const dominated = p.loss > bestLoss || (p.loss === bestLoss && p.cost > bestLossCost);
    mask[i] = !dominated;
    if (p.loss < bestLoss) {
      bestLoss = p.loss;
      bestLossCost = p.cost;
    }
  }
  return mask;
}

/** The frontier points, in order of increasing cost (and decreasing loss). */
export function paretoFrontier<P extends ParetoPoint>(points: readonly P[]): P[] {
  const mask = paretoMask(points);
  return points.filter((_, i) => mask[i]).sort((a, b) => a.cost - b.cost || a.loss - b.loss);
}
