// The compute manager: owns the server lifecycle (create, boot, stop, delete,
// injected faults) on top of a driver, and keeps Nova's store in step with
// what the driver did. HTTP concerns stay in the routes.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AddressAllocator } from './addresses';
import type { NovaConfig } from './config';
import type { ComputeDriver, ServerSpec } from './drivers/types';
import { badRequest, computeFault, conflict, notFound } from './errors';
import type { FaultInjector } from './faults';
import { findFlavor } from './flavors';
import type { ServerGroups } from './groups';
import { OpTracker } from './ops';
import { placeServer } from './placement';
import { novaTimestamp, type NovaStore, type ServerRecord, type ServerStatus, type TaskState } from './state';

export interface CreateServerInput {
  name: string;
  flavorRef: string;
  availabilityZone?: string;
  metadata: Record<string, string>;
  groupId?: string;
}

export type ServerAction =
  | { type: 'os-stop' }
  | { type: 'os-start' }
  | { type: 'reboot'; hard: boolean }
  | { type: 'lock' }
  | { type: 'unlock' }
  | { type: 'x-power-off' }
  | { type: 'resize'; flavorRef: string }
  | { type: 'confirmResize' }
  | { type: 'revertResize' }
  | { type: 'x-extend-volume'; newSize: number };

export interface ComputeDeps {
  config: NovaConfig;
  driver: ComputeDriver;
  store: NovaStore;
  groups: ServerGroups;
  faults: FaultInjector;
  logger: Logger;
}

export class ComputeService {
  readonly ops = new OpTracker();
  readonly driver: ComputeDriver;
  readonly store: NovaStore;
  readonly logger: Logger;
  private readonly addresses: AddressAllocator;

  constructor(private readonly deps: ComputeDeps) {
    this.driver = deps.driver;
    this.store = deps.store;
    this.logger = deps.logger;
    this.addresses = new AddressAllocator(
      () => [...this.store.servers.values()].flatMap((s) => (s.address === null ? [] : [s.address])),
      (address) => this.driver.addressAvailable(address),
      this.driver.addressCandidates ? () => this.driver.addressCandidates!() : undefined,
    );
  }

  get(id: string): ServerRecord {
    const server = this.store.servers.get(id);
    if (!server) throw notFound(`Instance ${id} could not be found.`);
    return server;
  }

  /**
   * Nova's "create or update metadata items": merged into the server's metadata, which its
   * next boot hands to the guest (meta_data.json, the config drive) as at create.
   */
  updateMetadata(id: string, metadata: Record<string, string>): Record<string, string> {
    const server = this.get(id);
    server.metadata = { ...server.metadata, ...metadata };
    this.touch(server);
    return server.metadata;
  }

  /** Newest first, like Nova. */
  list(filter: { name?: string; status?: string }): ServerRecord[] {
    return [...this.store.servers.values()]
      .filter((s) => filter.name === undefined || s.name === filter.name)
      .filter((s) => filter.status === undefined || s.status === filter.status.toUpperCase())
      .reverse();
  }

  create(input: CreateServerInput): ServerRecord {
    const { config, groups, faults } = this.deps;
    if (!findFlavor(input.flavorRef)) throw badRequest(`Invalid input for field/attribute flavorRef. Flavor ${input.flavorRef} could not be found.`);
    const zoneNames = config.zones.map((z) => z.name);
    if (input.availabilityZone !== undefined && !zoneNames.includes(input.availabilityZone)) {
      throw badRequest(`Invalid input for field/attribute availability_zone. The requested availability zone '${input.availabilityZone}' is not available (known: ${zoneNames.join(', ')}).`);
    }
    const group = input.groupId === undefined ? undefined : this.store.groups.get(input.groupId);
    if (input.groupId !== undefined && !group) {
      throw badRequest(`Invalid input for field/attribute os:scheduler_hints.group. Server group ${input.groupId} could not be found.`);
    }
    const buildFault = faults.takeBuildFault();
    if (buildFault === 'fail') throw computeFault('Injected fault: server creation failed (fail_next_builds).');

    const now = novaTimestamp();
    const server: ServerRecord = {
      id: randomUUID(), name: input.name, flavorId: input.flavorRef, metadata: input.metadata,
      zone: input.availabilityZone ?? null, host: null, address: null, groupId: input.groupId ?? null,
      status: 'BUILD', taskState: 'spawning', fault: null, hung: false, locked: false, oldFlavorId: null, volumeGb: null, runtime: null, created: now, updated: now,
    };
    if (buildFault === 'error') {
      this.fail(server, `Build of instance ${server.id} aborted: injected fault (error_next_builds).`);
    } else {
      const placement = placeServer({
        zones: config.zones,
        availabilityZone: input.availabilityZone,
        group: group && { policy: group.policy, memberHosts: groups.memberHosts(group.id) },
        load: this.hostLoad(),
      });
      if (placement.ok) {
        server.zone = placement.zone;
        server.host = placement.host;
      } else {
        this.fail(server, `No valid host was found. ${placement.error.reason}`);
      }
    }
    this.store.servers.set(server.id, server);
    this.store.save();
    if (server.status === 'BUILD') this.scheduleBuild(server.id, config.bootDelayMs);
    this.logger.info({ serverId: server.id, serverName: server.name, host: server.host, status: server.status }, 'server created');
    return server;
  }

  /** Boots a BUILD server once its boot delay has passed, unless it was deleted meanwhile. */
  scheduleBuild(id: string, delayMs: number): void {
    this.ops.later(id, delayMs, () => this.inBackground(id, this.ops.exclusive(id, () => this.boot(id))));
  }

  async delete(id: string): Promise<void> {
    const server = this.get(id);
    this.ops.cancel(id);
    this.setState(server, server.status, 'deleting');
    // Killing before taking the lock cuts short a graceful stop in progress.
    await this.driver.kill(this.spec(server)).catch(() => undefined);
    await this.ops.exclusive(id, async () => {
      await this.driver.destroy(this.spec(server));
      this.store.servers.delete(id);
      this.store.save();
    });
    this.logger.info({ serverId: id }, 'server deleted');
  }

  action(id: string, action: ServerAction): void {
    const server = this.get(id);
    if (action.type === 'lock' || action.type === 'unlock') {
      server.locked = action.type === 'lock';
      this.touch(server);
      return;
    }
    if (server.locked) throw conflict(`Instance ${id} is locked`);
    // A server of a lost zone cannot start until its host is back.
    if (action.type === 'os-start' && server.zone !== null && this.downZones.has(server.zone)) throw conflict(`Cannot 'start' instance ${id}: the compute host of zone ${server.zone} is down`);
    if (action.type === 'x-power-off') return this.powerOff(server);
    if (action.type === 'resize') return this.resize(server, action.flavorRef);
    if (action.type === 'confirmResize') return this.confirmResize(server);
    if (action.type === 'revertResize') return this.revertResize(server);
    if (action.type === 'x-extend-volume') return this.extendVolume(server, action.newSize);
    const name = action.type === 'reboot' ? 'reboot' : action.type === 'os-stop' ? 'stop' : 'start';
    const allowed: ServerStatus[] = action.type === 'os-start' ? ['SHUTOFF']
      : action.type === 'reboot' && action.hard ? ['ACTIVE', 'SHUTOFF'] : ['ACTIVE'];
    this.requireState(server, name, allowed);
    const spec = this.spec(server);
    let work: () => Promise<void>;
    if (action.type === 'os-stop') {
      this.setState(server, 'ACTIVE', 'powering-off');
      work = async () => {
        await this.driver.stop(spec);
        this.setPoweredOff(server);
      };
    } else if (action.type === 'os-start') {
      this.setState(server, 'SHUTOFF', 'powering-on');
      work = () => this.boot(id);
    } else {
      this.setState(server, action.hard ? 'HARD_REBOOT' : 'REBOOT', action.hard ? 'rebooting_hard' : 'rebooting');
      work = async () => {
        // HARD is a power cycle (the database sees a crash); SOFT shuts down cleanly.
        await (action.hard ? this.driver.kill(spec) : this.driver.stop(spec));
        await this.boot(id);
      };
    }
    this.inBackground(id, this.ops.exclusive(id, work));
  }

  /**
   * Nova's resize, on one host: the server stops cleanly, boots again with the new flavor
   * (its guest sees the new RAM) and waits in VERIFY_RESIZE for confirmResize or
   * revertResize. A stopped server is resized without being started.
   */
  private resize(server: ServerRecord, flavorRef: string): void {
    if (!findFlavor(flavorRef)) throw badRequest(`Invalid input for field/attribute resize.flavorRef. Flavor ${flavorRef} could not be found.`);
    if (flavorRef === server.flavorId) throw badRequest('When resizing, instances must change flavor!');
    this.requireState(server, 'resize', ['ACTIVE', 'SHUTOFF']);
    this.switchFlavor(server, flavorRef, server.flavorId, 'RESIZE', 'resize_migrating', 'VERIFY_RESIZE');
  }

  private revertResize(server: ServerRecord): void {
    this.requireState(server, 'revertResize', ['VERIFY_RESIZE']);
    this.switchFlavor(server, server.oldFlavorId!, null, 'REVERT_RESIZE', 'resize_reverting', null);
  }

  private confirmResize(server: ServerRecord): void {
    this.requireState(server, 'confirmResize', ['VERIFY_RESIZE']);
    server.oldFlavorId = null;
    this.setState(server, server.runtime === null ? 'SHUTOFF' : 'ACTIVE', null);
  }

  /** Stop, change flavor, boot again if it was running; `after` null: back to its power state. */
  private switchFlavor(server: ServerRecord, flavorId: string, oldFlavorId: string | null, during: ServerStatus, task: TaskState, after: ServerStatus | null): void {
    const running = server.runtime !== null;
    this.setState(server, during, task);
    const work = async () => {
      await this.driver.stop(this.spec(server));
      server.runtime = null;
      server.flavorId = flavorId;
      server.oldFlavorId = oldFlavorId;
      if (running) await this.boot(server.id);
      if (server.status === 'ERROR') return;
      this.setState(server, after ?? (running ? 'ACTIVE' : 'SHUTOFF'), null);
    };
    this.inBackground(server.id, this.ops.exclusive(server.id, work));
  }

  /**
   * This mock has no Cinder: a server's data volume is its disk folder, and its size is
   * what Nova records here (Cinder's os-extend rule: it only grows). The guest is shown the
   * new size at once, as an extended block device would be.
   */
  private extendVolume(server: ServerRecord, newSize: number): void {
    if (server.volumeGb !== null && newSize <= server.volumeGb) {
      throw badRequest(`Invalid input for field/attribute x-extend-volume.new_size. New size for extend must be greater than current size (${server.volumeGb} GB).`);
    }
    this.requireState(server, 'x-extend-volume', ['ACTIVE', 'SHUTOFF']);
    server.volumeGb = newSize;
    this.touch(server);
    this.inBackground(server.id, this.ops.exclusive(server.id, () => this.driver.setVolumeSize(this.spec(server))));
  }

  // Injected faults hold the server's lock so the liveness poller does not
  // report the power cut it is causing as a crash of its own.

  /** Fencing: an immediate power cut, whatever the server is doing (hung included). */
  private powerOff(server: ServerRecord): void {
    if (server.status === 'SHUTOFF') return;
    this.requireState(server, 'x-power-off', ['ACTIVE']);
    const spec = this.spec(server);
    this.setState(server, 'ACTIVE', 'powering-off');
    this.inBackground(
      server.id,
      this.ops.exclusive(server.id, async () => {
        await this.driver.kill(spec);
        server.hung = false;
        this.setPoweredOff(server);
      }),
    );
  }

  /** Injected power cut: the server stays SHUTOFF until os-start. */
  async crash(id: string): Promise<void> {
    const server = this.requireRunning(id, 'crash');
    await this.ops.exclusive(id, () => this.driver.kill(this.spec(server)));
    this.setPoweredOff(server);
    this.logger.warn({ serverId: id }, 'server crashed (injected)');
  }

  /**
   * Injected loss of a whole zone: every running server in it loses power at the same
   * moment (each SHUTOFF until os-start), as when a zone's power or network fails.
   */
  /** Zones lost by crashZone and not yet recovered: os-availability-zone reports them unavailable. */
  readonly downZones = new Set<string>();

  async crashZone(zone: string): Promise<string[]> {
    if (!this.deps.config.zones.some((z) => z.name === zone)) throw notFound(`Availability zone ${zone} could not be found.`);
    this.downZones.add(zone);
    const running = [...this.store.servers.values()].filter((s) => s.zone === zone && s.status === 'ACTIVE' && s.runtime !== null && this.driver.isRunning(this.spec(s)));
    await Promise.all(running.map((s) => this.crash(s.id)));
    return running.map((s) => s.id);
  }

  /**
   * The zone's hosts are back (their nova-compute services report up again); its servers stay
   * SHUTOFF, as Nova leaves them after an outage, until someone starts them.
   */
  recoverZone(zone: string): void {
    if (!this.deps.config.zones.some((z) => z.name === zone)) throw notFound(`Availability zone ${zone} could not be found.`);
    this.downZones.delete(zone);
  }

  async hang(id: string, hung: boolean): Promise<void> {
    const server = this.requireRunning(id, hung ? 'hang' : 'resume');
    await this.ops.exclusive(id, () => (hung ? this.driver.hang(this.spec(server)) : this.driver.resume(this.spec(server))));
    server.hung = hung;
    this.touch(server);
  }

  /** Injected network cut (docker driver): the server keeps running, off its network. */
  async cutNetwork(id: string, cut: boolean): Promise<void> {
    const server = this.requireRunning(id, cut ? 'disconnect' : 'reconnect');
    const { disconnect, reconnect } = this.driver;
    if (!disconnect || !reconnect) throw conflict(`Cannot '${cut ? 'disconnect' : 'reconnect'}' instance ${id}: the ${this.driver.name} driver has no network to cut (the docker driver has)`);
    await this.ops.exclusive(id, () => (cut ? disconnect : reconnect).call(this.driver, this.spec(server)));
    this.logger.warn({ serverId: id }, cut ? 'server network cut (injected)' : 'server network restored');
  }

  async killGuest(id: string): Promise<void> {
    const server = this.requireRunning(id, 'kill-guest');
    await this.ops.exclusive(id, () => this.driver.killGuest(this.spec(server))).catch((err: Error) => {
      throw conflict(err.message);
    });
  }

  /** Boots a server and makes it ACTIVE; on failure it goes to ERROR, as a failed spawn does in Nova. */
  async boot(id: string): Promise<void> {
    const server = this.store.servers.get(id);
    if (!server || server.taskState === 'deleting') return;
    try {
      if (server.address === null) await this.addresses.allocate((address) => this.setAddress(server, address));
      server.runtime = await this.driver.boot(this.spec(server));
      server.fault = null;
      server.hung = false;
      this.setState(server, 'ACTIVE', null);
      this.logger.info({ serverId: id, address: server.address, pid: server.runtime.pid }, 'server booted');
    } catch (err) {
      await this.driver.kill(this.spec(server)).catch(() => undefined);
      server.runtime = null;
      this.fail(server, `Failed to boot instance: ${(err as Error).message}`);
      this.touch(server);
      this.logger.error({ serverId: id, err }, 'server boot failed');
    }
  }

  spec(server: ServerRecord): ServerSpec {
    const ram = findFlavor(server.flavorId)?.ram ?? 0;
    return { id: server.id, name: server.name, address: server.address ?? '', flavorRamMb: ram, volumeGb: server.volumeGb, metadata: server.metadata, runtime: server.runtime };
  }

  setPoweredOff(server: ServerRecord): void {
    server.runtime = null;
    server.hung = false;
    this.setState(server, 'SHUTOFF', null);
  }

  setState(server: ServerRecord, status: ServerStatus, taskState: TaskState): void {
    server.status = status;
    server.taskState = taskState;
    this.touch(server);
  }

  inBackground(id: string, work: Promise<unknown>): void {
    this.ops.background(work, (err) => this.logger.error({ serverId: id, err }, 'server operation failed'));
  }

  private setAddress(server: ServerRecord, address: string): void {
    server.address = address;
    this.touch(server);
  }

  private fail(server: ServerRecord, message: string): void {
    server.status = 'ERROR';
    server.taskState = null;
    server.fault = { code: 500, message, created: novaTimestamp() };
  }

  private touch(server: ServerRecord): void {
    server.updated = novaTimestamp();
    if (this.store.servers.has(server.id)) this.store.save();
  }

  private hostLoad(): Record<string, number> {
    const load: Record<string, number> = {};
    for (const s of this.store.servers.values()) if (s.host !== null) load[s.host] = (load[s.host] ?? 0) + 1;
    return load;
  }

  private requireState(server: ServerRecord, action: string, allowed: ServerStatus[]): void {
    if (server.taskState !== null || this.ops.busy(server.id)) {
      throw conflict(`Cannot '${action}' instance ${server.id} while it is in task_state ${server.taskState ?? 'busy'}`);
    }
    if (!allowed.includes(server.status)) {
      throw conflict(`Cannot '${action}' instance ${server.id} while it is in status ${server.status}`);
    }
  }

  private requireRunning(id: string, action: string): ServerRecord {
    const server = this.get(id);
    this.requireState(server, action, ['ACTIVE']);
    if (server.runtime === null || !this.driver.isRunning(this.spec(server))) {
      throw conflict(`Cannot '${action}' instance ${id}: it is not running`);
    }
    return server;
  }
}
