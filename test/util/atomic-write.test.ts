// Atomic writes really are atomic: a writer killed (SIGKILL) mid-write leaves the old or the new file,
// never a partial one; a write or copy that fails leaves the old file and no temporary file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyFileAtomic, writeFileAtomic, writeFileAtomicWith } from '../../src/util/atomic-write.js';

const HELPER_URL = new URL('../../src/util/atomic-write.js', import.meta.url).href;

/** Size of each version written by the killed writer: large enough that a write takes a while. */
const VERSION_BYTES = 24 << 20;
const MAGIC = 'ATOMTEST';
/** A temporary file of the helper: `<target>.<pid>.<12 hex>.tmp`. */
const TEMPORARY = /^.+\.\d+\.[0-9a-f]{12}\.tmp$/;

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'lopt-atomic-'));
}

/**
 * Version `v` of the file: MAGIC, v as u32 LE, then every remaining byte (v % 255) + 1 (never 0, so a
 * zero-filled or truncated file cannot pass for a version).
 */
function versionBytes(v: number, size: number): Buffer {
  const bytes = Buffer.alloc(size, (v % 255) + 1);
  bytes.write(MAGIC, 0, 'latin1');
  bytes.writeUInt32LE(v, MAGIC.length);
  return bytes;
}

/** The version a file holds; throws unless it is one complete version. */
function readVersion(file: string, size: number): number {
  const bytes = readFileSync(file);
  assert.equal(bytes.length, size, `${file} holds ${bytes.length} bytes, a version has ${size}`);
  assert.equal(bytes.toString('latin1', 0, MAGIC.length), MAGIC, `${file} lacks the header`);
  const v = bytes.readUInt32LE(MAGIC.length);
  const fill = (v % 255) + 1;
  const body = bytes.subarray(MAGIC.length + 4);
  const bad = body.findIndex((b) => b !== fill);
  assert.equal(bad, -1, `${file}: version ${v} has a wrong byte at ${bad + MAGIC.length + 4} (partial write)`);
  return v;
}

/** Copy mode rotates through this many prepared source files. */
const COPY_SOURCES = 3;

/** The version that write number `n` (1, 2, 3, …) puts in place: n itself, or in copy mode the source it copies. */
function versionOfWrite(mode: 'write' | 'copy', n: number): number {
  return mode === 'write' ? n : ((n - 1) % COPY_SOURCES) + 1;
}

/**
 * The writer child: mode "write" forever writes versions 1, 2, 3, … of `target` with writeFileAtomic;
 * mode "copy" first writes versions 1 … COPY_SOURCES to `<source>-<v>`, then forever copies them in
 * turn onto `target` with copyFileAtomic (so nearly all its time is spent copying). It prints the
 * number of each write once that write is in place.
 */
const WRITER = `
const [helperUrl, mode, target, source, sizeText] = process.argv.slice(1);
const { writeFileAtomic, copyFileAtomic } = await import(helperUrl);
const { writeFileSync } = await import('node:fs');
const size = Number(sizeText);
const version = (v) => {
  const bytes = Buffer.alloc(size, (v % 255) + 1);
  bytes.write(${JSON.stringify(MAGIC)}, 0, 'latin1');
  bytes.writeUInt32LE(v, ${MAGIC.length});
  return bytes;
};
if (mode === 'copy') for (let v = 1; v <= ${COPY_SOURCES}; v++) writeFileSync(source + '-' + v, version(v));
for (let n = 1; ; n++) {
  if (mode === 'write') writeFileAtomic(target, version(n));
  else copyFileAtomic(source + '-' + (((n - 1) % ${COPY_SOURCES}) + 1), target);
  process.stdout.write(n + '\\n');
}
`;

/**
 * Starts the writer, lets it complete `after` versions, SIGKILLs it at a random moment within (about)
 * the next write, and returns the last version it reported complete.
 */
function killMidWrite(mode: 'write' | 'copy', target: string, source: string, after: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, HELPER_URL, mode, target, source, String(VERSION_BYTES)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let last = 0;
    const reported: number[] = []; // times at which versions were reported
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        last = Number(line);
        reported.push(performance.now());
      }
      if (last >= after && killTimer === undefined && !child.killed) {
        const perWrite = (reported[reported.length - 1] - reported[0]) / Math.max(1, reported.length - 1);
        killTimer = setTimeout(() => child.kill('SIGKILL'), Math.random() * perWrite);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited (code ${code}, signal ${signal}) before it was killed: ${err}`));
      else resolve(last);
    });
  });
}

/** Runs `script` (an ES module, given the helper's URL and `args`) in a child whose file-size limit is `limitBytes` (RLIMIT_FSIZE). */
function runWithFileSizeLimit(limitBytes: number, script: string, ...args: string[]): { stdout: string; stderr: string; status: number | null } {
  const run = spawnSync('bash', ['-c', `ulimit -f ${limitBytes / 1024} && exec "$0" --input-type=module -e "$@"`, process.execPath, script, HELPER_URL, ...args], { encoding: 'utf8' });
  return { stdout: run.stdout, stderr: run.stderr, status: run.status };
}

/** Prints the code of the error the helper throws (or "no error"): writes `size` bytes to `target` (mode "write") or copies `source` to it (mode "copy"). */
const LIMITED_WRITER = `
const [helperUrl, mode, target, source, sizeText] = process.argv.slice(1);
const { writeFileAtomic, copyFileAtomic } = await import(helperUrl);
try {
  if (mode === 'write') writeFileAtomic(target, Buffer.alloc(Number(sizeText), 7));
  else copyFileAtomic(source, target);
  console.log('no error');
} catch (error) {
  console.log(error.code);
}
`;

function isRenameOverDirectoryError(error: unknown): boolean {
  return ['EISDIR', 'ENOTEMPTY', 'EEXIST', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '');
}

describe('writeFileAtomic', () => {
  it('writes, overwrites, creates missing folders and leaves no temporary file', () => {
    const dir = scratch();
    const file = join(dir, 'a', 'b', 'state.json');
    writeFileAtomic(file, '{"v":1}\n');
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...readFileSync(file)], [1, 2, 3]);
    writeFileAtomic(file, '');
    assert.equal(statSync(file).size, 0);
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['state.json']);
    rmSync(dir, { recursive: true });
  });

  it('leaves the old file or the new one, never a partial one, when the writer is SIGKILLed mid-write', async () => {
    const dir = scratch();
    const target = join(dir, 'checkpoint.bin');
    for (let round = 0; round < 5; round++) {
      const last = await killMidWrite('write', target, '', 2 + Math.floor(Math.random() * 3));
      const v = readVersion(target, VERSION_BYTES);
      assert.ok(v === versionOfWrite('write', last) || v === versionOfWrite('write', last + 1), `round ${round}: the file holds version ${v}, the writer had completed ${last}`);
    }
    // What a kill can leave: the target and temporary files, nothing else.
    for (const name of readdirSync(dir)) assert.ok(name === 'checkpoint.bin' || TEMPORARY.test(name), name);
    rmSync(dir, { recursive: true });
  });

  it('leaves the old file and no temporary file when the rename fails (the target is a non-empty folder)', () => {
    const dir = scratch();
    const target = join(dir, 'result.json');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'old');
    assert.throws(() => writeFileAtomic(target, 'new contents'), isRenameOverDirectoryError);
    assert.deepEqual(readdirSync(dir), ['result.json']);
    assert.equal(readFileSync(join(target, 'inside'), 'utf8'), 'old');
    rmSync(dir, { recursive: true });
  });

  it('leaves the old file and no temporary file when the disk fills mid-write (EFBIG under a file-size limit)', () => {
    const dir = scratch();
    const target = join(dir, 'result.bin');
    writeFileSync(target, 'old version\n');
    const run = runWithFileSizeLimit(1 << 20, LIMITED_WRITER, 'write', target, '', String(4 << 20));
    assert.equal(run.stdout.trim(), 'EFBIG', run.stderr);
    assert.equal(readFileSync(target, 'utf8'), 'old version\n');
    assert.deepEqual(readdirSync(dir), ['result.bin']);
    rmSync(dir, { recursive: true });
  });

  it('leaves the old file and no temporary file when producing the contents throws', () => {
    const dir = scratch();
    const target = join(dir, 'state.json');
    writeFileAtomic(target, 'old');
    assert.throws(() => writeFileAtomicWith(target, (fd) => {
      writeFileSync(fd, 'half of the new ');
      throw new Error('serialization failed');
    }), /serialization failed/);
    assert.equal(readFileSync(target, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['state.json']);
    rmSync(dir, { recursive: true });
  });
});

describe('copyFileAtomic', () => {
  it('copies exactly, sets the mode asked for whatever the umask and source mode, and leaves no temporary file', () => {
    const dir = scratch();
    const source = join(dir, 'source.bin');
    const bytes = versionBytes(3, (3 << 20) + 12345); // several chunks and a partial one
    writeFileSync(source, bytes);
    chmodSync(source, 0o444);
    const target = join(dir, 'out', 'copy.bin');
    copyFileAtomic(source, target, { mode: 0o644 });
    assert.ok(readFileSync(target).equals(bytes));
    assert.equal(statSync(target).mode & 0o777, 0o644);
    writeFileSync(join(dir, 'empty'), '');
    copyFileAtomic(join(dir, 'empty'), target);
    assert.equal(statSync(target).size, 0);
    assert.deepEqual(readdirSync(join(dir, 'out')), ['copy.bin']);
    rmSync(dir, { recursive: true });
  });

  it('leaves the old file or the new one, never a partial one, when the copier is SIGKILLed mid-copy', async () => {
    const dir = scratch();
    const target = join(dir, 'data.bin');
    mkdirSync(join(dir, 'from'));
    const source = join(dir, 'from', 'data.bin');
    for (let round = 0; round < 4; round++) {
      const last = await killMidWrite('copy', target, source, 2 + Math.floor(Math.random() * 3));
      const v = readVersion(target, VERSION_BYTES);
      const old = versionOfWrite('copy', last);
      const next = versionOfWrite('copy', last + 1);
      assert.ok(v === old || v === next, `round ${round}: the copy holds version ${v}, the copier had completed copy ${last} (version ${old}, next ${next})`);
    }
    for (const name of readdirSync(dir)) assert.ok(name === 'from' || name === 'data.bin' || TEMPORARY.test(name), name);
    rmSync(dir, { recursive: true });
  });

  it('leaves the old file and no temporary file when reading the source fails mid-copy', () => {
    const dir = scratch();
    const target = join(dir, 'data.bin');
    writeFileSync(target, 'old');
    const source = join(dir, 'not-a-file');
    mkdirSync(source); // opens, then every read fails with EISDIR: after the temporary file exists
    assert.throws(() => copyFileAtomic(source, target), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
    assert.equal(readFileSync(target, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir).sort(), ['data.bin', 'not-a-file']);
    rmSync(dir, { recursive: true });
  });

  it('leaves the old file and no temporary file when the rename fails (the target is a non-empty folder)', () => {
    const dir = scratch();
    const source = join(dir, 'source.bin');
    writeFileSync(source, versionBytes(1, 3 << 20));
    const target = join(dir, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'old');
    assert.throws(() => copyFileAtomic(source, target), isRenameOverDirectoryError);
    assert.equal(readFileSync(join(target, 'inside'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir).sort(), ['source.bin', 'target']);
    rmSync(dir, { recursive: true });
  });

  it('leaves the old file and no temporary file when the disk fills mid-copy (EFBIG under a file-size limit)', () => {
    const dir = scratch();
    const source = join(dir, 'source.bin');
    writeFileSync(source, versionBytes(2, 4 << 20));
    const target = join(dir, 'copy.bin');
    writeFileSync(target, 'old');
    const run = runWithFileSizeLimit(1 << 20, LIMITED_WRITER, 'copy', target, source, '0');
    assert.equal(run.stdout.trim(), 'EFBIG', run.stderr);
    assert.equal(readFileSync(target, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir).sort(), ['copy.bin', 'source.bin']);
    rmSync(dir, { recursive: true });
  });
});
