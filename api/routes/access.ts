// /v1.0/{project}/instances/{id}/databases and /users, as python-troveclient and
// `openstack database db|user ...` speak them. Each request is one manageAccess workflow
// the API waits for (workflows/manage-access.ts says why); lists are paged as Trove pages
// them. What can be refused without the server is refused here, synchronously: bad names,
// reserved names, an instance that is not ACTIVE, busy, or a replica (for a change);
// what needs the server (a user that does not exist, a database a grant names) comes back
// from the workflow as its failure. Passwords are sealed before they leave this process.
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import { accountName, isChange, paginate, type AccessAction, type ManageAccessResult } from '../../lib/access';
import { ErrorType } from '../../lib/errors';
import { checkAccess, refusalText } from '../../lib/rules';
import { sealSecret } from '../../lib/secrets';
import { startManageAccess } from '../../lib/start';
import { formatIssues } from '../../lib/validation';
import type { InstanceRecord, Registry } from '../../registry';
import { gatherFacts } from '../../registry/facts';
import { changePasswordsBody, createDatabasesBody, createUsersBody, databaseSegment, grantBody, pageQuery, updateUserBody, userSegment } from '../access-schemas';
import { refusedReply, sendError } from '../errors';
import { findOrReply, requestIdOf } from '../lookup';

export interface AccessRouteDeps {
  registry: Registry;
  temporal: Client;
  secretKey: Buffer;
  baseUrl: string;
}

/** How long a request waits for its workflow: a live agent answers in well under a second; the workflow's own steps give up within ~40 s. */
export const ACCESS_ANSWER_WITHIN_MS = 45_000;

type Req = FastifyRequest<{ Params: { project: string; id: string; user?: string; db?: string }; Querystring: Record<string, string> }>;

const badRequest = (reply: FastifyReply, errors: string[]) => sendError(reply, 400, `invalid request: ${errors.join('; ')}`, { errors });

function parse<T>(reply: FastifyReply, schema: ZodType<T>, value: unknown): T | undefined {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  badRequest(reply, formatIssues(r.error));
  return undefined;
}

/** The workflow's failure as Trove answers it: its type says which status. */
function failureReply(reply: FastifyReply, err: unknown, operation: string) {
  const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
  const failure = cause instanceof ApplicationFailure ? cause : undefined;
  const message = failure?.message ?? (cause instanceof Error ? cause.message : String(err));
  switch (failure?.type) {
    case ErrorType.NotFound:
      return sendError(reply, 404, message);
    case ErrorType.InvalidInput:
      return badRequest(reply, [message]);
    case ErrorType.OperationConflict:
      return sendError(reply, 409, message, { operation });
    default:
      return sendError(reply, 503, `the instance's guest agent could not do it: ${message}`, { operation });
  }
}

export function registerAccessRoutes(app: FastifyInstance, d: AccessRouteDeps): void {
  /**
   * Finds the instance, asks the rulebook, runs the action and waits for it (bounded). Undefined
   * once the reply says why not.
   */
  async function run(req: Req, reply: FastifyReply, action: AccessAction | undefined, rec: InstanceRecord | undefined): Promise<ManageAccessResult | undefined> {
    if (!action || !rec) return undefined;
    const refused = checkAccess(await gatherFacts(d.registry, rec), { change: isChange(action) });
    if (refused) {
      refusedReply(reply, { status: refused.kind === 'invalid' ? 400 : 409, message: refusalText(refused), ...(refused.operation ? { operation: refused.operation } : {}) });
      return undefined;
    }
    if (!rec.novaServerId) {
      sendError(reply, 409, `instance ${rec.id} has no server yet`);
      return undefined;
    }
    const handle = await startManageAccess(d.temporal, { instanceId: rec.id, projectId: rec.projectId, novaServerId: rec.novaServerId, action }, { requestId: requestIdOf(req), instanceName: rec.name });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ACCESS_ANSWER_WITHIN_MS);
    });
    try {
      const result = await Promise.race([handle.result() as Promise<ManageAccessResult>, late]);
      if (result === 'late') {
        sendError(reply, 503, `no answer from the instance's guest agent within ${ACCESS_ANSWER_WITHIN_MS / 1000} s; operation ${handle.workflowId} goes on`, { operation: handle.workflowId });
        return undefined;
      }
      return result;
    } catch (err) {
      failureReply(reply, err, handle.workflowId);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  const instance = (req: Req, reply: FastifyReply) => findOrReply(d.registry, reply, req.params.project, req.params.id);
  const seal = (p: string) => sealSecret(d.secretKey, p);

  /** Trove's paged list: the page, and a "next" link carrying the marker when there is more. */
  function paged<T>(req: Req, reply: FastifyReply, key: string, items: T[], markerOf: (t: T) => string) {
    const q = parse(reply, pageQuery, req.query);
    if (!q) return reply;
    const { page, next } = paginate(items, markerOf, q);
    if (next === undefined) return { [key]: page };
    const url = new URL(req.url, d.baseUrl);
    url.searchParams.set('marker', next);
    return { [key]: page, links: [{ rel: 'next', href: url.toString() }] };
  }

  const base = '/v1.0/:project/instances/:id';

  app.get(`${base}/databases`, async (req: Req, reply) => {
    if (!parse(reply, pageQuery, req.query)) return reply;
    const r = await run(req, reply, { kind: 'listDatabases' }, await instance(req, reply));
    return r ? paged(req, reply, 'databases', r.databases!, (db) => db.name) : reply;
  });

  app.post(`${base}/databases`, async (req: Req, reply) => {
    const rec = await instance(req, reply);
    const body = rec && parse(reply, createDatabasesBody, req.body);
    const action: AccessAction | undefined = body && { kind: 'createDatabases', databases: body.databases.map((db) => ({ name: db.name, characterSet: db.character_set, collate: db.collate })) };
    return (await run(req, reply, action, rec)) ? reply.code(202).send() : reply;
  });

  app.delete(`${base}/databases/:db`, async (req: Req, reply) => {
    const rec = await instance(req, reply);
    const db = rec && databaseSegment(req.params.db!);
    if (db && 'errors' in db) return badRequest(reply, db.errors);
    return (await run(req, reply, db && { kind: 'deleteDatabase', name: db.name }, rec)) ? reply.code(202).send() : reply;
  });

  app.get(`${base}/users`, async (req: Req, reply) => {
    if (!parse(reply, pageQuery, req.query)) return reply;
    const r = await run(req, reply, { kind: 'listUsers' }, await instance(req, reply));
    return r ? paged(req, reply, 'users', r.users!, accountName) : reply;
  });

  app.post(`${base}/users`, async (req: Req, reply) => {
    const rec = await instance(req, reply);
    const body = rec && parse(reply, createUsersBody, req.body);
    const action: AccessAction | undefined = body && {
      kind: 'createUsers',
      users: body.users.map((u) => ({ name: u.name, host: u.host, sealedPassword: seal(u.password), databases: u.databases.map((db) => db.name) })),
    };
    return (await run(req, reply, action, rec)) ? reply.code(202).send() : reply;
  });

  app.put(`${base}/users`, async (req: Req, reply) => {
    const rec = await instance(req, reply);
    const body = rec && parse(reply, changePasswordsBody, req.body);
    const action: AccessAction | undefined = body && { kind: 'changePasswords', users: body.users.map((u) => ({ name: u.name, host: u.host, sealedPassword: seal(u.password) })) };
    return (await run(req, reply, action, rec)) ? reply.code(202).send() : reply;
  });

  /** The instance and the account the {user} segment names, or undefined once the reply says why not. */
  async function addressed(req: Req, reply: FastifyReply) {
    const rec = await instance(req, reply);
    if (!rec) return undefined;
    const u = userSegment(req.params.user!);
    if ('errors' in u) {
      badRequest(reply, u.errors);
      return undefined;
    }
    return { rec, user: u.user };
  }

  app.get(`${base}/users/:user`, async (req: Req, reply) => {
    const a = await addressed(req, reply);
    const r = await run(req, reply, a && { kind: 'showUser', user: a.user }, a?.rec);
    return r ? { user: r.user } : reply;
  });

  app.put(`${base}/users/:user`, async (req: Req, reply) => {
    const a = await addressed(req, reply);
    const body = a && parse(reply, updateUserBody, req.body);
    const action: AccessAction | undefined = a &&
      body && {
        kind: 'updateUser',
        user: a.user,
        ...(body.user.name !== undefined ? { newName: body.user.name } : {}),
        ...(body.user.host !== undefined ? { newHost: body.user.host } : {}),
        ...(body.user.password !== undefined ? { sealedPassword: seal(body.user.password) } : {}),
      };
    return (await run(req, reply, action, a?.rec)) ? reply.code(202).send() : reply;
  });

  app.delete(`${base}/users/:user`, async (req: Req, reply) => {
    const a = await addressed(req, reply);
    return (await run(req, reply, a && { kind: 'deleteUser', user: a.user }, a?.rec)) ? reply.code(202).send() : reply;
  });

  app.get(`${base}/users/:user/databases`, async (req: Req, reply) => {
    const a = await addressed(req, reply);
    const r = await run(req, reply, a && { kind: 'showAccess', user: a.user }, a?.rec);
    return r ? { databases: r.databases } : reply;
  });

  app.put(`${base}/users/:user/databases`, async (req: Req, reply) => {
    const a = await addressed(req, reply);
    const body = a && parse(reply, grantBody, req.body);
    return (await run(req, reply, a && body && { kind: 'grantAccess', user: a.user, databases: body.databases.map((db) => db.name) }, a?.rec)) ? reply.code(202).send() : reply;
  });

  app.delete(`${base}/users/:user/databases/:db`, async (req: Req, reply) => {
    const a = await addressed(req, reply);
    const db = a && databaseSegment(req.params.db!);
    if (db && 'errors' in db) return badRequest(reply, db.errors);
    return (await run(req, reply, a && db && { kind: 'revokeAccess', user: a.user, database: db.name }, a?.rec)) ? reply.code(202).send() : reply;
  });
}
