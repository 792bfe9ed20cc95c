// Reading a file while another process still writes it: every byte as it lands, until the
// writer says it is done and the end is reached. A replica restores this way from a store
// that is not on its disk; from a local file, extract-file.ts hands the file to native tools.
//
// Chunks are borrowed: each is a view of one buffer the next read overwrites. With a fresh
// buffer per read, checksumming a 1 GiB snapshot this way took ~2 core-seconds on the
// benchmark machine (a VM whose freed memory goes back to the host, so every new page
// faults in again); with one buffer, ~0.4 (bench/improvements.md §5).
import { promises as fs } from 'node:fs';

export interface TailOptions {
  /** True once the writer has finished: the file is then read to its end and the tail ends. */
  done: () => Promise<boolean>;
  /** Checked when there is nothing new to read; throwing ends the tail with that error. */
  check?: () => Promise<void>;
  /** How long to wait for the file to appear at all. */
  waitMs?: number;
  pollMs?: number;
  /** Called while waiting, so a long wait still heartbeats. */
  onWait?: () => void;
  /** Ends a wait (for the file, or for more of it) with the signal's reason. */
  signal?: AbortSignal;
}

/** How a reader waits: for the file to appear, then for more of it. */
export type WaitOptions = Pick<TailOptions, 'waitMs' | 'pollMs' | 'onWait' | 'signal'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens file for reading once it exists (its writer may not have created it yet). */
export async function openWhenPresent(file: string, o: WaitOptions = {}): Promise<fs.FileHandle> {
  const { waitMs = 600_000, pollMs = 50, onWait = () => undefined } = o;
  const deadline = Date.now() + waitMs;
  let fh: fs.FileHandle | undefined;
  while (!(fh = await fs.open(file, 'r').catch(() => undefined))) {
    o.signal?.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${waitMs} ms`);
    onWait();
    await sleep(pollMs);
  }
  return fh;
}

/** Yields each chunk as it lands; a chunk is valid until the next one is asked for. */
export async function* tailFile(file: string, o: TailOptions): AsyncGenerator<Buffer> {
  const { pollMs = 50, onWait = () => undefined } = o;
  const fh = await openWhenPresent(file, o);
  try {
    let position = 0;
    const buffer = Buffer.alloc(4 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
        continue;
      }
      // Asked before the size: a writer done after our last read left nothing unread only
      // if the size we then see is where we are.
      if (await o.done()) {
        if (position >= (await fh.stat()).size) return;
        continue;
      }
      await o.check?.();
      o.signal?.throwIfAborted();
      onWait();
      await sleep(pollMs);
    }
  } finally {
    await fh.close();
  }
}
