// Compute activities. Server creation is made idempotent by name: the server of an
// instance is always named trove-<instanceId>, so a retry after a crash between "Nova
// accepted" and "activity completed" finds the server instead of booting a second one.
import * as net from 'node:net';
import { heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/errors';
import { FENCED_AT_METADATA, NovaClient, NovaError, serverAddress, type NovaFlavor } from '../../lib/nova-client';
import type { Locality } from '../../lib/placement';

export interface CreateServerInput {
  name: string;
  flavorId: string;
  availabilityZone?: string;
  metadata: Record<string, string>;
  group?: string;
}

export interface ServerReady {
  novaServerId: string;
  address: string;
  availabilityZone: string | null;
}

const POLL_MS = 500;

/**
 * Waits between looks at a booting server: short at first (a server that boots in a
 * fraction of a second, like ours, is noticed at once: the replica benchmark lost ~0.4 s
 * per build to a flat 500 ms), then backing off so a slow cloud is not hammered.
 */
export function bootPollDelayMs(attempt: number): number {
  return Math.min(1000, 50 * 2 ** attempt);
}

export interface ComputeOptions {
  /** Source address of the orchestrator's probes: its own network, which a firewall can cut. */
  probeAddress?: string;
  probeTimeoutMs?: number;
}

export interface ProbeTarget {
  instanceId: string;
  address: string;
  port: number;
}

export function createComputeActivities(nova: NovaClient, options: ComputeOptions = {}) {
  return {
    /**
     * The orchestrator's own view of each member: a TCP connection AND the server's
     * greeting. A hung mariadbd still completes the handshake (the kernel does) but never
     * greets, so the greeting is what tells alive from frozen.
     */
    async probeMembers(targets: ProbeTarget[]): Promise<Record<string, { reachable: boolean; error?: string }>> {
      const results = await Promise.all(targets.map(async (t) => [t.instanceId, await probeGreeting(t.address, t.port, options.probeAddress, options.probeTimeoutMs ?? 1500)] as const));
      return Object.fromEntries(results);
    },

    /** STONITH through Nova: power the server off at once and lock it so nobody starts it again by mistake. */
    async fenceServer(novaServerId: string): Promise<{ alreadyOff: boolean }> {
      const before = await nova.getServer(novaServerId);
      if (!before) return { alreadyOff: true };
      const alreadyOff = before.status === 'SHUTOFF' || before.status === 'ERROR';
      if (!alreadyOff) {
        try {
          await nova.action(novaServerId, 'x-power-off');
        } catch (e) {
          if (!(e instanceof NovaError && e.status === 409)) throw e;
        }
        for (;;) {
          const s = await nova.getServer(novaServerId);
          if (!s || s.status === 'SHUTOFF' || s.status === 'ERROR') break;
          heartbeat(s.status);
          await sleep(100);
        }
      }
      // Whoever starts it later (a rebuild, an operator after the zone's return) finds its
      // database read-only: it was writable when it lost power.
      await nova.updateMetadata(novaServerId, { [FENCED_AT_METADATA]: new Date().toISOString() });
      await nova.action(novaServerId, 'lock');
      return { alreadyOff };
    },

    /**
     * Undoes fenceServer once a person asks for the server back (rebuildAsReplica): unlock, power
     * on. Idempotent: a server already running is left so. Waiting for ACTIVE is waitForServerActive's.
     */
    async unfenceServer(novaServerId: string): Promise<{ started: boolean }> {
      const s = await nova.getServer(novaServerId);
      if (!s) throw ApplicationFailure.nonRetryable(`server ${novaServerId} no longer exists`, ErrorType.NotFound);
      await nova.action(novaServerId, 'unlock');
      if (s.status !== 'SHUTOFF') return { started: false };
      try {
        await nova.action(novaServerId, 'os-start');
      } catch (e) {
        if (!(e instanceof NovaError && e.status === 409)) throw e;
      }
      return { started: true };
    },

    /** Whether Nova reports the zone available again (its hosts back after an outage); false for an unknown zone. */
    async zoneAvailable(zone: string): Promise<{ zone: string; available: boolean }> {
      return { zone, available: (await nova.zoneAvailable(zone)) === true };
    },

    async getFlavor(flavorId: string): Promise<NovaFlavor> {
      try {
        return await nova.getFlavor(flavorId);
      } catch (e) {
        if (e instanceof NovaError && e.status === 404) {
          throw ApplicationFailure.nonRetryable(`flavorRef: flavor "${flavorId}" does not exist`, ErrorType.InvalidInput);
        }
        throw e;
      }
    },

    async createServer(input: CreateServerInput): Promise<string> {
      const existing = await nova.findServersByName(input.name);
      if (existing.length > 0) return existing[0]!.id;
      try {
        return await nova.createServer({ name: input.name, flavorRef: input.flavorId, availabilityZone: input.availabilityZone, metadata: input.metadata, group: input.group });
      } catch (e) {
        if (e instanceof NovaError && e.status === 400) throw ApplicationFailure.nonRetryable(e.message, ErrorType.InvalidInput);
        throw e;
      }
    },

    /** Waits for ACTIVE; a server that ends in ERROR fails the build for good. */
    async waitForServerActive(novaServerId: string): Promise<ServerReady> {
      for (let attempt = 0; ; attempt++) {
        const s = await nova.getServer(novaServerId);
        if (!s) throw ApplicationFailure.nonRetryable(`server ${novaServerId} disappeared during its build`, ErrorType.ServerBuildFailed);
        if (s.status === 'ERROR') {
          throw ApplicationFailure.nonRetryable(`server ${novaServerId} went to ERROR: ${s.fault?.message ?? 'no fault given'}`, ErrorType.ServerBuildFailed);
        }
        const address = serverAddress(s);
        if (s.status === 'ACTIVE' && address) {
          return { novaServerId, address, availabilityZone: s['OS-EXT-AZ:availability_zone'] ?? null };
        }
        heartbeat(s.status);
        await sleep(bootPollDelayMs(attempt));
      }
    },

    /**
     * Nova's resize to a new flavor, up to VERIFY_RESIZE (the server runs with it, not yet
     * confirmed). Idempotent: a server already there, or already ACTIVE with the flavor (a
     * retry after the confirmation), is not resized again.
     */
    async resizeServer(input: { novaServerId: string; flavorId: string }): Promise<{ status: string }> {
      for (let attempt = 0; ; attempt++) {
        const s = await nova.getServer(input.novaServerId);
        if (!s) throw ApplicationFailure.nonRetryable(`server ${input.novaServerId} disappeared during its resize`, ErrorType.ResizeFailed);
        const onTarget = s.flavor?.id === input.flavorId;
        if (s.status === 'ERROR') throw ApplicationFailure.nonRetryable(`server ${input.novaServerId} went to ERROR: ${s.fault?.message ?? 'no fault given'}`, ErrorType.ResizeFailed);
        if (onTarget && (s.status === 'VERIFY_RESIZE' || s.status === 'ACTIVE')) return { status: s.status };
        if (!onTarget && (s.status === 'ACTIVE' || s.status === 'SHUTOFF')) {
          try {
            await nova.resize(input.novaServerId, input.flavorId);
          } catch (e) {
            if (e instanceof NovaError && e.status === 400) throw ApplicationFailure.nonRetryable(e.message, ErrorType.InvalidInput);
            // 409: a transition of its own is under way; look again.
            if (!(e instanceof NovaError && e.status === 409)) throw e;
          }
        }
        heartbeat(s.status);
        await sleep(bootPollDelayMs(attempt));
      }
    },

    /** Confirms (keep) or reverts (back to the old flavor) a resize in VERIFY_RESIZE; done once it is ACTIVE. */
    async finishResize(input: { novaServerId: string; confirm: boolean }): Promise<void> {
      for (let attempt = 0; ; attempt++) {
        const s = await nova.getServer(input.novaServerId);
        if (!s) throw ApplicationFailure.nonRetryable(`server ${input.novaServerId} disappeared during its resize`, ErrorType.ResizeFailed);
        if (s.status === 'ACTIVE' || s.status === 'SHUTOFF' || s.status === 'ERROR') return;
        if (s.status === 'VERIFY_RESIZE') {
          await nova.action(input.novaServerId, input.confirm ? 'confirmResize' : 'revertResize').catch((e: unknown) => {
            if (!(e instanceof NovaError && e.status === 409)) throw e;
          });
        }
        heartbeat(s.status);
        await sleep(bootPollDelayMs(attempt));
      }
    },

    /** Grows the server's data volume to sizeGb (a volume never shrinks: a larger one is left as it is). */
    async extendVolume(input: { novaServerId: string; sizeGb: number }): Promise<{ sizeGb: number }> {
      const s = await nova.getServer(input.novaServerId);
      if (!s) throw ApplicationFailure.nonRetryable(`server ${input.novaServerId} not found`, ErrorType.NotFound);
      const current = s['x-volume-size-gb'] ?? null;
      if (current !== null && current >= input.sizeGb) return { sizeGb: current };
      await nova.extendVolume(input.novaServerId, input.sizeGb);
      return { sizeGb: input.sizeGb };
    },

    /** The server group of that name (idempotent: a retry finds the one it made). */
    async ensureServerGroup(input: { name: string; policy: Locality }): Promise<string> {
      const existing = (await nova.listServerGroups()).find((g) => g.name === input.name);
      return existing ? existing.id : (await nova.createServerGroup(input.name, input.policy)).id;
    },

    /** Deletes every server group of that name (a compensation: the group outlives nothing it held). */
    async deleteServerGroup(input: { name: string }): Promise<{ deleted: string[] }> {
      const groups = (await nova.listServerGroups()).filter((g) => g.name === input.name);
      for (const g of groups) await nova.deleteServerGroup(g.id);
      return { deleted: groups.map((g) => g.id) };
    },

    /**
     * Deletes the server (by id, or every server bearing the name) and waits until it is gone.
     * With its server group: the group goes too once no server is left in it (the set's last member).
     */
    async deleteServer(ref: { novaServerId?: string | null; name?: string; serverGroupId?: string }): Promise<number> {
      const ids = new Set<string>();
      if (ref.novaServerId) ids.add(ref.novaServerId);
      if (ref.name) for (const s of await nova.findServersByName(ref.name)) ids.add(s.id);
      for (const id of ids) await nova.deleteServer(id);
      for (const id of ids) {
        while (await nova.getServer(id)) {
          heartbeat(id);
          await sleep(POLL_MS);
        }
      }
      if (ref.serverGroupId) {
        const group = await nova.getServerGroup(ref.serverGroupId);
        if (group && group.members.length === 0) await nova.deleteServerGroup(group.id);
      }
      return ids.size;
    },
  };
}

export type ComputeActivities = ReturnType<typeof createComputeActivities>;

/**
 * Whether a MySQL server at host:port greets within timeoutMs. Settles on every way a
 * connection can end: a server killed between accepting and greeting closes it with a FIN,
 * which is neither data nor an error, and Node drops a socket's idle timer when it closes;
 * so a probe that waited for those two alone hung, and with it the monitor's every failover
 * decision (bench/improvements.md §8).
 */
export function probeGreeting(host: string, port: number, localAddress: string | undefined, timeoutMs: number): Promise<{ reachable: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, localAddress });
    const deadline = setTimeout(() => done({ reachable: false, error: `no greeting within ${timeoutMs} ms` }), timeoutMs);
    function done(r: { reachable: boolean; error?: string }) {
      clearTimeout(deadline);
      // A greeted probe ends with a reset, not a FIN: the closing side's port would wait in
      // TIME_WAIT for a minute. A watch probes every member every 5 s, so at a thousand sets
      // tens of thousands of ports waited, and each bind to the probe address (which picks a
      // port without knowing the destination) scanned past them: several ms of kernel time
      // per probe, the whole worker's core (bench/RESULTS.md, watch-scale). The server sees
      // the same aborted connect as after a FIN (no account, no handshake).
      socket.on('error', () => undefined);
      if (r.reachable) socket.resetAndDestroy();
      else socket.destroy();
      resolve(r);
    }
    socket.once('data', () => done({ reachable: true }));
    socket.once('error', (e) => done({ reachable: false, error: e.message }));
    socket.once('close', () => done({ reachable: false, error: 'connection closed before the greeting' }));
  });
}
