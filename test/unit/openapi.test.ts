// The OpenAPI document against the app itself: every route the app registers is
// documented (and nothing else), every example passes the schema its route validates with,
// and the document is served without a token.
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { buildApiApp } from '../../api/app';
import { openApiDocument, ROUTES } from '../../api/openapi';
import type { NovaClient } from '../../lib/nova-client';
import type { Registry } from '../../registry';

let app: FastifyInstance;
let baseUrl: string;
beforeAll(async () => {
  app = buildApiApp({ registry: {} as Registry, temporal: {} as Client, nova: {} as NovaClient, secretKey: Buffer.alloc(32), tokens: new Map([['tok-a', 'proj-a']]), baseUrl: 'http://api', limits: { maxReplicas: 10, maxDepth: 1 }, codecServer: { codec: { encode: async (p) => p, decode: async (p) => p }, tokens: new Set(['tok-codec']), corsOrigins: [] } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(() => app.close());

/** "METHOD /path/{param}" for every route in Fastify's printed tree (HEAD is Fastify's own). */
function registeredRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^(.*?)[├└]── (\S*) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const parent = depth === 0 ? '' : stack[depth - 1]!;
    const full = parent.endsWith('/') || m[2]!.startsWith('/') || !parent ? parent + m[2]! : `${parent}/${m[2]!}`;
    stack[depth] = full;
    for (const method of m[3]!.split(', ').filter((x) => x !== 'HEAD')) routes.push(`${method} ${full.replace(/:(\w+)/g, '{$1}')}`);
  }
  return routes.sort();
}

test('every route the app registers is in the document, and only those', () => {
  const documented = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
  expect(registeredRoutes(app.printRoutes({ commonPrefix: false }))).toEqual(documented);
  expect(new Set(documented).size).toBe(documented.length);
});

test.each(ROUTES.filter((r) => r.body).map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))('%s: has examples, and each passes its validation', (_name, r) => {
  const schemas = Array.isArray(r.body) ? r.body : [r.body!];
  expect(r.examples?.length).toBeGreaterThan(0);
  for (const example of r.examples!) expect(schemas.some((s) => s.safeParse(example).success)).toBe(true);
});

test('the document is OpenAPI 3.0 with the bodies as JSON schemas, served at /openapi.json without a token', async () => {
  const doc = openApiDocument() as any;
  expect(doc.openapi).toBe('3.0.3');
  const create = doc.paths['/v1.0/{project}/instances'].post;
  expect(create.requestBody.content['application/json'].schema.oneOf).toHaveLength(2);
  expect(create.requestBody.content['application/json'].schema.oneOf[0].properties.instance.required).toEqual(expect.arrayContaining(['name', 'flavorRef', 'volume']));
  expect(doc.paths['/v1.0/{project}/instances/{id}'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['project', 'id']);
  const res = await fetch(`${baseUrl}/openapi.json`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
});

test('a request without a token is still refused on the documented routes', async () => {
  expect((await fetch(`${baseUrl}/v1.0/proj-a/instances`)).status).toBe(401);
});
