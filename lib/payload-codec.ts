// Every payload Temporal stores (inputs, results, signals, queries, memos, failures' details)
// is encrypted with AES-256-GCM before it leaves the process: the server, its database and
// anyone who reads a history see ciphertext, topology and names included. The key ring comes
// from TROVE_PAYLOAD_KEYS; new payloads use TROVE_PAYLOAD_KEY_ID and name it in their
// metadata, so after a rotation the older keys still decode what they encrypted. A payload
// without our encoding (a history from before encryption) passes through unchanged: released
// histories keep replaying.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { Reader, Writer } from 'protobufjs';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const PAYLOAD_KEYS_VAR = 'TROVE_PAYLOAD_KEYS';
export const PAYLOAD_KEY_ID_VAR = 'TROVE_PAYLOAD_KEY_ID';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export interface PayloadKeyRing {
  activeKeyId: string;
  keys: Map<string, Buffer>;
}

/**
 * "id:base64,id:base64" and the active id, checked: each message names the variable and
 * the rule, never a key's bytes.
 */
export function parsePayloadKeys(keysText: string, activeKeyId?: string): PayloadKeyRing {
  const ring = readPayloadKeys(keysText, activeKeyId);
  if ('variable' in ring) throw new Error(`${ring.variable}: ${ring.message}`);
  return ring;
}

/** What is wrong with the two variables (for the configuration check), or nothing. */
export function payloadKeysIssue(keysText: string, activeKeyId?: string): { variable: string; message: string } | undefined {
  const ring = readPayloadKeys(keysText, activeKeyId);
  return 'variable' in ring ? ring : undefined;
}

function readPayloadKeys(keysText: string, activeKeyId?: string): PayloadKeyRing | { variable: string; message: string } {
  const bad = (variable: string, message: string) => ({ variable, message });
  const keys = new Map<string, Buffer>();
  for (const [i, entry] of keysText.split(',').entries()) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon).trim();
    const material = colon < 0 ? '' : entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) return bad(PAYLOAD_KEYS_VAR, `entry ${i + 1} must be <key id>:<base64 of 32 bytes> (ids: letters, digits, . _ -)`);
    if (keys.has(id)) return bad(PAYLOAD_KEYS_VAR, `key id "${id}" appears twice`);
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(material) ? Buffer.from(material, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) return bad(PAYLOAD_KEYS_VAR, `key "${id}" must be 32 bytes in base64 (44 characters)`);
    keys.set(id, key);
  }
  const active = activeKeyId?.trim() || (keys.size === 1 ? [...keys.keys()][0]! : '');
  if (!active) return bad(PAYLOAD_KEY_ID_VAR, `must name the key that encrypts (one of ${[...keys.keys()].join(', ')})`);
  if (!keys.has(active)) return bad(PAYLOAD_KEY_ID_VAR, `"${active}" is not a key id of ${PAYLOAD_KEYS_VAR} (${[...keys.keys()].join(', ')})`);
  return { activeKeyId: active, keys };
}

/** A fresh key ring entry for a local stack: "<id>:<base64>". */
export function newPayloadKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/** temporal.api.common.v1.Payload in its wire form (what other SDKs' codecs encrypt too). */
function encodePayloadProto(p: Payload): Uint8Array {
  const w = Writer.create();
  for (const [k, v] of Object.entries(p.metadata ?? {})) {
    if (!v) continue;
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(k).uint32((2 << 3) | 2).bytes(v).ldelim();
  }
  if (p.data?.length) w.uint32((2 << 3) | 2).bytes(p.data);
  return w.finish();
}

function decodePayloadProto(buf: Uint8Array): Payload {
  const r = Reader.create(buf);
  const metadata: Record<string, Uint8Array> = {};
  let data: Uint8Array = new Uint8Array(0);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | 2)) {
      const end = r.uint32() + r.pos;
      let key = '';
      let value: Uint8Array = new Uint8Array(0);
      while (r.pos < end) {
        const t = r.uint32();
        if (t === ((1 << 3) | 2)) key = r.string();
        else if (t === ((2 << 3) | 2)) value = r.bytes();
        else r.skipType(t & 7);
      }
      metadata[key] = value;
    } else if (tag === ((2 << 3) | 2)) data = r.bytes();
    else r.skipType(tag & 7);
  }
  return { metadata, data };
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly ring: PayloadKeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.ring.keys.get(this.ring.activeKeyId)!;
    return payloads.map((p) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([iv, cipher.update(encodePayloadProto(p)), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(this.ring.activeKeyId) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (text(p.metadata?.encoding) !== ENCRYPTED_ENCODING) return p;
      const keyId = text(p.metadata?.[KEY_ID_METADATA]) ?? '';
      const key = this.ring.keys.get(keyId);
      if (!key) throw new Error(`payload encrypted with key "${keyId}", which ${PAYLOAD_KEYS_VAR} does not hold`);
      const data = Buffer.from(p.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      return decodePayloadProto(Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]));
    });
  }
}

/**
 * The data converter of every Temporal client and worker: encrypting when a key ring is
 * configured, the SDK's default otherwise.
 */
export function payloadDataConverter(c: { TROVE_PAYLOAD_KEYS?: string; TROVE_PAYLOAD_KEY_ID?: string }): DataConverter | undefined {
  if (!c.TROVE_PAYLOAD_KEYS) return undefined;
  return { payloadCodecs: [new AesGcmPayloadCodec(parsePayloadKeys(c.TROVE_PAYLOAD_KEYS, c.TROVE_PAYLOAD_KEY_ID))] };
}

type PayloadLike = { metadata?: Record<string, Uint8Array | null | undefined> | null; data?: Uint8Array | null };
const isEncrypted = (v: unknown): v is PayloadLike => {
  const m = (v as PayloadLike | null)?.metadata;
  return !!m && typeof m === 'object' && !!m.encoding && text(m.encoding) === ENCRYPTED_ENCODING;
};

/**
 * A fetched history with every encrypted payload decoded in place (what a reader of the
 * history wants: the SDK decodes only what it hands to code, not an exported history).
 */
export async function decodeHistoryPayloads<T>(history: T, codecs: readonly PayloadCodec[]): Promise<T> {
  const decodeOne = async (p: PayloadLike): Promise<Payload> => {
    let out = [p as Payload];
    for (const codec of [...codecs].reverse()) out = await codec.decode(out);
    return out[0]!;
  };
  const walk = async (node: unknown): Promise<void> => {
    if (!node || typeof node !== 'object' || ArrayBuffer.isView(node)) return;
    const entries = Array.isArray(node) ? node.map((v, i) => [i, v] as const) : Object.entries(node);
    for (const [k, v] of entries) {
      if (isEncrypted(v)) (node as Record<string | number, unknown>)[k] = await decodeOne(v);
      else await walk(v);
    }
  };
  if (codecs.length) await walk(history);
  return history;
}
