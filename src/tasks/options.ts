// Task knobs shared by every task (fixed keys), validated with zod at the edges.
import { z } from 'zod';
import type { Backend } from '../engine/backend.js';

export const taskKnobsSchema = z.object({
  /** Hidden width of MLP tasks; the model width of the transformer task. */
  width: z.number().int().positive().optional(),
  /** Number of hidden layers of MLP tasks. */
  depth: z.number().int().positive().optional(),
  /** Channel multiplier of conv tasks (and of the ResNets). */
  channelMult: z.number().positive().optional(),
  batchSize: z.number().int().positive().optional(),
  /** A text file for the language model (default: the State of the Union addresses). */
  text: z.string().min(1).optional(),
  /** Dimension of the quadratic tasks. */
  dim: z.number().int().positive().optional(),
  /** Side of the square input images of the ResNet tasks (224). */
  imageSize: z.number().int().positive().optional(),
  /** Classes of the ResNet tasks (1000). */
  classes: z.number().int().min(2).optional(),
  /** Tokens per sequence of the transformer task (256). */
  seqLen: z.number().int().positive().optional(),
  /** Transformer blocks of the transformer task (6). */
  layers: z.number().int().positive().optional(),
  /** Attention heads of the transformer task (12); `width` must be a multiple. */
  heads: z.number().int().positive().optional(),
  /**
   * Loss clip of the normaliser: "lo" clips classification losses to [0, 1.5·ln(classes)] as LO
   * does; "paper" clips to [0, ln(classes)] as the paper's text says.
   */
  normalizerClip: z.enum(['lo', 'paper']).optional(),
}).strict();

export type TaskKnobs = z.infer<typeof taskKnobsSchema>;

export interface TaskOptions extends TaskKnobs {
  backend?: Backend;
  dataDir?: string;
}

export const TASK_KNOB_KEYS = [
  'width', 'depth', 'channelMult', 'batchSize', 'dim', 'text', 'normalizerClip', 'imageSize', 'classes', 'seqLen', 'layers', 'heads',
] as const;
