// workers/workflow-bundle.ts: a stored workflow bundle is named by the hash of what it is built
// from, so a restarted worker reuses it only for the same sources.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { workflowSourceHash } from '../../workers/workflow-bundle';

function repo(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'bundle-hash-'));
  for (const d of ['workflows', 'lib', 'activities/guest', 'registry/migrations']) mkdirSync(path.join(root, d), { recursive: true });
  writeFileSync(path.join(root, 'workflows', 'index.ts'), 'export * from "./a";');
  writeFileSync(path.join(root, 'lib', 'rules.ts'), 'export const x = 1;');
  writeFileSync(path.join(root, 'activities', 'guest', 'g.ts'), 'export type G = 1;');
  writeFileSync(path.join(root, 'package-lock.json'), '{}');
  return root;
}

test('the same sources give the same name; any changed source, dependency or new file another', () => {
  const root = repo();
  const first = workflowSourceHash(root);
  expect(workflowSourceHash(root)).toBe(first);
  writeFileSync(path.join(root, 'lib', 'rules.ts'), 'export const x = 2;');
  const second = workflowSourceHash(root);
  expect(second).not.toBe(first);
  writeFileSync(path.join(root, 'package-lock.json'), '{"v":2}');
  const third = workflowSourceHash(root);
  expect(third).not.toBe(second);
  writeFileSync(path.join(root, 'activities', 'guest', 'h.ts'), 'export {};');
  expect(workflowSourceHash(root)).not.toBe(third);
});

test('files outside the bundle\'s sources (tests, docs) do not change the name', () => {
  const root = repo();
  const first = workflowSourceHash(root);
  mkdirSync(path.join(root, 'test'));
  writeFileSync(path.join(root, 'test', 'x.test.ts'), '');
  writeFileSync(path.join(root, 'README.md'), '# x');
  expect(workflowSourceHash(root)).toBe(first);
});
