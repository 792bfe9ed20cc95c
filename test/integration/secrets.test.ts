// No secret in any workflow history, search attribute, log line or API answer: run a full
// scenario (create with a user, two replicas, TLS turned on, its CA rotated, promote, detach, delete),
// collect every password the system was given or made (user, replication, admin, registry,
// the key itself) and every private key (each server's, the set's CA key, clear and sealed),
// and search every exported history (payloads decoded), every log and the API, also for any
// PEM private key header at all. The payloads Temporal stores are ciphertext (the codec's
// binary/encrypted); decoded with the stack's key they still hold no secret.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { PRIVATE_KEY_MARKERS } from '../../lib/certificates';
import { parseSecretKey, unsealSecret } from '../../lib/secrets';
import { ENCRYPTED_ENCODING } from '../../lib/payload-codec';
import { fetchDecodedHistory } from '../helpers/histories';
import { eventually, useTestStack } from '../helpers/stack';

const env = useTestStack();

const USER_PASSWORD = 'Zq7-user-secret-4411';

/** The JSON plus every base64 string in it, decoded: payloads travel base64-encoded. */
function withDecodedPayloads(json: string): string {
  const decoded = [...json.matchAll(/"([A-Za-z0-9+/]{12,}={0,2})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
  return `${json}\n${decoded.join('\n')}`;
}

/**
 * The encodings of the payloads a history stores, by where they sit: markers (made by the
 * SDK's core, not by our data converter) and search attributes (indexed, so never encoded)
 * apart.
 */
function storedEncodings(node: unknown, under = ''): { where: string; encoding: string }[] {
  if (!node || typeof node !== 'object' || ArrayBuffer.isView(node)) return [];
  const m = (node as { metadata?: Record<string, Uint8Array> }).metadata;
  if (m?.encoding && ArrayBuffer.isView(m.encoding)) return [{ where: under, encoding: Buffer.from(m.encoding).toString() }];
  return Object.entries(node).flatMap(([k, v]) => (k === 'searchAttributes' || k === 'markerRecordedEventAttributes' ? [] : storedEncodings(v, under ? `${under}.${k}` : k)));
}

function filesUnder(dir: string, match: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => match.test(f))
    .map((f) => path.join(dir, f));
}

test('no secret appears in histories, search attributes, logs or API answers', async () => {
  const secrets = new Set<string>([USER_PASSWORD, env.stack.env.TROVE_SECRET_KEY!, env.stack.env.TROVE_REGISTRY_PASSWORD!, ...PRIVATE_KEY_MARKERS]);
  // The payload key ring's key and the codec server's token.
  secrets.add(env.stack.env.TROVE_PAYLOAD_KEYS!.split(':')[1]!).add(env.stack.env.TROVE_CODEC_TOKENS!);
  const key = parseSecretKey(env.stack.env.TROVE_SECRET_KEY!);
  const answers: string[] = [];
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await env.api(method, p, body);
    answers.push(JSON.stringify(res.body ?? ''));
    return res;
  };
  const idle = (id: string) =>
    eventually(`${id} idle`, async () => {
      const i = (await api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
      return i?.status === 'ACTIVE' && !i.operation ? i : undefined;
    }, 240_000);
  let caKeys = 0;
  const collectRegistrySecrets = async () => {
    const [rows] = await env.registry!.pool.query('SELECT sealed_password FROM replication_users');
    for (const r of rows as { sealed_password: string }[]) secrets.add(unsealSecret(key, r.sealed_password));
    for (const f of filesUnder(path.join(env.dataDir, 'servers'), /admin\.json$/)) secrets.add((JSON.parse(readFileSync(f, 'utf8')) as { password: string }).password);
    // Private keys: their base64 body (a PEM's lines split it, so each line long enough to be unique).
    const keyLines = (pem: string) => pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
    for (const f of filesUnder(path.join(env.dataDir, 'servers'), /server-key\.pem$/)) keyLines(readFileSync(f, 'utf8')).forEach((l) => secrets.add(l));
    const [sets] = await env.registry!.pool.query('SELECT sealed_ca_key FROM replication_sets WHERE sealed_ca_key IS NOT NULL');
    for (const r of sets as { sealed_ca_key: string }[]) {
      secrets.add(r.sealed_ca_key);
      keyLines(unsealSecret(key, r.sealed_ca_key)).forEach((l) => secrets.add(l));
      caKeys++;
    }
  };

  const created = await api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'vault', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'd' }], users: [{ name: 'owner', password: USER_PASSWORD, databases: [{ name: 'd' }] }] },
  });
  const source = created.body.instance.id as string;
  await idle(source);
  const rep = await api('POST', `/v1.0/proj-a/instances/${source}/action`, { replicate: { count: 2 } });
  await env.temporal.workflow.getHandle(rep.body.operation.id).result();
  const [r1, r2] = rep.body.replicas.map((r: { id: string }) => r.id) as [string, string];
  await idle(r1);
  const tls = await api('PATCH', `/v1.0/proj-a/instances/${source}/replication`, { replication: { tls: true } });
  expect(tls.status).toBe(202);
  await env.temporal.workflow.getHandle(tls.body.operation.id).result();
  await collectRegistrySecrets();
  expect(caKeys).toBe(1);
  // A CA rotation: the new CA's key (sealed, then the set's) joins the secrets searched for; the old one's stays among them.
  const rotate = await api('PATCH', `/v1.0/proj-a/instances/${source}/replication`, { replication: { tls: { rotate_ca: true } } });
  expect(rotate.status).toBe(202);
  await env.temporal.workflow.getHandle(rotate.body.operation.id).result();
  const keysBefore = secrets.size;
  await collectRegistrySecrets();
  expect(caKeys).toBe(2);
  expect(secrets.size).toBeGreaterThan(keysBefore);
  const promote = await api('POST', `/v1.0/proj-a/instances/${r1}/action`, { promote_to_replica_source: {} });
  await env.temporal.workflow.getHandle(promote.body.operation.id).result();
  await collectRegistrySecrets();
  const detach = await api('POST', `/v1.0/proj-a/instances/${r2}/topology/action`, { detach: {} });
  await env.temporal.workflow.getHandle(detach.body.operation.id).result();
  await api('GET', '/v1.0/proj-a/instances');
  await api('GET', `/v1.0/proj-a/instances/${r1}`);
  await api('GET', `/v1.0/proj-a/instances/${r1}/replication`);
  await api('DELETE', `/v1.0/proj-a/instances/${r2}`);
  await eventually('r2 gone', async () => (await env.api('GET', `/v1.0/proj-a/instances/${r2}`)).status === 404, 120_000);
  expect(secrets.size).toBeGreaterThanOrEqual(3 + 2 + 3); // given + replication accounts + admin passwords

  // Every history in the namespace, with its search attributes (they are in the events).
  const haystacks: { where: string; text: string }[] = [];
  const encodings: string[] = [];
  for await (const wf of env.temporal.workflow.list()) {
    const stored = storedEncodings(await env.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory());
    encodings.push(...stored.map((s) => `${s.where}: ${s.encoding}`));
    const history = await fetchDecodedHistory(env.temporal, wf.workflowId, wf.runId);
    haystacks.push({ where: `history ${wf.workflowId}`, text: withDecodedPayloads(historyToJSON(history)) });
    haystacks.push({ where: `search attributes ${wf.workflowId}`, text: JSON.stringify(wf.typedSearchAttributes.getAll()) });
  }
  expect(haystacks.length).toBeGreaterThan(10);
  // Inputs, results, signals, memos, failures' details: every one stored encrypted.
  expect(encodings.length).toBeGreaterThan(100);
  expect(encodings.filter((e) => !e.endsWith(`: ${ENCRYPTED_ENCODING}`))).toEqual([]);
  expect(encodings.some((e) => /workflowExecutionStartedEventAttributes\.input\.payloads/.test(e))).toBe(true);
  haystacks.push({ where: 'stack log', text: readFileSync(env.logFile, 'utf8') });
  for (const f of filesUnder(path.join(env.dataDir, 'servers'), /console\.log$/)) haystacks.push({ where: f, text: readFileSync(f, 'utf8') });
  haystacks.push({ where: 'API answers', text: answers.join('\n') });

  const leaks = haystacks.flatMap((h) => [...secrets].filter((s) => h.text.includes(s)).map((s) => `${h.where} contains a secret starting ${s.slice(0, 3)}…`));
  expect(leaks).toEqual([]);
});
