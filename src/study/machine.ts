// The description of the machine and backend a measurement ran on (stored as JSON with every row).
import { arch, availableParallelism, cpus, platform, totalmem } from 'node:os';
import type { Backend } from '../engine/backend.js';
import { canonicalJson } from './db.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryBytes: number;
  platform: string;
  arch: string;
  node: string;
  simd: string;
}

export function machineInfo(backend: Backend): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    platform: platform(),
    arch: arch(),
    node: process.version,
    simd: backend.info().simd,
  };
}

export function machineJson(backend: Backend): string {
  return canonicalJson(machineInfo(backend));
}
