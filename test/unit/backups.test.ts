// Trove's backups: the bodies python-troveclient 8.11.0 sends (accepted, or refused naming the
// field), the backup view, and the trove CLI's backup commands against an API stub.
import { createBackupBody } from '../../api/backup-schemas';
import { backupView } from '../../api/routes/backups';
import { formatIssues } from '../../lib/validation';
import { json, runAgainst as trove, runTrove, StubApi, tables } from '../helpers/cli';

const issuesOf = (body: unknown) => {
  const r = createBackupBody.safeParse(body);
  return r.success ? [] : formatIssues(r.error);
};

describe('POST /backups bodies', () => {
  test.each([
    // openstack database backup create nightly --instance <id> (the client always sends incremental)
    [{ backup: { name: 'nightly', instance: 'i-1', incremental: 0, description: null, parent_id: null, storage_driver: null, swift_container: null } }],
    [{ backup: { name: 'nightly', instance: 'shop-db' } }],
    [{ backup: { name: 'nightly', instance: 'shop-db', description: 'before the upgrade', incremental: false } }],
  ])('%j is accepted', (body) => {
    expect(issuesOf(body)).toEqual([]);
  });

  test.each<[unknown, RegExp]>([
    [{ backup: { name: 'n', instance: 'i', incremental: 1 } }, /^backup\.incremental: incremental backups are not supported/],
    [{ backup: { name: 'n', instance: 'i', parent_id: 'b-0' } }, /^backup\.parent_id: incremental backups are not supported/],
    [{ backup: { name: 'n', instance: 'i', swift_container: 'c' } }, /^backup\.swift_container: .*not Swift/],
    [{ backup: { name: 'n', restore_from: { remote_location: 'swift://x' } } }, /backup\.(instance|restore_from)/],
    [{ backup: { instance: 'i' } }, /^backup\.name/],
    [{ backup: { name: 'n', instance: 'i', colour: 'red' } }, /^backup: Unrecognized key: "colour"/],
  ])('%j is refused naming the field', (body, message) => {
    expect(issuesOf(body)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });
});

test("the view is Trove's: size in GB, datastore, locationRef once COMPLETED", () => {
  const at = new Date('2026-12-03T00:00:00.000Z');
  const record = { id: 'b-1', projectId: 'p', name: 'nightly', description: null, instanceId: 'i-1', status: 'COMPLETED' as const, sizeBytes: 1024 ** 3 / 2, gtid: '0-101-5', datastore: 'mariadb', datastoreVersion: '10.11', failReason: null, created: at, updated: at };
  expect(backupView(record, 'http://x')).toMatchObject({ id: 'b-1', status: 'COMPLETED', instance_id: 'i-1', size: 0.5, locationRef: 'snapshot://b-1', parent_id: null, datastore: { type: 'mariadb', version: '10.11' } });
  expect(backupView({ ...record, status: 'BUILDING', sizeBytes: null }, 'http://x')).toMatchObject({ size: null, locationRef: null });
});

class BackupApi extends StubApi {
  shows: Record<string, unknown>[] = [];
  protected route(method: string, path: string, body: any): Response | undefined {
    if (method === 'POST' && path === '/v1.0/proj/backups') return json(202, { backup: { id: 'b-1', name: body.backup.name, status: 'NEW', instance_id: 'i-1', size: null, locationRef: null, created: 'c', updated: 'u' } });
    if (method === 'GET' && path === '/v1.0/proj/backups/b-1') return json(200, { backup: this.shows.length > 1 ? this.shows.shift() : this.shows[0] });
    if (method === 'GET' && path === '/v1.0/proj/backups') return json(200, { backups: this.shows });
    if (method === 'DELETE' && path === '/v1.0/proj/backups/b-1') return new Response(null, { status: 202 });
    if (method === 'POST' && path === '/v1.0/proj/instances') return json(202, { instance: { id: 'new-1', name: body.instance.name, status: 'BUILD' } });
    return undefined;
  }
}

describe('trove backup-*', () => {
  const shown = (status: string, extra = {}) => ({ id: 'b-1', name: 'nightly', status, instance_id: 'i-1', size: status === 'COMPLETED' ? 0.01 : null, locationRef: null, created: 'c', updated: 'u', ...extra });

  it('backup-create posts name and instance, and --wait follows it to COMPLETED', async () => {
    const api = new BackupApi();
    api.shows = [shown('BUILDING'), shown('COMPLETED')];
    const r = await trove(api, 'backup-create', 'shop-db', 'nightly', '--wait', '--timeout', '5');
    expect(r.code).toBe(0);
    expect(api.calls[0]).toEqual({ method: 'POST', path: '/v1.0/proj/backups', body: { backup: { name: 'nightly', instance: 'shop-db' } } });
    expect(r.stderr).toBe('NEW\nBUILDING\n');
    expect(tables(r.stdout)[0]).toMatchObject({ id: 'b-1', status: 'COMPLETED', size: '0.01 GB' });
  });

  it('backup-create --wait exits 1 when the backup FAILED, with its reason', async () => {
    const api = new BackupApi();
    api.shows = [shown('FAILED', { fail_reason: 'backup failed: mariadb-backup exited with 1' })];
    const r = await trove(api, 'backup-create', 'shop-db', 'nightly', '--wait', '--timeout', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAILED: backup failed: mariadb-backup exited with 1/);
  });

  it('backup-list, backup-show and backup-delete call the routes', async () => {
    const api = new BackupApi();
    api.shows = [shown('COMPLETED')];
    const urls: string[] = [];
    const listed = await runTrove((url, init) => (urls.push(String(url)), api.fetch(String(url), init)), ['backup-list', '--instance', 'i-1']);
    expect(listed.stdout).toContain('b-1');
    expect(urls).toEqual(['http://api.test:8779/v1.0/proj/backups?instance_id=i-1']);
    expect(tables((await trove(api, 'backup-show', 'b-1')).stdout)[0]).toMatchObject({ status: 'COMPLETED' });
    expect((await trove(api, 'backup-delete', 'b-1')).code).toBe(0);
    expect(api.requests()).toEqual(['GET /v1.0/proj/backups', 'GET /v1.0/proj/backups/b-1', 'DELETE /v1.0/proj/backups/b-1']);
  });

  it('create --backup sends restorePoint {backupRef}; with --databases it is a usage error', async () => {
    const api = new BackupApi();
    const r = await trove(api, 'create', 'restored', '1', '--size', '1', '--backup', 'b-1');
    expect(r.code).toBe(0);
    expect(api.calls[0]!.body).toEqual({ instance: { name: 'restored', flavorRef: '1', volume: { size: 1 }, restorePoint: { backupRef: 'b-1' } } });
    expect((await trove(api, 'create', 'restored', '1', '--size', '1', '--backup', 'b-1', '--databases', 'shop')).code).toBe(2);
  });
});
