// Bytes that print themselves as Node's Buffer does (utf8, hex): what the bundled core reads of
// Buffer (src/util/safetensors.ts decodes the header with Buffer.from(bytes).toString('utf8')) and of
// crypto.randomBytes.

export class NodeLikeBytes extends Uint8Array {
  override toString(encoding: string = 'utf8'): string {
    if (encoding === 'hex') return Array.from(this, (b) => b.toString(16).padStart(2, '0')).join('');
    if (encoding === 'utf8' || encoding === 'utf-8') return new TextDecoder().decode(this);
    throw new Error(`lopt/browser: Buffer encoding "${encoding}" is not supported (utf8 and hex are)`);
  }
}
