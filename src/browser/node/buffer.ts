// The global `Buffer` for the browser bundle (scripts/build-browser.mjs injects it): the three calls
// the bundled core makes, from(string, 'utf8'), from(bytes) and byteLength(string).
import { NodeLikeBytes } from './bytes.js';

export const Buffer = {
  from(value: string | ArrayLike<number>, encoding: string = 'utf8'): NodeLikeBytes {
    if (typeof value !== 'string') return NodeLikeBytes.from(value) as NodeLikeBytes;
    if (encoding !== 'utf8' && encoding !== 'utf-8') throw new Error(`lopt/browser: Buffer.from with encoding "${encoding}" is not supported (utf8 is)`);
    const encoded = new TextEncoder().encode(value);
    return new NodeLikeBytes(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  },
  byteLength(value: string): number {
    return new TextEncoder().encode(value).byteLength;
  },
};
