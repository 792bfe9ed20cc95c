// A restore writes a whole datadir that MariaDB will read through its own buffer pool, not
// the page cache: keeping those pages cached is waste on a database host, and on a VM whose
// freed memory goes back to the host (free page reporting, a balloon) it is what a restore
// costs most. Every page mbstream writes into fresh memory faults into the hypervisor:
// extracting 1.1 GiB took 2.7–3.2 s of system time here, 0.8 s when its written pages were
// handed back as it went, so that the next writes reuse them (bench/improvements.md §10).
//
// The helper below walks the folder being written every 50 ms and asks the kernel to drop
// the pages of each file that grew (POSIX_FADV_DONTNEED writes dirty pages back and drops
// clean ones; a page still being written back goes on the next pass). When its stdin closes
// (stop(), or the agent died) it makes one last pass that waits for the writes, so the folder
// ends up written and uncached. Python, because Node has no posix_fadvise.
import { spawn } from 'node:child_process';

const HELPER = String.raw`
import os, select, sys
target = sys.argv[1]
sizes = {}
def files():
    for root, _, names in os.walk(target):
        for name in names:
            yield os.path.join(root, name)
def drop(path, wait):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        if wait:
            os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(fd)
grew_before = set()
while True:
    last = bool(select.select([0], [], [], 0.05)[0])
    if last:
        for path in files():
            drop(path, True)
        break
    grew = set()
    for path in files():
        try:
            size = os.stat(path).st_size
        except OSError:
            continue
        if sizes.get(path) != size:
            sizes[path] = size
            grew.add(path)
    for path in grew | grew_before:
        drop(path, False)
    grew_before = grew
`;

export interface DropBehind {
  /** One last pass (written back, dropped), then the helper ends. Never rejects. */
  stop(): Promise<void>;
}

/**
 * Keeps what is written under dir out of the page cache while it is written. Only an
 * optimisation: a helper that cannot start or fails leaves the restore as it was.
 */
export function dropBehind(python: string, dir: string): DropBehind {
  const child = spawn(python, ['-c', HELPER, dir], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<void>((resolve) => {
    child.once('error', () => resolve());
    child.once('exit', () => resolve());
  });
  child.stdin!.on('error', () => undefined); // the helper is gone; nothing to hand back
  return {
    stop() {
      child.stdin!.end();
      return exited;
    },
  };
}
