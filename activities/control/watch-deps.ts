// The watch's world on the orchestrator: the registry, the orchestrator's probe, and each
// member's replication status read with its monitoring account over the orchestrator's
// probe address (the same path the probe judges), on a connection kept between polls.
import { createConnection, type Connection, type ConnectionOptions } from 'mysql2';
import { MONITOR_USER } from '../../lib/names';
import { unsealSecret } from '../../lib/secrets';
import type { Registry } from '../../registry';
import type { WatchClaim } from '../../registry/watch-claims';
import { probeGreeting } from '../compute/activities';
import { REPLICA_STATUS_SQL, replicaStatusOf, STATUS_VARIABLES_SQL, type SlaveStatusRow, type StatusVariablesRow } from '../guest/replica-status';
import { batched } from '../../lib/batch';
import { setViews } from '../registry/views';
import type { WatchDeps, WatchTarget } from './watch';

export interface WatchOptions {
  secretKey: Buffer;
  probeAddress?: string;
  probeTimeoutMs?: number;
  /** A status read that takes longer counts as no answer (a member's guest probe got 1 s too). */
  statusTimeoutMs?: number;
  /** How long a set's registry read waits for other sets' to be read with it (default 100 ms). */
  batchWindowMs?: number;
  /** The worker's id in the registry's presence (workers/watch-handover.ts); absent: watches are not claimed. */
  workerId?: string;
  /** TROVE_TLS_RENEW_BEFORE_DAYS: TLS sets' certificates are renewed this long before they expire. */
  renewBeforeDays?: number;
}

/**
 * urgentRegistry: the registry on a pool of its own for the reads a failover waits on. On the
 * shared pool they queued behind the batches and health writes of a thousand sets: a single
 * set's read took 0.5–2 s there while the members' reads took tens of milliseconds.
 */
export function registryWatchDeps(registry: Registry, o: WatchOptions, urgentRegistry: Registry = registry): WatchDeps {
  const timeout = o.statusTimeoutMs ?? 1000;
  // Every set this worker watches reads the registry each poll: the reads made within 100 ms of
  // each other are one batch of five queries, whatever the number of sets. Each query's cost
  // (its socket write most) is paid per batch: with 300 sets a 20 ms window made 50 batches a
  // second, a quarter of the worker's CPU. A poll starts up to the window later, still once per
  // interval (its phase); the polls a failover waits on read their set alone, at once (urgent).
  const batch = { windowMs: o.batchWindowMs ?? 100, maxKeys: 500 };
  const views = batched((ids: string[]) => setViews(registry, ids), batch);
  const credentials = batched(async (ids: string[]) => new Map(Object.entries(await registry.monitorAccounts.credentials(ids))), { ...batch, maxKeys: 1000 });
  return {
    describeSet: async (setId, urgent) => (urgent ? await setViews(urgentRegistry, [setId]) : await views([setId])).get(setId),
    monitorCredentials: async (ids, urgent) => (urgent ? urgentRegistry.monitorAccounts.credentials(ids) : Object.fromEntries(await credentials(ids))),
    async probe(targets) {
      const results = await Promise.all(targets.map(async (t) => [t.instanceId, await probeGreeting(t.address, t.port, o.probeAddress, o.probeTimeoutMs ?? 1500)] as const));
      return Object.fromEntries(results);
    },
    statusReader(lost) {
      const open = new Map<string, Connection>();
      const drop = (key: string) => {
        const c = open.get(key);
        open.delete(key);
        // Our own close is not news: only the member's end of it wakes the watch.
        c?.removeAllListeners('end');
        c?.destroy();
      };
      return {
        async read(t: WatchTarget, sealedPassword: string) {
          const key = `${t.instanceId}@${t.address}:${t.port}`;
          try {
            let c = open.get(key);
            if (!c) {
              c = await connect({
                host: t.address,
                port: t.port,
                localAddress: o.probeAddress,
                user: MONITOR_USER,
                password: unsealSecret(o.secretKey, sealedPassword),
                connectTimeout: timeout,
                // The two reads in one round trip (constant statements only: nothing is interpolated).
                multipleStatements: true,
                // The default cache of 16,000 prepared statements preallocates ~1 MB per connection; none is prepared here.
                maxPreparedStatements: 1,
              });
              const conn = c;
              // The member ended the connection kept between polls (its server died or
              // restarted: FIN as a killed process's sockets close, or RST): said at once, so
              // the watch looks now rather than at its next poll. A connection we dropped
              // ourselves (a read that failed or timed out) is not news.
              const gone = () => {
                if (open.get(key) !== conn) return;
                drop(key);
                lost?.(t.instanceId);
              };
              c.on('error', gone);
              c.once('end', gone);
              open.set(key, c);
            }
            // A member that hangs mid-answer leaves the connection unusable: a fresh one next poll.
            if (t.link === false) return replicaStatusOf(undefined, (await withTimeout(query<StatusVariablesRow[]>(c, STATUS_VARIABLES_SQL), timeout))[0]!);
            const [slave, variables] = await withTimeout(query<[SlaveStatusRow[], StatusVariablesRow[]]>(c, REPLICA_STATUS_SQL), timeout);
            return replicaStatusOf(slave[0], variables[0]!);
          } catch (err) {
            drop(key);
            throw err;
          }
        },
        async close() {
          for (const key of [...open.keys()]) drop(key);
        },
      };
    },
    storeHealth: (setId, health, confirmedUntil) => registry.health.store(setId, health, confirmedUntil),
    ...(o.workerId !== undefined ? claimDeps(registry, o.workerId, batch) : {}),
    ...(o.renewBeforeDays !== undefined ? { certificateRenewal: { serverCertificates: (setId: string) => registry.certificates.serverCertificates(setId), renewBeforeDays: o.renewBeforeDays } } : {}),
  };
}

/** The watches' claims (workers/watch-handover.ts), batched as the reads are: a worker that takes over hundreds of sets claims them in a few statements. */
function claimDeps(registry: Registry, workerId: string, batch: { windowMs: number; maxKeys: number }): Pick<WatchDeps, 'claim' | 'release'> {
  const claims = batched(async (keys: WatchClaim[]) => {
    await registry.watchClaims.claim(workerId, keys);
    return new Map(keys.map((k) => [k, true]));
  }, batch);
  return {
    claim: async (setId, a) => void (await claims([{ setId, ...a }])),
    release: (setId, taskToken) => registry.watchClaims.release([{ setId, taskToken }]),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

// The callback API: the promise wrapper captures a stack trace for every query, a cost paid per member per poll here.
function connect(options: ConnectionOptions): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const c = createConnection(options);
    // Failures reach the callback (connect) or the query's caller; the watch's own listeners come after the connect.
    c.on('error', () => undefined);
    c.connect((err) => {
      if (err) {
        c.destroy();
        reject(err);
      } else resolve(c);
    });
  });
}

function query<T>(c: Connection, sql: string): Promise<T> {
  return new Promise((resolve, reject) => c.query(sql, (err, results) => (err ? reject(err) : resolve(results as T))));
}
