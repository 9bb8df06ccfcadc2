// The optional packages: the study (SQLite, vega) and distributed meta-training (BullMQ, ioredis)
// need them, the core (`import … from 'lopt'`, `lopt train`, `lopt data`) does not. They are
// "optionalDependencies" and loaded at the point of use only, so an install without them still
// trains; using a part that needs one that is missing fails with one line naming it and the fix.
import { createRequire } from 'node:module';

/** Each optional package and its version in package.json "optionalDependencies" (a test keeps them equal). */
export const OPTIONAL_PACKAGES = {
  'better-sqlite3': '12.11.1',
  bullmq: '6.7.0',
  ioredis: '6.0.0',
  vega: '6.4.0',
  'vega-lite': '6.4.3',
} as const;

export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** An optional package that the install lacks. The message is one line: what needs it and how to install it. */
export class OptionalPackageMissing extends Error {
  override name = 'OptionalPackageMissing';
  readonly code = 'LOPT_OPTIONAL_PACKAGE_MISSING';

  constructor(readonly packageName: OptionalPackage, feature: string, options?: { cause?: unknown }) {
    super(`${feature} needs the optional package ${packageName}: npm install ${packageName}@${OPTIONAL_PACKAGES[packageName]}`, options);
  }
}

/** The package a "not found" error of `require` or `import` names (bare specifiers only), or null. */
function missingPackageOf(error: unknown): string | null {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || (e.code !== 'MODULE_NOT_FOUND' && e.code !== 'ERR_MODULE_NOT_FOUND') || typeof e.message !== 'string') return null;
  const match = /Cannot find (?:package|module) '([^']+)'/.exec(e.message);
  if (!match || /^[./]|^[a-z]+:/i.test(match[1])) return null;
  const parts = match[1].split('/');
  return match[1].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * `error` as an OptionalPackageMissing when it says that `name`, or an optional package it depends
 * on (BullMQ needs ioredis), cannot be found; null for any other error (a missing file inside a
 * package, a native addon that fails to load: those keep their own message).
 */
function asMissing(error: unknown, name: OptionalPackage, feature: string): OptionalPackageMissing | null {
  const missing = missingPackageOf(error);
  if (missing === null || !(missing === name || Object.hasOwn(OPTIONAL_PACKAGES, missing))) return null;
  return new OptionalPackageMissing(missing as OptionalPackage, feature, { cause: error });
}

const requireHere = createRequire(import.meta.url);

/** `require(name)` of a CommonJS optional package, synchronously, for `feature` (e.g. "lopt study"). */
export function requireOptional<T>(name: OptionalPackage, feature: string): T {
  try {
    return requireHere(name) as T;
  } catch (error) {
    throw asMissing(error, name, feature) ?? error;
  }
}

/** `import(name)` of an optional package, for `feature` (e.g. "lopt meta-train --redis"). */
export async function importOptional<T>(name: OptionalPackage, feature: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    throw asMissing(error, name, feature) ?? error;
  }
}

/**
 * An optional peer dependency that the install lacks: a package that lopt does not install but a
 * part of it builds on (`lopt/tfjs` on @tensorflow/tfjs-core, which the user's own TensorFlow.js
 * brings). The message is one line: what needs it and the install that fixes it.
 */
export class OptionalPeerMissing extends Error {
  override name = 'OptionalPeerMissing';
  readonly code = 'LOPT_OPTIONAL_PACKAGE_MISSING';

  constructor(readonly packageName: string, feature: string, fix: string) {
    super(`${feature} needs ${packageName}, an optional peer dependency that is not installed: ${fix}`);
  }
}

/**
 * `import(name)` of an optional peer dependency for `feature`; when `name` itself cannot be found,
 * an OptionalPeerMissing that says `fix` (any other error keeps its own message). It carries no
 * `cause`: node would print node's own "not found" error under it when nothing catches it (a
 * top-level import).
 */
export async function importPeer<T>(name: string, feature: string, fix: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    if (missingPackageOf(error) === name) throw new OptionalPeerMissing(name, feature, fix);
    throw error;
  }
}
