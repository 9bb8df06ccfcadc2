// An optimizer state as a flat list of named arrays, and back, for any lopt optimizer. Shared by the
// state files (src/optimizers/state-file.ts) and lopt/tfjs's getWeights/setWeights (src/tfjs).
//
// lopt's optimizer states are plain objects (numbers, typed arrays, nested objects and arrays: see each
// optimizer's *State type). `stateLeaves` walks one in a fixed order and names every value by its path
// ("m/dense_1/kernel", "slots/[dense_1/kernel]/kernel/acc", "iteration"); array elements that carry a
// string `name` (per-tensor slots) are named by it rather than by position. A typed array met twice
// (views shared between fields, such as a slot's parameter view) is taken once, and arrays in `skip`
// (the parameters, which live in the tf.Variables) are left out. Encoding is bit-exact: float32 arrays
// as float32; numbers (float64) and Float64Arrays as the int32 words of their bytes.
//
// `restoreState` writes such a list into a state freshly built by the same optimizer for the same
// parameter names and shapes (so that every array exists with the right length): arrays in place
// (views stay shared), numbers and booleans by assignment.

export type LeafDtype = 'float32' | 'int32';

export interface EncodedLeaf {
  /** The path, with a suffix for how the values are encoded (":f64", ":num", ":bool", ":i32", …). */
  name: string;
  dtype: LeafDtype;
  values: Float32Array | Int32Array;
}

type Holder = Record<string | number, unknown>;

interface Leaf {
  path: string;
  value: unknown;
  holder: Holder;
  key: string | number;
}

function isTypedArray(x: unknown): x is ArrayBufferView & ArrayLike<number> {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** How leaves are named where a typed array is held by several fields. */
export interface LeafNaming {
  /**
   * Name a typed array by the smallest (UTF-16 order) of the paths it is reachable at, rather than the
   * first walked: the same name whichever fields alias it (a learned optimizer's kernel view of its own
   * clipped-gradient buffer after a step, a separate buffer in a fresh state). Optimizer state files
   * use it; lopt/tfjs keeps the first-walked names of the weights it has saved.
   */
  canonical?: boolean;
}

/** Every value of `state` to save, in walk order. */
function leavesOf(state: unknown, skip: ReadonlySet<unknown>, everyEmpty = false, naming: LeafNaming = {}): Leaf[] {
  const out: Leaf[] = [];
  const seen = new Set<unknown>();
  const leafOf = new Map<unknown, Leaf>();
  const paths = new Set<string>();
  const push = (leaf: Leaf) => {
    if (paths.has(leaf.path)) throw new Error(`optimizer state: two values at the path "${leaf.path}"`);
    paths.add(leaf.path);
    out.push(leaf);
  };
  const walk = (value: unknown, path: string, holder: Holder, key: string | number): void => {
    if (value === null || value === undefined || typeof value === 'string' || typeof value === 'function') return;
    if (typeof value === 'number' || typeof value === 'boolean') {
      push({ path, value, holder, key });
      return;
    }
    if (typeof value !== 'object') throw new Error(`optimizer state: cannot save a ${typeof value} at "${path}"`);
    // everyEmpty: a zero-length array (one constant shared by several fields) is named at every path.
    if (everyEmpty && isTypedArray(value) && value.length === 0) {
      if (!skip.has(value)) push({ path, value, holder, key });
      return;
    }
    if (seen.has(value)) {
      const leaf = leafOf.get(value);
      if (naming.canonical && leaf && path < leaf.path && !paths.has(path)) {
        paths.delete(leaf.path);
        paths.add(path);
        Object.assign(leaf, { path, holder, key });
      }
      return;
    }
    seen.add(value);
    if (isTypedArray(value)) {
      if (!skip.has(value)) {
        const leaf = { path, value, holder, key };
        leafOf.set(value, leaf);
        push(leaf);
      }
      return;
    }
    const prefix = path === '' ? '' : `${path}/`;
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        const named = item !== null && typeof item === 'object' && !isTypedArray(item) && typeof (item as { name?: unknown }).name === 'string';
        walk(item, named ? `${prefix}[${(item as { name: string }).name}]` : `${prefix}${i}`, value as unknown as Holder, i);
      });
      return;
    }
    if (value instanceof Map || value instanceof Set) throw new Error(`optimizer state: cannot save a Map or Set at "${path}"`);
    for (const k of Object.keys(value)) walk((value as Holder)[k], `${prefix}${k}`, value as Holder, k);
  };
  walk(state, '', { '': state } as Holder, '');
  return out;
}

function float64Words(values: ArrayLike<number>): Int32Array {
  return new Int32Array(Float64Array.from(values).buffer);
}

function fromFloat64Words(words: Int32Array): Float64Array {
  return new Float64Array(Int32Array.from(words).buffer);
}

function encodeLeaf(leaf: Leaf): EncodedLeaf {
  const v = leaf.value;
  if (typeof v === 'number') return { name: `${leaf.path}:num`, dtype: 'int32', values: float64Words([v]) };
  if (typeof v === 'boolean') return { name: `${leaf.path}:bool`, dtype: 'int32', values: Int32Array.of(v ? 1 : 0) };
  if (v instanceof Float32Array) return { name: leaf.path, dtype: 'float32', values: v.slice() };
  if (v instanceof Float64Array) return { name: `${leaf.path}:f64`, dtype: 'int32', values: float64Words(v) };
  if (v instanceof Int32Array) return { name: `${leaf.path}:i32`, dtype: 'int32', values: v.slice() };
  if (v instanceof Uint32Array) return { name: `${leaf.path}:u32`, dtype: 'int32', values: new Int32Array(v.slice().buffer) };
  if (v instanceof Int8Array || v instanceof Uint8Array || v instanceof Uint8ClampedArray || v instanceof Int16Array || v instanceof Uint16Array) {
    return { name: `${leaf.path}:int`, dtype: 'int32', values: Int32Array.from(v) };
  }
  throw new Error(`optimizer state: cannot save the ${(v as object).constructor?.name ?? typeof v} at "${leaf.path}"`);
}

/** The state as named arrays (copies), leaving out the arrays in `skip`. */
export function stateToLeaves(state: unknown, skip: ReadonlySet<unknown> = new Set(), naming: LeafNaming = {}): EncodedLeaf[] {
  return leavesOf(state, skip, false, naming).map(encodeLeaf);
}

/**
 * The names of the zero-length arrays of `state`, at every path where one is held (a shared empty
 * constant included): in a freshly built state these are the views that only hold something during
 * an update (a learned optimizer's view of the current gradient), not state.
 */
export function emptyLeafNames(state: unknown): Set<string> {
  return new Set(leavesOf(state, new Set(), true)
    .filter((leaf) => isTypedArray(leaf.value) && leaf.value.length === 0)
    .map((leaf) => encodeLeaf(leaf).name));
}

/**
 * Writes `saved` (from encodeState of a state of the same optimizer over the same names and shapes)
 * into `state`. Throws, naming the first difference, when they do not fit together.
 */
export function restoreLeaves(state: unknown, saved: readonly EncodedLeaf[], skip: ReadonlySet<unknown> = new Set(), naming: LeafNaming = {}): void {
  const byName = new Map(saved.map((leaf) => [leaf.name, leaf]));
  const used = new Set<string>();
  for (const leaf of leavesOf(state, skip, false, naming)) {
    const expected = encodeLeaf({ ...leaf, value: isTypedArray(leaf.value) ? (leaf.value as unknown as { subarray(a: number, b: number): unknown }).subarray(0, 0) : leaf.value });
    const stored = byName.get(expected.name);
    if (stored === undefined) {
      // Zero-length views (e.g. the gradient view of a slot before its first step) hold nothing.
      if (isTypedArray(leaf.value) && leaf.value.length === 0) continue;
      throw new Error(`the saved optimizer state has no "${expected.name}"`);
    }
    used.add(stored.name);
    const v = leaf.value;
    const values = stored.values;
    if (typeof v === 'number') {
      const restored = fromFloat64Words(values as Int32Array)[0];
      if (!Object.is(leaf.holder[leaf.key], restored)) leaf.holder[leaf.key] = restored;
      continue;
    }
    if (typeof v === 'boolean') {
      const restored = values[0] !== 0;
      if (leaf.holder[leaf.key] !== restored) leaf.holder[leaf.key] = restored;
      continue;
    }
    const target = v as ArrayLike<number> & { set(src: ArrayLike<number>): void; length: number };
    const decoded: ArrayLike<number> = v instanceof Float64Array ? fromFloat64Words(values as Int32Array)
      : v instanceof Uint32Array ? new Uint32Array(Int32Array.from(values).buffer) : values;
    if (decoded.length !== target.length) {
      throw new Error(`the saved optimizer state's "${expected.name}" has ${decoded.length} values, this state has ${target.length}`);
    }
    target.set(decoded);
  }
  const extra = saved.filter((leaf) => !used.has(leaf.name)).map((leaf) => leaf.name);
  // Leaves saved from views that are zero-length here (a slot's last gradient) are not state.
  if (extra.length) throw new Error(`the saved optimizer state has values this state has not: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
}
