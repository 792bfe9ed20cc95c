// The orchestrator's workflow bundle, kept in the data dir between starts. Bundling the
// workflows (webpack) took 10–20 s of a restarted worker's start on a busy machine, and an
// operation whose worker was SIGKILLed waited for it (issue 17: ~35 s from kill to resume).
// A bundle is named by a hash of everything it can be built from (the repo's sources the
// workflows import and the lockfile), so a changed source is bundled again, never replayed
// with old code.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const REPO_ROOT = path.join(__dirname, '..');
/** What the workflow bundle's imports can reach in the repo (type-only imports included: harmless). */
const SOURCES = ['workflows', 'lib', 'activities', 'registry'];
/** Bundles of other code left in the cache are removed beyond this many. */
const KEPT = 3;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return /\.(ts|js|json|sql)$/.test(d.name) ? [p] : [];
  });
}

/** The hash of every file the bundle can be built from, with their paths. */
export function workflowSourceHash(root = REPO_ROOT): string {
  const h = createHash('sha256');
  const files = [...SOURCES.flatMap((d) => sourceFiles(path.join(root, d))), path.join(root, 'package-lock.json')].filter(existsSync).sort();
  for (const f of files) h.update(path.relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 16);
}

/**
 * The workflow bundle for these workflows and interceptors: read from `cacheDir` when one was
 * built from the same sources, else built and stored there (written whole, then renamed, so a
 * worker killed mid-write leaves no half bundle).
 */
export async function cachedWorkflowBundle(o: { workflowsPath: string; workflowInterceptorModules: string[]; cacheDir: string; log: (msg: string) => void }): Promise<WorkflowBundleWithSourceMap> {
  const file = path.join(o.cacheDir, `workflows-${workflowSourceHash()}.js`);
  const map = `${file}.map`;
  if (existsSync(file) && existsSync(map)) {
    o.log(`workflow bundle reused: ${file}`);
    return { code: readFileSync(file, 'utf8'), sourceMap: readFileSync(map, 'utf8') };
  }
  const bundle = await bundleWorkflowCode({ workflowsPath: o.workflowsPath, workflowInterceptorModules: o.workflowInterceptorModules });
  mkdirSync(o.cacheDir, { recursive: true });
  for (const [target, text] of [[map, bundle.sourceMap], [file, bundle.code]] as const) {
    writeFileSync(`${target}.tmp-${process.pid}`, text);
    renameSync(`${target}.tmp-${process.pid}`, target);
  }
  const others = readdirSync(o.cacheDir).filter((f) => /^workflows-[0-9a-f]+\.js$/.test(f) && path.join(o.cacheDir, f) !== file);
  for (const f of others.slice(0, Math.max(0, others.length - (KEPT - 1)))) for (const g of [f, `${f}.map`]) rmSync(path.join(o.cacheDir, g), { force: true });
  o.log(`workflow bundle stored: ${file}`);
  return bundle;
}
