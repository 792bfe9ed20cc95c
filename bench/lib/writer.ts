// A steady application writer for the failover and switchover benchmarks: one INSERT
// after the other into the first member that accepts it (the current source, then the
// others), each with a persistent connection. It records every acknowledged write with
// the time it was acknowledged, which is all the figures need: the longest gap, the first
// write on a new member, and which acknowledged rows a member lacks afterwards.
import { createConnection, type Connection } from 'mysql2/promise';

export interface Ack {
  id: number;
  member: string;
  at: number;
}

export class SteadyWriter {
  readonly acks: Ack[] = [];
  private readonly conns = new Map<string, Connection>();
  private stopped = false;
  private loop?: Promise<void>;
  private next: number;

  constructor(
    private readonly members: Record<string, string>,
    private readonly account: { user: string; password: string; database: string },
    private preferred: string,
    firstId: number,
  ) {
    this.next = firstId;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const c of this.conns.values()) c.destroy();
    this.conns.clear();
  }

  /** The longest time without an acknowledged write within [from, to]. */
  longestGapMs(from: number, to: number): number {
    const times = [from, ...this.acks.map((a) => a.at).filter((t) => t > from && t < to), to];
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
    return gap;
  }

  firstAckOn(predicate: (member: string) => boolean, after: number): Ack | undefined {
    return this.acks.find((a) => a.at > after && predicate(a.member));
  }

  private async connection(member: string): Promise<Connection | undefined> {
    const open = this.conns.get(member);
    if (open) return open;
    const c = await createConnection({ host: this.members[member]!, port: 3306, ...this.account, connectTimeout: 300 }).catch(() => undefined);
    if (c) {
      // Only forgotten here, not destroyed: mysql2 emits 'end' when the server's FIN arrives,
      // before it fails the query in flight, and a connection closed by us then never fails
      // that query at all: it waited out its 2 s timeout, a gap the product did not cause
      // (switchover: 1 trial in 5 after fenceWrites killed the session).
      c.on('error', () => this.forget(member, c));
      c.on('end', () => this.forget(member, c));
      this.conns.set(member, c);
    }
    return c;
  }

  private forget(member: string, c: Connection): void {
    if (this.conns.get(member) === c) this.conns.delete(member);
  }

  private drop(member: string, c: Connection): void {
    this.forget(member, c);
    c.destroy();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let acked = false;
      for (const member of [this.preferred, ...Object.keys(this.members).filter((m) => m !== this.preferred)]) {
        const c = await this.connection(member);
        if (!c) continue;
        try {
          // Our own deadline as well: a query queued on a connection the server closed may
          // never start, and then mysql2's per-query timeout never fires.
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            c.query({ sql: 'INSERT INTO writes (id, v) VALUES (?, ?)', values: [this.next, member], timeout: 2000 }),
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 2.5 s')), 2500))),
          ]).finally(() => clearTimeout(timer));
          this.acks.push({ id: this.next++, member, at: Date.now() });
          this.preferred = member;
          acked = true;
          break;
        } catch (err) {
          // A write whose acknowledgement the crash swallowed can still have reached the
          // new source (semi-sync makes that likely): its id exists there, so move on.
          if ((err as { errno?: number }).errno === 1062) {
            this.next++;
            break;
          }
          // Read-only, gone or hung: forget this connection and try the next member.
          this.drop(member, c);
        }
      }
      if (!acked) await new Promise((r) => setTimeout(r, 20));
    }
  }
}
