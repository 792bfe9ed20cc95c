// The compose stack's files, read as text (cheap: no docker). `npm run test:deploy` runs the
// stack itself; these guard what a review would miss: a secret written into the compose file,
// the env template or an image, an unpinned image, a long-running service without a health
// check, a shell `$` that compose would interpolate.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../lib/config';
import { ORCHESTRATOR_NODE_FLAGS } from '../../workers/node-flags';

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const compose = read('docker-compose.yml');

/** Each service's block of lines (two-space indented name under `services:`). */
function services(): Map<string, string> {
  const body = compose.slice(compose.indexOf('\nservices:\n'), compose.indexOf('\nnetworks:\n'));
  const blocks = new Map<string, string>();
  let name: string | undefined;
  for (const line of body.split('\n')) {
    const m = /^ {2}([a-z][a-z0-9-]*):$/.exec(line);
    if (m) blocks.set((name = m[1]!), '');
    else if (name) blocks.set(name, `${blocks.get(name)}${line}\n`);
  }
  return blocks;
}

const ONE_SHOT = ['temporal-schema', 'init'];

test('the stack has every part the issue names', () => {
  expect([...services().keys()].sort()).toEqual(
    ['api', 'init', 'nova', 'orchestrator', 'postgresql', 'prometheus', 'registry', 'swift', 'temporal', 'temporal-schema', 'temporal-ui'].sort(),
  );
});

test.each([...services().entries()])('%s: a pinned image, and a health check unless it is a one-shot job', (name, block) => {
  const image = /^ {4}image: (\S+)$/m.exec(block)?.[1];
  expect(image).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/);
  // The project's own images are built from this checkout (a build: section); every other is pinned to a version.
  if (image!.endsWith(':latest')) {
    expect(image).toMatch(/^trove\//);
    expect(block).toMatch(/^ {4}build:/m);
  }
  if (ONE_SHOT.includes(name)) expect(block).toMatch(/restart: "no"/);
  else expect(block).toMatch(/^ {4}healthcheck:\n {6}test: \[/m);
});

test('every secret in the compose file comes from .env, required', () => {
  const secretLines = compose.split('\n').filter((l) => /^\s+[A-Z0-9_]*(PASSWORD|_PWD|SECRET|_KEY|_KEYS|TOKEN|TOKENS)\s*:/.test(l));
  expect(secretLines.length).toBeGreaterThan(10);
  for (const line of secretLines) expect(line).toMatch(/:\s*\$\{[A-Z0-9_]+:\?set in \.env\}$|:\s*\$\{[A-Z0-9_]+:-[^}]*\}$/);
  // A literal value would be a default: only non-secrets may have one (the Swift user name).
  for (const line of secretLines.filter((l) => l.includes(':-'))) expect(line).toMatch(/SWIFT_USER/);
});

test('the env template holds placeholders only, and the real file is git-ignored', () => {
  const template = read('deploy.env.example');
  const secrets = template.split('\n').filter((l) => /^[A-Z0-9_]*(PASSWORD|SECRET|_KEY|_KEYS|TOKEN|TOKENS|_KEY_ID)=/.test(l));
  expect(secrets.length).toBeGreaterThanOrEqual(11);
  for (const line of secrets) expect(line).toMatch(/=(CHANGE-ME|CHANGE-ME=demo)$/);
  expect(read('.gitignore').split('\n')).toContain('.env');
  // Every variable the compose file requires is in the template.
  const required = [...compose.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!);
  for (const v of new Set(required)) expect(template).toMatch(new RegExp(`^${v}=`, 'm'));
});

test('shell commands escape their $ from compose ($$), and no image gets a secret', () => {
  const schemaJob = services().get('temporal-schema')!;
  const script = schemaJob.slice(schemaJob.indexOf('- |'));
  expect(script).toMatch(/\$\$db/);
  expect(script.replace(/\$\$/g, '')).not.toMatch(/\$/);
  const dockerfile = read('Dockerfile');
  expect(dockerfile).toMatch(/^ARG BASE_IMAGE=trove\/debian-base$/m);
  expect(dockerfile).not.toMatch(/^(ENV|ARG) .*(PASSWORD|SECRET|TOKEN|_KEY)/m);
  // The host CA bundle is only in the packages stage, which the final stages copy node_modules from.
  const finalStages = dockerfile.slice(dockerfile.indexOf('AS app'));
  expect(finalStages).not.toMatch(/host-ca/);
});

test("the orchestrator service starts node with the orchestrator's flags (workers/node-flags.ts)", () => {
  const command = /^ {4}command: (\[.*\])$/m.exec(services().get('orchestrator')!)?.[1];
  const args = JSON.parse(command!) as string[];
  expect(args.slice(0, 1 + ORCHESTRATOR_NODE_FLAGS.length)).toEqual(['node', ...ORCHESTRATOR_NODE_FLAGS]);
  expect(args.at(-1)).toBe('workers/orchestrator.ts');
});
