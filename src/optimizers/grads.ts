// Looking up the gradient of a parameter tensor, with a clear error when the trees do not match.
import type { Params, Tensor } from '../engine/tensor.js';

/** The gradient data for parameter `name`; throws a one-line Error if it is missing or mis-sized. */
export function gradientFor(optimizer: string, grads: Params, name: string, param: Tensor): Float32Array {
  const grad = grads[name];
  if (grad === undefined) {
    throw new Error(`${optimizer}: the gradients have no tensor "${name}" (they must match the parameters the state was built from)`);
  }
  if (grad.data.length !== param.data.length) {
    throw new Error(`${optimizer}: gradient "${name}" has ${grad.data.length} values but the parameter has ${param.data.length}`);
  }
  return grad.data;
}
