// Crash-safe file writes, the one way lopt writes results, checkpoints and state. The new contents
// go to a temporary file beside the target (same directory, so the same file system), which is
// flushed to disk (fsync) and only then renamed over the target; the directory is flushed after the
// rename so the rename itself survives a power cut (best effort where the platform refuses to fsync
// a directory). A reader, or a process started after a crash or a SIGKILL, therefore finds the old
// file or the new one, never a partial or empty one. When any step fails the temporary file is
// removed and the error rethrown; the target is untouched. (A writer killed by SIGKILL or a power
// cut can leave its temporary file, `<target>.<pid>.<random>.tmp`, behind; never the target half
// written.)
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AtomicWriteOptions {
  /** Permission bits of the new file, set exactly (not masked by the umask). Default: 0o666 less the umask, as for any new file. */
  mode?: number;
}

/** Bytes per read/write when copying a file. */
const COPY_CHUNK = 1 << 20;

/** Error codes by which a platform or file system says it cannot open or fsync a directory. */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF', 'ENOSYS']);

/**
 * Replaces `file` atomically with what `write` writes to the open file descriptor it is given (a
 * new, empty temporary file beside `file`). Creates the directory when missing. `write` may throw:
 * the temporary file is then removed, the error rethrown and `file` left as it was.
 */
export function writeFileAtomicWith(file: string, write: (fd: number) => void, options: AtomicWriteOptions = {}): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  // pid + random: unique across processes and across the worker threads of one process.
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fd = openSync(temporary, 'wx', options.mode ?? 0o666);
  try {
    if (options.mode !== undefined) fchmodSync(fd, options.mode);
    write(fd);
    fsyncSync(fd);
    const open = fd;
    fd = -1;
    closeSync(open);
    renameSync(temporary, file);
  } catch (error) {
    if (fd !== -1) {
      try { closeSync(fd); } catch { /* already failing: keep the first error */ }
    }
    try { rmSync(temporary, { force: true }); } catch { /* already failing: keep the first error */ }
    throw error;
  }
  syncDirectory(dir);
}

/** Replaces `file` atomically with `contents` (see the top of this file). */
export function writeFileAtomic(file: string, contents: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  writeFileAtomicWith(file, (fd) => writeFileSync(fd, contents), options);
}

/**
 * Copies `from` to `to` atomically, streaming it in 1 MiB chunks (any size, little memory): into a
 * temporary file beside `to`, fsync, rename, fsync the directory; on failure the temporary file is
 * removed and `to` left as it was.
 */
export function copyFileAtomic(from: string, to: string, options: AtomicWriteOptions = {}): void {
  const source = openSync(from, 'r');
  try {
    writeFileAtomicWith(to, (fd) => {
      const buffer = Buffer.allocUnsafe(COPY_CHUNK);
      for (;;) {
        const read = readSync(source, buffer, 0, COPY_CHUNK, null);
        if (read === 0) break;
        for (let offset = 0; offset < read;) offset += writeSync(fd, buffer, offset, read - offset);
      }
    }, options);
  } finally {
    closeSync(source);
  }
}

/** fsyncs a directory so a rename in it is durable; a no-op where the platform does not allow it. */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (error) {
    if (DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    closeSync(fd);
  }
}
