// The codec server (Temporal's remote codec protocol): the Web UI and `temporal` CLI send
// the payloads they show as JSON, {payloads: [{metadata: {k: base64}, data: base64}]}, to
// POST <endpoint>/decode (and /encode), and get them back decoded with the deployment's key
// ring, so an operator reads inputs and results that the server only stores encrypted.
// Auth: `Authorization: Bearer <token>` or `X-Auth-Token: <token>`, the token one of
// TROVE_CODEC_TOKENS or an administrator's; a Web UI that cannot send a header (the dev
// server's, which has no login) is given an endpoint with the token in its path,
// /codec/<token>. Browsers call it cross-origin: only the configured UI origins may.
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { sendError } from './errors';
import { parseOrThrow, ValidationError } from '../lib/validation';

export interface CodecServerDeps {
  codec: PayloadCodec;
  /** Tokens that may use the codec (TROVE_CODEC_TOKENS plus the administrators'). */
  tokens: ReadonlySet<string>;
  /** Origins whose pages may call it (the Web UI's), e.g. http://127.0.0.1:8233. */
  corsOrigins: readonly string[];
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
export const codecBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }).strict()).max(1000, 'at most 1000 payloads a request'),
}).strict();
export const CODEC_EXAMPLE = { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJpbnN0YW5jZUlkIjoiaS0xIn0=' }] };

const fromJson = (p: z.infer<typeof codecBody>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

function corsHeaders(req: FastifyRequest, reply: FastifyReply, origins: readonly string[]): void {
  const origin = req.headers.origin;
  if (!origin || !origins.includes(origin)) return;
  reply.header('Access-Control-Allow-Origin', origin);
  reply.header('Vary', 'Origin');
  reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
  reply.header('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization, Authorization-Extras, X-Auth-Token');
  reply.header('Access-Control-Allow-Credentials', 'true');
}

function tokenOf(req: FastifyRequest): string | undefined {
  const inPath = (req.params as { token?: string }).token;
  if (inPath) return inPath;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer) return bearer;
  const header = req.headers['x-auth-token'];
  return typeof header === 'string' ? header : undefined;
}

export function registerCodecServer(app: FastifyInstance, d: CodecServerDeps): void {
  // A preflight has no route of its own (the document lists what a client calls): answered
  // here for the codec paths before routing, everything else goes on to a 404.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'OPTIONS' || !req.url.startsWith('/codec/')) return;
    corsHeaders(req, reply, d.corsOrigins);
    return reply.code(204).send();
  });
  const handle = (op: 'encode' | 'decode') => async (req: FastifyRequest, reply: FastifyReply) => {
    corsHeaders(req, reply, d.corsOrigins);
    const token = tokenOf(req);
    if (!token || !d.tokens.has(token)) return sendError(reply, 401, 'the codec needs a codec or administrator token: Authorization: Bearer <token>');
    let body: z.infer<typeof codecBody>;
    try {
      body = parseOrThrow(codecBody, req.body);
    } catch (err) {
      return sendError(reply, 400, (err as ValidationError).message);
    }
    try {
      const out = await d.codec[op](body.payloads.map(fromJson));
      return { payloads: out.map(toJson) };
    } catch (err) {
      // An unknown key id or a forged payload: the operator's to see, no key in it.
      return sendError(reply, 422, `cannot ${op}: ${(err as Error).message}`);
    }
  };
  for (const prefix of ['/codec', '/codec/:token']) {
    app.post(`${prefix}/encode`, handle('encode'));
    app.post(`${prefix}/decode`, handle('decode'));
  }
}

/** The URL as logs may show it: a token in a codec path is masked. */
export function maskCodecToken(url: string): string {
  return url.replace(/^\/codec\/[^/?]+\/(encode|decode)/, '/codec/***/$1');
}
