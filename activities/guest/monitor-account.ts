// The member's monitoring account: the orchestrator's watch reads replication status with it
// directly (SLAVE MONITOR and REPLICATION CLIENT only: status, no data, no changes). Made
// with the binlog off, so each member keeps its own password and no replica gets an errant
// transaction; a replica restored from its source's snapshot gets its own password here.
// Its name is reserved (lib/access.ts), so the users API keeps it out of sight like the agent's admin.
import { nativePasswordHash } from './mariadb-config';
import { unsealSecret } from '../../lib/secrets';
import { MONITOR_USER } from '../../lib/names';
import { withAdmin, type GuestDeps } from './server';

export function createMonitorAccountActivities(d: GuestDeps) {
  return {
    async ensureMonitorAccount(input: { sealedPassword: string }): Promise<{ userName: string }> {
      const hash = nativePasswordHash(unsealSecret(d.secretKey, input.sealedPassword));
      const account = `'${MONITOR_USER}'@'%'`;
      await withAdmin(d, async (c) => {
        await c.query('SET SESSION sql_log_bin = 0');
        await c.query(`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY PASSWORD '${hash}'`);
        await c.query(`ALTER USER ${account} IDENTIFIED BY PASSWORD '${hash}'`);
        await c.query(`GRANT SLAVE MONITOR, REPLICATION CLIENT ON *.* TO ${account}`);
      });
      return { userName: MONITOR_USER };
    },
  };
}

export type MonitorAccountActivities = ReturnType<typeof createMonitorAccountActivities>;
