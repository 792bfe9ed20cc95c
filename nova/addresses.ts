// Loopback addresses as the servers' "private network": every server gets its
// own 127.0.x.y so each can run mariadbd on the standard port 3306.
import { randomInt } from 'node:crypto';

const MAX_BUSY_IN_A_ROW = 64;

/**
 * Every 127.0.x.y, block by block from 127.0.firstBlock.*, wrapping round. Each mock Nova starts
 * at a block of its own chosen at random: two stacks on one machine (tests beside each other)
 * otherwise hand out the same lowest free address, and in the window between checking it and
 * binding it one stack's server could take another's address, or a killed server's.
 */
export function* loopbackCandidates(firstBlock = 1): Generator<string> {
  for (let i = 0; i < 255; i++) {
    const x = ((firstBlock - 1 + i) % 255) + 1;
    for (let y = 1; y <= 254; y++) yield `127.0.${x}.${y}`; // .0 and .255 look like network/broadcast
  }
}

function randomLoopbackBlock(): () => Iterable<string> {
  const first = 1 + randomInt(255);
  return () => loopbackCandidates(first);
}

export class AddressAllocator {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** Addresses held by servers Nova knows about, live or not. */
    private readonly inUse: () => Iterable<string>,
    /** Whether nothing else (e.g. a leftover mariadbd) occupies the address. */
    private readonly available: (address: string) => Promise<boolean>,
    /** The addresses to hand out, in order: the driver's network (docker) or loopback. */
    private readonly candidates: () => Iterable<string> = randomLoopbackBlock(),
  ) {}

  /**
   * Picks the lowest free address and hands it to `assign` inside the critical
   * section, so concurrent boots can never be given the same address.
   */
  allocate(assign: (address: string) => void): Promise<string> {
    const run = this.queue.then(async () => {
      const taken = new Set(this.inUse());
      let busyInARow = 0;
      for (const address of this.candidates()) {
        if (taken.has(address)) continue;
        if (await this.available(address)) {
          assign(address);
          return address;
        }
        // A listener on 0.0.0.0:3306 makes every address busy: say so instead of probing 65k of them.
        if (++busyInARow >= MAX_BUSY_IN_A_ROW) {
          throw new Error(`port 3306 is busy on ${busyInARow} addresses in a row (up to ${address}); is something listening on 0.0.0.0:3306?`);
        }
      }
      throw new Error('no free address left for a server');
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
