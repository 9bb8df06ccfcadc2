// The header of a safetensors file (8-byte little-endian length, then a JSON object), shared by the
// weights files (src/learned/weights.ts) and the optimizer state files (src/optimizers/state-file.ts).

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
