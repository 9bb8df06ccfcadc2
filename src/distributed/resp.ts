// The Redis wire protocol (RESP2): encoding commands and incrementally decoding replies, with a bound
// on the size of any one reply so a misbehaving server cannot make us buffer without limit.

export type RespArg = string | number | Buffer;
export type RespValue = string | number | null | RedisReplyError | RespValue[];

/** An error reply of the server (`-ERR …`, `-NOSCRIPT …`, `-WRONGPASS …`). */
export class RedisReplyError extends Error {
  override name = 'RedisReplyError';
  /** The first word of the reply: ERR, NOSCRIPT, WRONGPASS, NOAUTH, … */
  readonly code: string;
  constructor(message: string) {
    super(message);
    this.code = /^[A-Z]+/.exec(message)?.[0] ?? 'ERR';
  }
}

/** A reply that breaks the protocol or exceeds the size bound: the connection must be dropped. */
export class RespProtocolError extends Error {
  override name = 'RespProtocolError';
}

const CRLF = Buffer.from('\r\n');

/** One command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly RespArg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/** Sentinel of an incomplete reply; `need` is the buffered length worth trying again at. */
interface Incomplete { incomplete: true; need: number }
const isIncomplete = (x: unknown): x is Incomplete => typeof x === 'object' && x !== null && (x as Incomplete).incomplete === true;

/**
 * Incremental decoder: feed it socket chunks, take whole replies out. Bulk strings are decoded as
 * UTF-8 (every reply lopt and BullMQ read is text); a bulk or array longer than `maxReplyBytes` is a
 * protocol error.
 */
export class RespDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = 1;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  constructor(private readonly maxReplyBytes = 256 * 1024 * 1024) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete reply, or undefined when more bytes are needed. */
  next(): RespValue | undefined {
    if (this.buffered < this.need) return undefined;
    if (this.chunks.length > 0) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), ...this.chunks]);
      this.pos = 0;
      this.chunks = [];
    }
    const start = this.pos;
    const value = this.parse();
    if (isIncomplete(value)) {
      // Parse again only once enough bytes are buffered (keeps a large reply linear, not quadratic).
      this.need = value.need - start;
      this.pos = start;
      this.buffered = this.buf.length - start;
      return undefined;
    }
    this.buffered = this.buf.length - this.pos;
    this.need = 1;
    if (this.pos === this.buf.length) {
      this.buf = Buffer.alloc(0);
      this.pos = 0;
    }
    return value;
  }

  private line(): string | Incomplete {
    const end = this.buf.indexOf(CRLF, this.pos);
    if (end < 0) {
      if (this.buf.length - this.pos > 64 * 1024) throw new RespProtocolError('reply header longer than 64 KiB');
      return { incomplete: true, need: this.buf.length + 1 };
    }
    const text = this.buf.toString('latin1', this.pos, end);
    this.pos = end + 2;
    return text;
  }

  private parse(): RespValue | Incomplete {
    if (this.pos >= this.buf.length) return { incomplete: true, need: this.pos + 1 };
    const type = String.fromCharCode(this.buf[this.pos]);
    this.pos += 1;
    const line = this.line();
    if (typeof line !== 'string') return line;
    switch (type) {
      case '+': return Buffer.from(line, 'latin1').toString('utf8');
      case '-': return new RedisReplyError(Buffer.from(line, 'latin1').toString('utf8'));
      case ':': {
        const n = Number(line);
        if (!Number.isFinite(n)) throw new RespProtocolError(`bad integer reply "${line.slice(0, 40)}"`);
        return n;
      }
      case '$': {
        const len = this.length(line);
        if (len < 0) return null;
        if (this.buf.length < this.pos + len + 2) return { incomplete: true, need: this.pos + len + 2 };
        const text = this.buf.toString('utf8', this.pos, this.pos + len);
        this.pos += len + 2;
        return text;
      }
      case '*': {
        const count = this.length(line);
        if (count < 0) return null;
        const out: RespValue[] = [];
        for (let i = 0; i < count; i++) {
          const item = this.parse();
          if (isIncomplete(item)) return item;
          out.push(item);
        }
        return out;
      }
      default:
        throw new RespProtocolError(`unknown reply type "${type}"`);
    }
  }

  private length(line: string): number {
    const n = Number(line);
    if (!Number.isInteger(n) || n < -1) throw new RespProtocolError(`bad length "${line.slice(0, 40)}"`);
    if (n > this.maxReplyBytes) throw new RespProtocolError(`reply of ${n} bytes exceeds the ${this.maxReplyBytes}-byte limit`);
    return n;
  }
}
