// The payload codec (lib/payload-codec.ts), its configuration, and the codec server
// (api/codec.ts) through the API app.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { buildApiApp } from '../../api/app';
import { maskCodecToken } from '../../api/codec';
import { apiConfigSchema, ConfigError, guestConfigSchema, loadConfig } from '../../lib/config';
import type { NovaClient } from '../../lib/nova-client';
import { AesGcmPayloadCodec, decodeHistoryPayloads, ENCRYPTED_ENCODING, newPayloadKey, parsePayloadKeys, payloadDataConverter } from '../../lib/payload-codec';
import type { Registry } from '../../registry';
import { loadOrCreateLocalSecrets } from '../../scripts/stack/local-secrets';

const K1 = newPayloadKey('k1');
const K2 = newPayloadKey('k2');
const plain = (v: unknown) => defaultPayloadConverter.toPayload(v)!;
const str = (b?: Uint8Array | null) => Buffer.from(b ?? []).toString('utf8');
const read = (p: Payload) => defaultPayloadConverter.fromPayload(p);

describe('TROVE_PAYLOAD_KEYS and TROVE_PAYLOAD_KEY_ID', () => {
  test.each([
    ['no colon', 'k1', undefined, /TROVE_PAYLOAD_KEYS: entry 1 must be <key id>:<base64 of 32 bytes>/],
    ['a short key', 'k1:AAAA', undefined, /TROVE_PAYLOAD_KEYS: key "k1" must be 32 bytes/],
    ['not base64', `k1:${'!'.repeat(44)}`, undefined, /TROVE_PAYLOAD_KEYS: key "k1" must be 32 bytes/],
    ['a bad id', `k 1:${K1.split(':')[1]}`, undefined, /TROVE_PAYLOAD_KEYS: entry 1/],
    ['an id twice', `${K1},${K1}`, undefined, /key id "k1" appears twice/],
    ['two keys, no active id', `${K1},${K2}`, undefined, /TROVE_PAYLOAD_KEY_ID: must name the key that encrypts \(one of k1, k2\)/],
    ['an active id not in the ring', `${K1},${K2}`, 'k3', /TROVE_PAYLOAD_KEY_ID: "k3" is not a key id of TROVE_PAYLOAD_KEYS \(k1, k2\)/],
  ])('%s is refused, naming the variable', (_name, keys, active, message) => {
    expect(() => parsePayloadKeys(keys, active)).toThrow(message);
  });

  test('one key needs no active id; with several, the named one encrypts', () => {
    expect(parsePayloadKeys(K1).activeKeyId).toBe('k1');
    expect(parsePayloadKeys(`${K1},${K2}`, 'k2').activeKeyId).toBe('k2');
    expect(parsePayloadKeys(`${K1},${K2}`, 'k2').keys.size).toBe(2);
  });

  test('a malformed ring stops a service at start with the variable named, and never the key', () => {
    const base = { TROVE_REGISTRY_PASSWORD: 'x', TROVE_SECRET_KEY: 'a'.repeat(64) };
    const secretHalf = K2.split(':')[1]!.slice(0, 20);
    const bad = { ...base, TROVE_PAYLOAD_KEYS: `${K1},${K2}`, TROVE_PAYLOAD_KEY_ID: 'nope' };
    expect(() => loadConfig(apiConfigSchema, bad)).toThrow(ConfigError);
    expect(() => loadConfig(apiConfigSchema, bad)).toThrow(/TROVE_PAYLOAD_KEY_ID: "nope" is not a key id/);
    const short = { ...base, TROVE_SERVER_ID: 's', TROVE_SERVER_ADDRESS: '127.0.0.2', TROVE_SERVER_DIR: '/x', TROVE_PAYLOAD_KEYS: `k1:${secretHalf}` };
    expect(() => loadConfig(guestConfigSchema, short)).toThrow(/TROVE_PAYLOAD_KEYS: key "k1" must be 32 bytes/);
    let message = '';
    try {
      loadConfig(guestConfigSchema, short);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toContain(secretHalf);
    // Unset or empty: no encryption, no error.
    expect(payloadDataConverter(loadConfig(apiConfigSchema, base))).toBeUndefined();
    expect(payloadDataConverter(loadConfig(apiConfigSchema, { ...base, TROVE_PAYLOAD_KEYS: '' }))).toBeUndefined();
  });
});

describe('AesGcmPayloadCodec', () => {
  const v = { instanceId: 'i-1', name: 'shop-db', password: { sealed: 'v1.abc' } };

  test('encodes to ciphertext that names its key, and decodes back to the same payload', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(K1));
    const [enc] = await codec.encode([plain(v)]);
    expect(str(enc!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(str(enc!.metadata!['encryption-key-id'])).toBe('k1');
    expect(str(enc!.data)).not.toContain('shop-db');
    const [dec] = await codec.decode([enc!]);
    expect(read(dec!)).toEqual(v);
    expect(str(dec!.metadata!.encoding)).toBe('json/plain');
    // A fresh IV each time: the same value never gives the same ciphertext.
    const [again] = await codec.encode([plain(v)]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(enc!.data!))).toBe(false);
  });

  test('a rotation: the new active key encrypts, the old one still decodes what it encrypted', async () => {
    const before = new AesGcmPayloadCodec(parsePayloadKeys(K1));
    const after = new AesGcmPayloadCodec(parsePayloadKeys(`${K1},${K2}`, 'k2'));
    const [old] = await before.encode([plain('old')]);
    const [fresh] = await after.encode([plain('new')]);
    expect(str(fresh!.metadata!['encryption-key-id'])).toBe('k2');
    expect((await after.decode([old!, fresh!])).map(read)).toEqual(['old', 'new']);
    // The key dropped too early: a clear error that names the id, not the key.
    await expect(before.decode([fresh!])).rejects.toThrow('payload encrypted with key "k2", which TROVE_PAYLOAD_KEYS does not hold');
  });

  test('plain payloads (histories from before encryption) pass through; a forged one is refused', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(K1));
    const p = plain({ a: 1 });
    const nothing = { metadata: { encoding: Buffer.from('binary/null') } };
    expect(await codec.decode([p, nothing])).toEqual([p, nothing]);
    const [enc] = await codec.encode([p]);
    const forged = Buffer.from(enc!.data!);
    forged[20] = forged[20]! ^ 1;
    await expect(codec.decode([{ ...enc!, data: forged }])).rejects.toThrow();
    await expect(codec.decode([{ ...enc!, data: Buffer.alloc(5) }])).rejects.toThrow('truncated');
  });

  test('the plaintext is a temporal.api.common.v1.Payload in its wire form (as other SDKs encrypt it)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { temporal } = require('@temporalio/proto') as typeof import('@temporalio/proto');
    const ring = parsePayloadKeys(K1);
    const [enc] = await new AesGcmPayloadCodec(ring).encode([plain({ a: 'b' })]);
    const { createDecipheriv } = await import('node:crypto');
    const data = Buffer.from(enc!.data!);
    const d = createDecipheriv('aes-256-gcm', ring.keys.get('k1')!, data.subarray(0, 12));
    d.setAuthTag(data.subarray(data.length - 16));
    const inner = temporal.api.common.v1.Payload.decode(Buffer.concat([d.update(data.subarray(12, data.length - 16)), d.final()]));
    expect(str(inner.metadata.encoding)).toBe('json/plain');
    expect(JSON.parse(str(inner.data))).toEqual({ a: 'b' });
  });

  test('decodeHistoryPayloads decodes every encrypted payload of a history in place, plain ones stay', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(K1));
    const [input] = await codec.encode([plain({ x: 1 })]);
    const [memo] = await codec.encode([plain('m')]);
    const marker = plain({ id: 'patch' });
    const history = { events: [{ workflowExecutionStartedEventAttributes: { input: { payloads: [input] }, memo: { fields: { summary: memo } } } }, { markerRecordedEventAttributes: { details: { 'patch-data': { payloads: [marker] } } } }] };
    await decodeHistoryPayloads(history, [codec]);
    const started = history.events[0]!.workflowExecutionStartedEventAttributes!;
    expect(read(started.input.payloads[0]!)).toEqual({ x: 1 });
    expect(read(started.memo.fields.summary!)).toBe('m');
    expect(history.events[1]!.markerRecordedEventAttributes!.details['patch-data'].payloads[0]).toBe(marker);
  });
});

describe('the codec server', () => {
  const codec = new AesGcmPayloadCodec(parsePayloadKeys(K1));
  const ui = 'http://127.0.0.1:8233';
  const app = buildApiApp({
    registry: {} as Registry,
    temporal: {} as Client,
    nova: {} as NovaClient,
    secretKey: Buffer.alloc(32),
    tokens: new Map([['tok-a', 'proj-a']]),
    adminTokens: ['tok-admin'],
    baseUrl: 'http://api',
    limits: { maxReplicas: 10, maxDepth: 1 },
    codecServer: { codec, tokens: new Set(['tok-codec', 'tok-admin']), corsOrigins: [ui] },
  });
  let base = '';
  beforeAll(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());
  // Over HTTP (light-my-request's inject cannot load under jest).
  const call = async (o: { method: string; url: string; headers?: Record<string, string>; payload?: unknown }) => {
    const res = await fetch(base + o.url, { method: o.method, headers: o.headers, body: o.payload === undefined ? undefined : JSON.stringify(o.payload) });
    const body = await res.text();
    return { statusCode: res.status, headers: Object.fromEntries(res.headers), json: () => JSON.parse(body) };
  };
  const toJson = (p: Payload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, b]) => [k, Buffer.from(b!).toString('base64')])), data: Buffer.from(p.data!).toString('base64') });
  const post = (url: string, payloads: unknown[], headers: Record<string, string> = {}) => call({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: { payloads } });

  test('decodes what the codec encoded, for a codec token (bearer), an admin token, or the token in the path', async () => {
    const enc = await codec.encode([plain({ instanceId: 'i-9' })]);
    for (const [url, headers] of [
      ['/codec/decode', { authorization: 'Bearer tok-codec' }],
      ['/codec/decode', { 'x-auth-token': 'tok-admin' }],
      ['/codec/tok-codec/decode?preserveStorageRefs=true', {}],
    ] as const) {
      const res = await post(url, enc.map(toJson), headers);
      expect(res.statusCode).toBe(200);
      const [p] = res.json().payloads as { metadata: Record<string, string>; data: string }[];
      expect(Buffer.from(p!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
      expect(JSON.parse(Buffer.from(p!.data, 'base64').toString())).toEqual({ instanceId: 'i-9' });
    }
  });

  test('encode gives ciphertext the decoder reads', async () => {
    const res = await post('/codec/encode', [toJson(plain('hello'))], { authorization: 'Bearer tok-codec' });
    expect(res.statusCode).toBe(200);
    const [p] = res.json().payloads as { metadata: Record<string, string>; data: string }[];
    expect(Buffer.from(p!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    const [back] = await codec.decode([{ metadata: { encoding: Buffer.from(p!.metadata.encoding!, 'base64'), 'encryption-key-id': Buffer.from(p!.metadata['encryption-key-id']!, 'base64') }, data: Buffer.from(p!.data, 'base64') }]);
    expect(read(back!)).toBe('hello');
  });

  test.each([
    ['no token', '/codec/decode', {}],
    ["a project's token", '/codec/decode', { 'x-auth-token': 'tok-a' }],
    ['a wrong bearer', '/codec/decode', { authorization: 'Bearer nope' }],
    ['a wrong path token', '/codec/nope/decode', {}],
  ])('%s: 401', async (_name, url, headers) => {
    const res = await post(url, [toJson(plain(1))], headers as Record<string, string>);
    expect(res.statusCode).toBe(401);
  });

  test('a malformed body: 400 naming the field; an unknown key id: 422 naming it', async () => {
    const bad = await post('/codec/decode', [{ data: 'not base64!' }], { authorization: 'Bearer tok-codec' });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('payloads[0].data: must be base64');
    const [other] = await new AesGcmPayloadCodec(parsePayloadKeys(K2)).encode([plain(1)]);
    const unknown = await post('/codec/decode', [toJson(other!)], { authorization: 'Bearer tok-codec' });
    expect(unknown.statusCode).toBe(422);
    expect(JSON.stringify(unknown.json())).toContain('key \\"k2\\"');
  });

  test("CORS: the Web UI's origin may call it (preflight and answer), another origin gets no grant", async () => {
    const pre = await call({ method: 'OPTIONS', url: '/codec/tok-codec/decode', headers: { origin: ui, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(ui);
    expect(String(pre.headers['access-control-allow-headers'])).toMatch(/X-Namespace/);
    const res = await post('/codec/decode', [toJson(plain(1))], { authorization: 'Bearer tok-codec', origin: ui });
    expect(res.headers['access-control-allow-origin']).toBe(ui);
    const evil = await call({ method: 'OPTIONS', url: '/codec/decode', headers: { origin: 'http://evil.example' } });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('a token in a codec path is masked in logs', () => {
    expect(maskCodecToken('/codec/s3cr3t/decode?preserveStorageRefs=true')).toBe('/codec/***/decode?preserveStorageRefs=true');
    expect(maskCodecToken('/codec/decode')).toBe('/codec/decode');
    expect(maskCodecToken('/v1.0/p/instances')).toBe('/v1.0/p/instances');
  });
});

test("a local stack's data dir keeps its payload key and codec token; one from before them gets them added, its other secrets kept", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trove-secrets-'));
  try {
    writeFileSync(path.join(dir, 'local-secrets.json'), JSON.stringify({ secretKey: 'a'.repeat(64), registryPassword: 'pw' }));
    const first = loadOrCreateLocalSecrets(dir);
    expect(first).toMatchObject({ secretKey: 'a'.repeat(64), registryPassword: 'pw' });
    expect(parsePayloadKeys(first.payloadKeys).activeKeyId).toBe('local-1');
    expect(first.codecToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(loadOrCreateLocalSecrets(dir)).toEqual(first);
    expect(JSON.parse(readFileSync(path.join(dir, 'local-secrets.json'), 'utf8'))).toEqual(first);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
