// A progress bar on stderr when it is a terminal; silent when piped.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, loss: number): void;
  stop(): void;
}

export function createProgress(total: number, label: string): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {value}/{total} steps | loss {loss} | eta {eta_formatted}`,
    hideCursor: true,
    fps: 10,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { loss: '-' });
  return {
    update(done, loss) { bar.update(done, { loss: loss.toFixed(4) }); },
    stop() { bar.stop(); },
  };
}
