// The registry: the control plane's record of instances and replication sets, one store
// per concept. Every write is idempotent, so an activity retried after a crash finds its
// own earlier effect instead of failing or duplicating it.
import type { Pool } from 'mysql2/promise';
import { AccountStore } from './accounts';
import { BackupStore } from './backups';
import { CertificateStore } from './certificates';
import { createRegistryPool, type RegistryConnection } from './db';
import { HealthStore } from './health';
import { InstanceStore } from './instances';
import { LockStore } from './locks';
import { MonitorAccountStore } from './monitor-accounts';
import { ProfileStore } from './profiles';
import { SetStore } from './sets';
import { WatchClaimStore } from './watch-claims';

export class Registry {
  readonly instances: InstanceStore;
  readonly locks: LockStore;
  readonly accounts: AccountStore;
  readonly health: HealthStore;
  readonly sets: SetStore;
  readonly certificates: CertificateStore;
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly monitorAccounts: MonitorAccountStore;
  readonly watchClaims: WatchClaimStore;

  constructor(readonly pool: Pool) {
    this.instances = new InstanceStore(pool);
    this.locks = new LockStore(pool);
    this.accounts = new AccountStore(pool);
    this.health = new HealthStore(pool);
    this.sets = new SetStore(pool, this.accounts, this.health);
    this.certificates = new CertificateStore(pool);
    this.profiles = new ProfileStore(pool);
    this.backups = new BackupStore(pool);
    this.monitorAccounts = new MonitorAccountStore(pool);
    this.watchClaims = new WatchClaimStore(pool);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export const openRegistry = (c: RegistryConnection): Registry => new Registry(createRegistryPool(c));

export { createRegistryPool, registryConnectionOf, type RegistryConnection } from './db';
export type { InstanceRecord, InstanceStatus } from './instances';
export { newInstanceFromSpec, newReplicaRecord, type NewInstance } from '../lib/records';
export type { ReplicationUser } from './accounts';
export type { ServerCertificate, SetAuthority } from './certificates';
export type { ErrantReport, InstanceChange } from './instances';
export type { BackupChange, BackupRecord, BackupStatus, NewBackup } from './backups';
