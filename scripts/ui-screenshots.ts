// npm run ui-screenshots [-- --keep]: pictures of the Temporal Web UI as a person sees it,
// taken by headless Chromium (Debian's `chromium`: `apt-get install -y chromium`; another
// binary with CHROMIUM=...). Node 20 needs --experimental-websocket (the npm script passes it).
// Starts a test stack, runs a provision, a createReplicas of 2 and a promote through the API,
// and writes docs/screenshots/{workflow-list,create-replicas,monitor,decoded-input}.png (the last:
// a provision's input, stored encrypted, as the UI shows it through the API's codec server). --keep leaves the
// stack up until Ctrl-C, to look further by hand.
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../lib/config';
import { monitorWorkflowId, SA_INSTANCE_NAME, workflowIds } from '../lib/names';
import { eventually, startTestStack, type TestStack } from '../test/helpers/stack';
import { fetchDecodedHistory } from '../test/helpers/histories';
import { Chromium, type Page } from './ui/chromium';

const OUT = path.join(REPO_ROOT, 'docs', 'screenshots');
const masterOp = workflowIds.provisionInstance;
async function untilIdle(env: TestStack, id: string): Promise<void> {
  await eventually(`${id} idle`, async () => {
    const i = (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
    if (i?.status === 'ERROR') throw new Error(`${id} failed: ${JSON.stringify(i.fault)}`);
    return i?.status === 'ACTIVE' && !i.operation;
  }, 300_000);
}

async function post(env: TestStack, urlPath: string, body: unknown): Promise<any> {
  const res = await env.api('POST', `/v1.0/proj-a${urlPath}`, body);
  if (res.status !== 202) throw new Error(`POST ${urlPath} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Activities that returned nothing show as a raw `binary/null` payload in the UI: none may. */
async function voidResults(env: TestStack, workflowId: string): Promise<string[]> {
  const history = await fetchDecodedHistory(env.temporal, workflowId);
  const types = new Map<string, string>();
  const found: string[] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) types.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType!.name!);
    const done = e.activityTaskCompletedEventAttributes;
    const encoding = done?.result?.payloads?.[0]?.metadata?.encoding;
    if (done && (!encoding || Buffer.from(encoding).toString() === 'binary/null')) found.push(`${workflowId}: ${types.get(String(done.scheduledEventId))}`);
  }
  return found;
}

async function shoot(page: Page, url: string, opts: { waitFor: string; tab?: string; width?: number; height: number }, file: string): Promise<void> {
  await page.goto(url, opts.width ?? 1400, opts.height);
  await page.waitForText(opts.waitFor);
  if (opts.tab) {
    await page.clickText(opts.tab);
    await page.waitForText('Current Details');
  }
  // Let the last fetches render (the current details come from a query to the worker).
  await new Promise((r) => setTimeout(r, 2000));
  await page.screenshot(path.join(OUT, file));
  console.log(`wrote docs/screenshots/${file}`);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const env = await startTestStack();
  try {
    console.log('provisioning a master');
    const master = (await post(env, '/instances', { instance: { name: 'shop-db', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: 'app', password: 'app-pass-1', databases: [{ name: 'shop' }] }] } })).instance.id as string;
    await untilIdle(env, master);
    console.log('adding 2 replicas');
    const replicated = await post(env, `/instances/${master}/action`, { replicate: { count: 2, instance: { flavorRef: '1' } } });
    for (const r of replicated.replicas as { id: string }[]) await untilIdle(env, r.id);
    console.log('promoting replica 1');
    const promoted = replicated.replicas[0].id as string;
    const promotedOp = (await post(env, `/instances/${promoted}/action`, { promote_to_replica_source: {} })).operation.id as string;
    await untilIdle(env, promoted);

    const operations = [masterOp(master), replicated.operation.id as string, ...replicated.replicas.map((r: { id: string }) => workflowIds.buildReplica(r.id)), promotedOp];
    const nulls = (await Promise.all(operations.map((id) => voidResults(env, id)))).flat();
    if (nulls.length) throw new Error(`activities without a result (binary/null in the UI):\n${nulls.join('\n')}`);

    const ui = `http://127.0.0.1:${env.stack.options.temporalUiPort}/namespaces/default/workflows`;
    const pageOf = async (workflowId: string) => {
      const run = (await env.temporal.workflow.getHandle(workflowId).describe()).runId;
      return `${ui}/${encodeURIComponent(workflowId)}/${run}/history`;
    };
    const browser = await Chromium.launch();
    try {
      const page = await browser.newPage();
      // The list has no summary column (UI 2.54) and its ids are UUIDs: show the columns a
      // person reads, the instance's name first, and leave the ids out (the Type links to the
      // workflow). UI 2.54.1 keeps a namespace's list columns in localStorage under this key
      // (read from its bundle), as its column picker sets them.
      const columns = ['Status', SA_INSTANCE_NAME.name, 'Type', 'Start', 'End'].map((label) => ({ label }));
      await page.presetLocalStorage({ 'namespace-workflow-table-columns': JSON.stringify({ default: columns }) });
      await shoot(page, ui, { waitFor: 'monitorReplicationSet', width: 1600, height: 640 }, 'workflow-list.png');
      await shoot(page, await pageOf(replicated.operation.id), { waitFor: 'Event History', tab: 'User Metadata', height: 900 }, 'create-replicas.png');
      await shoot(page, await pageOf(monitorWorkflowId(master)), { waitFor: 'Event History', tab: 'User Metadata', height: 900 }, 'monitor.png');
      // Only the codec server turns the stored ciphertext into these field names.
      await shoot(page, await pageOf(masterOp(master)), { waitFor: '"volumeSizeGb"', height: 900 }, 'decoded-input.png');
      page.close();
    } finally {
      await browser.close();
    }
    if (process.argv.includes('--keep')) {
      console.log(`--keep: ${ui} stays up until Ctrl-C`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await env.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
