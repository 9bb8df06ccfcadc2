// Parsers for CLI values: each bad value becomes one clear error naming the flag and what it accepts.
import { InvalidArgumentError } from 'commander';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  }
  return n;
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

/** "key=value" with a number, true/false, or a bare word as the value. */
export function keyValue(value: string, previous: Record<string, number | boolean | string> = {}) {
  const match = /^([A-Za-z_][\w.]*)=(.+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  const [, key, raw] = match;
  let parsed: number | boolean | string = raw;
  if (raw === 'true' || raw === 'false') parsed = raw === 'true';
  else if (raw.trim() !== '' && Number.isFinite(Number(raw))) parsed = Number(raw);
  return { ...previous, [key]: parsed };
}
