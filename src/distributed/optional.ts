// BullMQ and ioredis are optional packages: loaded when a role runs, not when lopt/distributed is
// imported (together they take most of a second); a missing one is one line naming it and the fix.
export { importOptional } from '../util/optional.js';

/** What needs them, as a missing package's message says. */
export const DISTRIBUTED = 'distributed meta-training (lopt meta-train --redis)';
