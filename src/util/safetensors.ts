// The safetensors layout (an 8-byte little-endian header length, a JSON header padded to 8 bytes, then
// the data), shared by the weights files (src/learned/weights.ts) and the optimizer state files
// (src/optimizers/state-file.ts).

/** The file's bytes: `header` as padded JSON before `data`. */
export function assembleSafetensors(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  let json = JSON.stringify(header);
  const padded = Math.ceil(Buffer.byteLength(json) / 8) * 8;
  json += ' '.repeat(padded - Buffer.byteLength(json));
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

/**
 * Parses the header of `bytes`; every problem goes to `fail` with a reason that reads after the
 * file's name, e.g. "is not a lopt weights file (…)" for kind "lopt weights".
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array, kind: string, fail: (why: string) => never,
): { header: Record<string, unknown>; dataOffset: number } {
  if (bytes.length < 8) fail(`is not a ${kind} file (${bytes.length} bytes; too short for a header)`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  if (headerLength > 100_000_000) fail(`is not a ${kind} file (implausible header length)`);
  if (8 + headerLength > bytes.length) fail(`is truncated: its header needs ${8 + headerLength} bytes, the file has ${bytes.length}`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8'));
  } catch {
    return fail(`is not a ${kind} file (its header is not JSON)`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail(`is not a ${kind} file (its header is not a JSON object)`);
  return { header: header as Record<string, unknown>, dataOffset: 8 + headerLength };
}
