// The Swift snapshot store against a local all-in-one Swift (scripts/stack/swift.ts): a
// stream of --size-mib written through SwiftSnapshotStore while one follower reads it, as a
// backup and a replica's restore do. Prints the time to commit, the follower's lag behind
// the commit, the throughput and this process's peak RSS (VmHWM), which must stay near two
// segments whatever the size: the stream is never held whole.
//   npx tsx bench/swift-store.ts [--size-mib 512] [--segment-mib 16]
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SwiftClient } from '../activities/snapshots/swift-client';
import { SwiftSnapshotStore } from '../activities/snapshots/swift-store';
import { startLocalSwift } from '../scripts/stack/swift';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const vmHwmMib = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

async function main(): Promise<void> {
  const sizeMib = arg('size-mib', 512);
  const segmentMib = arg('segment-mib', 16);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-swift-'));
  const swift = await startLocalSwift({ dir, log: () => undefined });
  try {
    const s = swift.settings;
    const store = new SwiftSnapshotStore(new SwiftClient({ authUrl: s.SWIFT_AUTH_URL, user: s.SWIFT_USER, key: s.SWIFT_KEY }), { container: 'bench', segmentBytes: segmentMib << 20 });
    const id = randomUUID();
    const block = randomBytes(1 << 20);
    const baseRss = vmHwmMib();
    const t0 = Date.now();
    const followed = store.follow(id, { waitMs: 60_000 });
    let readBytes = 0;
    const reading = (async () => {
      for await (const chunk of followed.chunks) readBytes += chunk.length;
      return Date.now();
    })();
    const writer = await store.create(id);
    const out = writer.openStream();
    for (let i = 0; i < sizeMib; i++) {
      if (!out.write(block)) await new Promise((r) => out.once('drain', r));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await writer.commit({
      snapshotId: id,
      master: { host: '127.0.0.1', port: 3306 },
      dataset: { datastore: 'mariadb', datastoreVersion: '10.11', sizeBytes: sizeMib << 20, location: writer.location, checksum: 'xbstream:chunk-crc32' },
      binlog: { file: 'b.000001', position: 4, gtid: '0-1-1' },
      created: new Date().toISOString(),
    });
    const committed = Date.now();
    const readDone = await reading;
    const t1 = Date.now();
    await store.delete(id);
    const deleted = Date.now() - t1;
    if (readBytes !== sizeMib << 20) throw new Error(`the follower read ${readBytes} bytes, not ${sizeMib << 20}`);
    console.log(
      JSON.stringify({
        sizeMib,
        segmentMib,
        writeAndCommitMs: committed - t0,
        followerDoneAfterCommitMs: readDone - committed,
        mibPerS: Math.round((sizeMib / ((readDone - t0) / 1000)) * 10) / 10,
        deleteMs: deleted,
        peakRssMib: Math.round(vmHwmMib()),
        rssBeforeMib: Math.round(baseRss),
      }),
    );
  } finally {
    await swift.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
