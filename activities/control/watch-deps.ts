// The watch's world on the orchestrator: the registry, the orchestrator's probe, and each
// member's replication status read with its monitoring account over the orchestrator's
// probe address (the same path the probe judges), on a connection kept between polls.
import { createConnection, type Connection } from 'mysql2/promise';
import { MONITOR_USER } from '../../lib/names';
import { unsealSecret } from '../../lib/secrets';
import type { Registry } from '../../registry';
import { probeGreeting } from '../compute/activities';
import { readReplicaStatus } from '../guest/replica-status';
import { setView } from '../registry/views';
import type { WatchDeps, WatchTarget } from './watch';

export interface WatchOptions {
  secretKey: Buffer;
  probeAddress?: string;
  probeTimeoutMs?: number;
  /** A status read that takes longer counts as no answer (a member's guest probe got 1 s too). */
  statusTimeoutMs?: number;
  /** TROVE_TLS_RENEW_BEFORE_DAYS: TLS sets' certificates are renewed this long before they expire. */
  renewBeforeDays?: number;
}

export function registryWatchDeps(registry: Registry, o: WatchOptions): WatchDeps {
  const timeout = o.statusTimeoutMs ?? 1000;
  return {
    describeSet: (setId) => setView(registry, setId),
    monitorCredentials: (ids) => registry.monitorAccounts.credentials(ids),
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
              c = await createConnection({ host: t.address, port: t.port, localAddress: o.probeAddress, user: MONITOR_USER, password: unsealSecret(o.secretKey, sealedPassword), connectTimeout: timeout });
              c.on('error', () => drop(key));
              // The member closed the connection kept between polls (its server died, or
              // restarted): said at once, so the watch looks now rather than at its next poll.
              c.once('end', () => {
                if (open.get(key) !== c) return;
                drop(key);
                lost?.(t.instanceId);
              });
              open.set(key, c);
            }
            // A member that hangs mid-answer leaves the connection unusable: a fresh one next poll.
            return await withTimeout(readReplicaStatus(c), timeout);
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
    ...(o.renewBeforeDays !== undefined ? { certificateRenewal: { serverCertificates: (setId: string) => registry.certificates.serverCertificates(setId), renewBeforeDays: o.renewBeforeDays } } : {}),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
