// src/util/optional.ts for browser bundles that include TensorFlow.js (the demo page,
// scripts/build-browser.mjs): lopt/tfjs asks importPeer for @tensorflow/tfjs-core, which is bundled
// with the page, so it is a static import here instead of Node's module resolution.
import * as tfc from '@tensorflow/tfjs-core';

export async function importPeer<T>(name: string, feature: string, fix: string): Promise<T> {
  if (name !== '@tensorflow/tfjs-core') throw new Error(`${feature} needs ${name}, which this bundle does not include: ${fix}`);
  return tfc as unknown as T;
}
