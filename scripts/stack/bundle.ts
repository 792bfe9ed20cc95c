// Each server boots an init and a guest agent; through tsx each spent ~0.6 s compiling
// TypeScript before it did anything, which a replica build waits for (bench/improvements.md).
// The stack bundles both once at start into .build/ (one level below the repo, so their
// REPO_ROOT stays right), with npm packages left as ordinary requires.
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../lib/config';

export interface ServerBundles {
  initCommand: string[];
  guestCommand: string[];
  remove(): void;
}

/** Bundles a server's init and guest agent into outdir as <names.init>.js and <names.guest>.js. */
export async function bundleServerEntries(outdir: string, names: { init: string; guest: string }): Promise<void> {
  await build({
    entryPoints: { [names.init]: path.join(REPO_ROOT, 'nova', 'server-init.ts'), [names.guest]: path.join(REPO_ROOT, 'workers', 'guest-agent.ts') },
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}

/** tag keeps stacks running side by side (tests, benchmarks) off each other's files. */
export async function bundleServerProcesses(tag: string): Promise<ServerBundles> {
  const outdir = path.join(REPO_ROOT, '.build');
  const names = { init: `server-init-${tag}`, guest: `guest-agent-${tag}` };
  await bundleServerEntries(outdir, names);
  const file = (name: string) => path.join(outdir, `${name}.js`);
  return {
    initCommand: [process.execPath, file(names.init)],
    guestCommand: [process.execPath, file(names.guest)],
    remove: () => {
      for (const name of Object.values(names)) rmSync(file(name), { force: true });
    },
  };
}
