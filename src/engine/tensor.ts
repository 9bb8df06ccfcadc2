// Tensors (plain shape + Float32Array objects) and parameter trees walked in lexicographic name order.

export type Tensor = { shape: number[]; data: Float32Array };
/** A parameter tree: stable names such as "mlp/linear_0/w" mapped to tensors. */
export type Params = Record<string, Tensor>;

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function tensor(shape: number[], data?: Float32Array | number[]): Tensor {
  const size = sizeOf(shape);
  const values = data === undefined ? new Float32Array(size) : Float32Array.from(data);
  if (values.length !== size) {
    throw new Error(`tensor data has ${values.length} values but shape [${shape.join(', ')}] needs ${size}`);
  }
  return { shape: [...shape], data: values };
}

export function zeros(shape: number[]): Tensor {
  return { shape: [...shape], data: new Float32Array(sizeOf(shape)) };
}

/**
 * Names in lexicographic order of UTF-16 code units — for the ASCII names used here the same order
 * as Python's sorted(), which is how JAX flattens dicts. Flattening, noise and checkpoints rely on it.
 */
export function sortedNames(params: Params): string[] {
  return Object.keys(params).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Total number of scalars in the tree. */
export function countParams(params: Params): number {
  let count = 0;
  for (const name of Object.keys(params)) count += params[name].data.length;
  return count;
}

export function mapParams(params: Params, fn: (t: Tensor, name: string) => Tensor): Params {
  const out: Params = {};
  for (const name of sortedNames(params)) out[name] = fn(params[name], name);
  return out;
}

/** Makes a zeroed Float32Array of a given length (a backend's `allocate`, or plain arrays). */
export type Allocate = (length: number) => Float32Array;

/** Plain zeroed arrays: what every backend but the wasm one's shared memory uses. */
export const plainArray: Allocate = (length) => new Float32Array(length);

/** Zeroed tensors of params' shapes; `allocate` makes their data (Backend.allocate). */
export function zerosLike(params: Params, allocate: Allocate = plainArray): Params {
  return mapParams(params, (t) => ({ shape: [...t.shape], data: allocate(sizeOf(t.shape)) }));
}

/** Copies of params; `allocate` makes their data (Backend.allocate). */
export function cloneParams(params: Params, allocate: Allocate = plainArray): Params {
  return mapParams(params, (t) => {
    const data = allocate(t.data.length);
    data.set(t.data);
    return { shape: [...t.shape], data };
  });
}

/** Concatenate all tensors in name order into one vector. */
export function flattenParams(params: Params): Float32Array {
  const out = new Float32Array(countParams(params));
  let offset = 0;
  for (const name of sortedNames(params)) {
    out.set(params[name].data, offset);
    offset += params[name].data.length;
  }
  return out;
}

/** Inverse of flattenParams: a new tree shaped like `like` holding the values of `flat`. */
export function unflattenParams(flat: Float32Array, like: Params): Params {
  if (flat.length !== countParams(like)) {
    throw new Error(`cannot unflatten ${flat.length} values into a tree of ${countParams(like)}`);
  }
  let offset = 0;
  return mapParams(like, (t) => {
    const data = flat.slice(offset, offset + t.data.length);
    offset += t.data.length;
    return { shape: [...t.shape], data };
  });
}

/** Throws a clear error when two trees differ in names or shapes. */
export function assertSameStructure(a: Params, b: Params, what = 'parameter trees'): void {
  const namesA = sortedNames(a);
  const namesB = sortedNames(b);
  if (namesA.join('\n') !== namesB.join('\n')) {
    throw new Error(`${what} differ in names: [${namesA.join(', ')}] vs [${namesB.join(', ')}]`);
  }
  for (const name of namesA) {
    if (a[name].shape.join('x') !== b[name].shape.join('x')) {
      throw new Error(`${what} differ at "${name}": [${a[name].shape}] vs [${b[name].shape}]`);
    }
  }
}
