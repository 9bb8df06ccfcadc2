// `partition(...)`: different optimizers for groups of parameters selected by name (optax
// `multi_transform`), each group with its own sub-state; the result is itself an Optimizer.
import type { Params } from '../engine/tensor.js';
import { sortedNames } from '../engine/tensor.js';
import { compileNameMatcher, describeNameMatcher, type NameMatcher } from './name-match.js';
import type { Optimizer, OptimizerInitOptions, UpdateContext } from './optimizer.js';

export interface PartitionState {
  /** The parameter names of each group, in rule order (the default group last when given). */
  names: string[][];
  /** Each group's optimizer state (null for a group no parameter fell in). */
  states: unknown[];
}

/** `[which parameters, their optimizer]`. */
export type PartitionRule = readonly [NameMatcher, Optimizer<any>];

function subTree(tree: Params, names: readonly string[], what: string, owner: string): Params {
  const out: Params = {};
  for (const name of names) {
    const t = tree[name];
    if (t === undefined) throw new Error(`${owner}: the ${what} have no tensor "${name}" (they must match the parameters the state was built from)`);
    out[name] = t;
  }
  return out;
}

/**
 * Routes each parameter to the optimizer of the first rule whose pattern matches its name, else to
 * `fallback`; each optimizer sees only its own parameters and gradients and keeps its own state.
 * `rules` is an object `{ pattern: optimizer }` (keys are globs or `/regex/` strings, see NameMatcher)
 * or a list of `[matcher, optimizer]` pairs (matchers may also be RegExps or predicates). A
 * parameter that matches no rule when there is no fallback is an error at init. E.g. SGD for the
 * biases, Adam for the rest:
 *
 *     partition({ '/\\/b$/': sgd({ learningRate: 0.1 }) }, adam({ learningRate: 1e-3 }))
 *
 * Every group's optimizer is initialised with the same init options (numSteps, key). stateBytes is
 * the sum of the groups'. The state is plain data when the groups' states are.
 */
export function partition(
  rules: Readonly<Record<string, Optimizer<any>>> | readonly PartitionRule[], fallback?: Optimizer<any>,
): Optimizer<PartitionState> {
  const list: PartitionRule[] = Array.isArray(rules) ? [...(rules as readonly PartitionRule[])] : Object.entries(rules as Record<string, Optimizer<any>>);
  const groups = list.map(([matcher, optimizer], i) => {
    if (!optimizer || typeof optimizer.update !== 'function') throw new Error(`partition: rule ${i} (${describeNameMatcher(matcher)}) has no optimizer`);
    return { label: describeNameMatcher(matcher), matches: compileNameMatcher(matcher), optimizer: optimizer as Optimizer<unknown> };
  });
  if (fallback !== undefined) {
    if (typeof fallback.update !== 'function') throw new Error('partition: the default is not an optimizer');
    groups.push({ label: '*', matches: () => true, optimizer: fallback as Optimizer<unknown> });
  }
  if (groups.length === 0) throw new Error('partition needs at least one rule or a default optimizer');
  const name = `partition(${groups.map((g) => `${g.label}: ${g.optimizer.name}`).join(', ')})`;

  function assign(params: Params): string[][] {
    const names: string[][] = groups.map(() => []);
    for (const n of sortedNames(params)) {
      const i = groups.findIndex((g) => g.matches(n));
      if (i < 0) {
        throw new Error(`partition: parameter "${n}" matches no pattern (${groups.map((g) => g.label).join(', ')}) and no default optimizer was given`);
      }
      names[i].push(n);
    }
    return names;
  }

  return {
    name,
    init(params: Params, opts: OptimizerInitOptions): PartitionState {
      const names = assign(params);
      const states = groups.map((g, i) => (names[i].length ? g.optimizer.init(subTree(params, names[i], 'parameters', name), opts) : null));
      return { names, states };
    },
    update(state: PartitionState, grads: Params, ctx: UpdateContext): PartitionState {
      for (let i = 0; i < groups.length; i++) {
        if (state.names[i].length === 0) continue;
        state.states[i] = groups[i].optimizer.update(state.states[i], subTree(grads, state.names[i], 'gradients', name), ctx);
      }
      return state;
    },
    getParams(state: PartitionState): Params {
      const merged: Params = {};
      for (let i = 0; i < groups.length; i++) {
        if (state.names[i].length) Object.assign(merged, groups[i].optimizer.getParams(state.states[i]));
      }
      const out: Params = {}; // in name order, as every other optimizer's tree
      for (const n of sortedNames(merged)) out[n] = merged[n];
      return out;
    },
    stateBytes(params: Params): number {
      const names = assign(params);
      let bytes = 0;
      for (let i = 0; i < groups.length; i++) {
        if (names[i].length) bytes += groups[i].optimizer.stateBytes(subTree(params, names[i], 'parameters', name));
      }
      return bytes;
    },
  };
}
