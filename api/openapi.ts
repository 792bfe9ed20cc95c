// The REST API as an OpenAPI 3.0 document, served at /openapi.json. Request bodies are the
// zod schemas the routes validate with (api/schemas.ts), converted by zod itself, so the
// document cannot drift from what is accepted; a test checks that every registered route is
// here and that every example passes its route's validation.
import { z, type ZodType } from 'zod';
import pkg from '../package.json';
import { CODEC_EXAMPLE, codecBody } from './codec';
import { zoneProfileBody } from './profile-schemas';
import { createBackupBody } from './backup-schemas';
import { changePasswordsBody, createDatabasesBody, createUsersBody, grantBody, updateUserBody } from './access-schemas';
import { createInstanceBody, createReplicaBody, drEnableBody, ejectAction, instancePatchBody, promoteAction, rebuildAsReplicaAction, replicateAction, resetStatusAction, resizeAction, restartAction, settingsBody, createPairAction, switchActiveAction, breakPairAction, rejoinPairAction } from './schemas';

export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI form: /v1.0/{project}/instances/{id}. */
  path: string;
  summary: string;
  /** The body schema the route validates with; several when the route takes one of them. */
  body?: ZodType | ZodType[];
  /** Bodies a client may send as they are (each must pass `body`). */
  examples?: unknown[];
  /** Answers other than the error ones every route may give. */
  ok: Record<number, string>;
}

/** The action route's bodies: exactly one action per request. */
export const instanceActionBodies = {
  replicate: replicateAction,
  detach: z.object({}).strict(),
  promote_to_replica_source: promoteAction,
  eject_replica_source: ejectAction,
  rebuild_as_replica: rebuildAsReplicaAction,
  restart: restartAction,
  resize: resizeAction,
  reset_status: resetStatusAction,
  create_pair: createPairAction,
  switch_active: switchActiveAction,
  break_pair: breakPairAction,
  rejoin_pair: rejoinPairAction,
};

const oneAction = Object.entries(instanceActionBodies).map(([name, schema]) => z.object({ [name]: schema }).strict());

export const ROUTES: RouteDoc[] = [
  { method: 'get', path: '/', summary: 'API versions', ok: { 200: 'the versions served' } },
  { method: 'get', path: '/openapi.json', summary: 'This document', ok: { 200: 'OpenAPI 3.0' } },
  { method: 'get', path: '/v1.0/{project}/flavors', summary: "Nova's flavors, in Trove's shape", ok: { 200: 'flavors' } },
  { method: 'get', path: '/v1.0/{project}/flavors/{id}', summary: 'One flavor', ok: { 200: 'the flavor' } },
  { method: 'get', path: '/v1.0/{project}/datastores', summary: 'The datastore that runs here (MariaDB 10.11; mysql is its alias)', ok: { 200: 'datastores' } },
  { method: 'get', path: '/v1.0/{project}/datastores/{ds}', summary: 'One datastore, by id or name', ok: { 200: 'the datastore' } },
  { method: 'get', path: '/v1.0/{project}/datastores/{ds}/versions', summary: "A datastore's versions", ok: { 200: 'versions' } },
  { method: 'get', path: '/v1.0/{project}/datastores/{ds}/versions/{v}', summary: 'One version, by id or name', ok: { 200: 'the version' } },
  { method: 'get', path: '/v1.0/{project}/datastores/{ds}/versions/{v}/flavors', summary: 'The flavors a version runs on', ok: { 200: 'flavors' } },
  { method: 'get', path: '/v1.0/{project}/datastores/versions/{v}', summary: 'One version, by id', ok: { 200: 'the version' } },
  {
    method: 'post',
    path: '/v1.0/{project}/instances',
    summary: 'Create an instance, or replicas of one (with replica_of / slave_of)',
    body: [createInstanceBody, createReplicaBody],
    examples: [
      { instance: { name: 'db1', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: 'app', password: 'app-pass-1', databases: [{ name: 'shop' }] }] } },
      { instance: { name: 'db1-replica', replica_of: 'db1', replica_count: 2 } },
      { instance: { name: 'db1-replica', replica_of: 'db1', replication: { tls: true } } },
      { instance: { name: 'db2', flavorRef: '1', volume: { size: 1 }, availability_zone: 'az1', locality: 'anti-affinity' } },
      { instance: { name: 'db3', flavorRef: '1', volume: { size: 1 }, dr_profile: 'dr-az1-az2' } },
      { instance: { name: 'db4', flavorRef: '1', volume: { size: 1 }, availability_zone: 'az1', locality: 'anti-affinity', replication: { mode: 'master-master', peer_name: 'db4-b' } } },
    ],
    ok: { 202: 'accepted: the instance (BUILD), or the replicas and their operation' },
  },
  { method: 'get', path: '/v1.0/{project}/instances', summary: "The project's instances", ok: { 200: 'instances' } },
  { method: 'get', path: '/v1.0/{project}/instances/{id}', summary: 'One instance (id or name): its set, health, operation, fault', ok: { 200: 'the instance' } },
  { method: 'delete', path: '/v1.0/{project}/instances/{id}', summary: 'Delete an instance (a source with replicas is refused)', ok: { 202: 'accepted' } },
  {
    method: 'patch',
    path: '/v1.0/{project}/instances/{id}',
    summary: "Rename (name), Trove's detach (replica_of: null), or both",
    body: instancePatchBody,
    examples: [{ instance: { replica_of: null } }, { instance: { name: 'orders-db' } }],
    ok: { 202: 'accepted: renamed at once; a detach answers its operation' },
  },
  { method: 'put', path: '/v1.0/{project}/instances/{id}', summary: 'As PATCH (older clients)', body: instancePatchBody, examples: [{ instance: { slave_of: null } }], ok: { 202: 'accepted' } },
  {
    method: 'post',
    path: '/v1.0/{project}/instances/{id}/action',
    summary: 'One action on an instance: ' + Object.keys(instanceActionBodies).join(', '),
    body: oneAction,
    examples: [
      { replicate: { count: 2, instance: { flavorRef: '1' } } },
      { replicate: { count: 1, replication: { tls: true } } },
      { promote_to_replica_source: {} },
      { eject_replica_source: { force: false } },
      { rebuild_as_replica: {} },
      { detach: {} },
      { restart: {} },
      { resize: { volume: { size: 2 } } },
      { resize: { flavorRef: '2' } },
      { reset_status: {} },
      { create_pair: { name: 'shop-db-b' } },
      { switch_active: {} },
      { break_pair: {} },
      { rejoin_pair: {} },
    ],
    ok: { 202: 'accepted: the operation' },
  },
  { method: 'post', path: '/v1.0/{project}/instances/{id}/topology/action', summary: "The seed spec's detach", body: z.object({ detach: z.object({}) }).strict(), examples: [{ detach: {} }], ok: { 202: 'accepted' } },
  { method: 'get', path: '/v1.0/{project}/instances/{id}/databases', summary: "The instance's databases (?limit=&marker=, Trove's paging)", ok: { 200: 'databases, and a next link when there are more' } },
  { method: 'post', path: '/v1.0/{project}/instances/{id}/databases', summary: 'Create databases', body: createDatabasesBody, examples: [{ databases: [{ name: 'shop', character_set: 'utf8mb4' }] }], ok: { 202: 'created' } },
  { method: 'delete', path: '/v1.0/{project}/instances/{id}/databases/{db}', summary: 'Drop a database', ok: { 202: 'dropped' } },
  { method: 'get', path: '/v1.0/{project}/instances/{id}/users', summary: "The instance's users with their databases (?limit=&marker=)", ok: { 200: 'users' } },
  {
    method: 'post',
    path: '/v1.0/{project}/instances/{id}/users',
    summary: 'Create users, with access to databases',
    body: createUsersBody,
    examples: [{ users: [{ name: 'app', password: 'app-pass-1', host: '%', databases: [{ name: 'shop' }] }] }],
    ok: { 202: 'created' },
  },
  { method: 'put', path: '/v1.0/{project}/instances/{id}/users', summary: 'Change passwords', body: changePasswordsBody, examples: [{ users: [{ name: 'app', password: 'new-pass-2' }] }], ok: { 202: 'changed' } },
  { method: 'get', path: '/v1.0/{project}/instances/{id}/users/{user}', summary: 'One user ("name@host"; host % when omitted)', ok: { 200: 'the user' } },
  { method: 'put', path: '/v1.0/{project}/instances/{id}/users/{user}', summary: "Change a user's name, host or password", body: updateUserBody, examples: [{ user: { name: 'app2' } }, { user: { password: 'new-pass-3' } }], ok: { 202: 'changed' } },
  { method: 'delete', path: '/v1.0/{project}/instances/{id}/users/{user}', summary: 'Drop a user', ok: { 202: 'dropped' } },
  { method: 'get', path: '/v1.0/{project}/instances/{id}/users/{user}/databases', summary: 'The databases a user may use', ok: { 200: 'databases' } },
  { method: 'put', path: '/v1.0/{project}/instances/{id}/users/{user}/databases', summary: 'Grant access to databases', body: grantBody, examples: [{ databases: [{ name: 'shop' }] }], ok: { 202: 'granted' } },
  { method: 'delete', path: '/v1.0/{project}/instances/{id}/users/{user}/databases/{db}', summary: 'Revoke access to a database', ok: { 202: 'revoked' } },
  { method: 'get', path: '/v1.0/{project}/instances/{id}/replication', summary: "The replication set's settings", ok: { 200: 'settings' } },
  {
    method: 'patch',
    path: '/v1.0/{project}/instances/{id}/replication',
    summary: 'Change the set’s settings: automatic failover, semi-sync, quiet period',
    body: settingsBody,
    examples: [
      { replication: { auto_failover: true, semi_sync: true, failover_after: 5 } },
      { replication: { acknowledge_failover: true } },
      { replication: { tls: true } },
      { replication: { tls: { renew: true } } },
      { replication: { tls: { rotate_ca: true } } },
    ],
    ok: { 200: 'the settings now' },
  },
  {
    method: 'post',
    path: '/v1.0/{project}/backups',
    summary: "Back up an instance (Trove's backup-create): a snapshot kept in the snapshot store until the backup is deleted",
    body: createBackupBody,
    examples: [{ backup: { name: 'nightly', instance: 'shop-db', incremental: 0 } }, { backup: { name: 'before-upgrade', instance: '0c1e2f3a-0000-4000-8000-000000000001', description: 'kept' } }],
    ok: { 202: 'the backup (status NEW)' },
  },
  { method: 'get', path: '/v1.0/{project}/backups', summary: "The project's backups (?instance_id= for one instance's)", ok: { 200: 'backups' } },
  { method: 'get', path: '/v1.0/{project}/backups/{id}', summary: 'One backup: status NEW, BUILDING, COMPLETED or FAILED', ok: { 200: 'the backup' } },
  { method: 'delete', path: '/v1.0/{project}/backups/{id}', summary: 'Delete a backup and its snapshot (409 while it is NEW or BUILDING)', ok: { 202: 'accepted' } },
  { method: 'get', path: '/v1.0/{project}/instances/{id}/backups', summary: "One instance's backups", ok: { 200: 'backups' } },
  {
    method: 'post',
    path: '/v1.0/{project}/instances/{id}/dr',
    summary: "DR on a running instance: a zone profile's DR replica, built from one online snapshot; the set follows the profile",
    body: drEnableBody,
    examples: [{ dr: { profile: 'dr-az1-az2' } }],
    ok: { 202: 'accepted: the operation, the DR replica id and zones' },
  },
  { method: 'delete', path: '/v1.0/{project}/instances/{id}/dr', summary: "DR off: the set's DR replica is deleted and the set stops following its zone profile", ok: { 202: 'accepted: the replicas removed' } },
  { method: 'get', path: '/v1.0/{project}/zone-profiles', summary: 'The zone profiles an administrator defined (to choose one for DR)', ok: { 200: 'zone profiles' } },
  { method: 'get', path: '/v1.0/{project}/zone-profiles/{ref}', summary: 'One zone profile, by id or name', ok: { 200: 'the zone profile' } },
  {
    method: 'post',
    path: '/v1.0/admin/zone-profiles',
    summary: "Define a zone profile (an administrator's token): primary and DR zones, placement, semi-sync, automatic failover",
    body: zoneProfileBody,
    examples: [
      { zone_profile: { name: 'dr-az1-az2', primary_zone: 'az1', dr_zones: ['az2'], locality: 'anti-affinity', semi_sync: true, auto_failover: true, auto_rebuild: true } },
      { zone_profile: { name: 'cold-standby', description: 'DR copy, failover by hand', primary_zone: 'az2', dr_zones: ['az3'] } },
    ],
    ok: { 201: 'the zone profile' },
  },
  { method: 'get', path: '/v1.0/admin/zone-profiles', summary: "The zone profiles (an administrator's token)", ok: { 200: 'zone profiles' } },
  { method: 'get', path: '/v1.0/admin/zone-profiles/{ref}', summary: 'One zone profile, by id or name', ok: { 200: 'the zone profile' } },
  { method: 'delete', path: '/v1.0/admin/zone-profiles/{ref}', summary: 'Delete a zone profile (409 while a replication set follows it)', ok: { 202: 'deleted' } },
  // The codec server (Temporal's remote codec protocol), served when payloads are encrypted.
  { method: 'post', path: '/codec/encode', summary: 'Encrypt payloads with the active key (codec server; a codec or administrator token)', body: codecBody, examples: [CODEC_EXAMPLE], ok: { 200: '{payloads}', 422: 'a payload that cannot be encoded' } },
  { method: 'post', path: '/codec/decode', summary: 'Decrypt payloads with the key each names; plain payloads come back as they are (the Web UI calls this)', body: codecBody, examples: [CODEC_EXAMPLE], ok: { 200: '{payloads}', 422: 'a key id not configured, or a forged payload' } },
  { method: 'post', path: '/codec/{token}/encode', summary: 'As /codec/encode, the token in the path (for a Web UI that sends no header)', body: codecBody, examples: [CODEC_EXAMPLE], ok: { 200: '{payloads}' } },
  { method: 'post', path: '/codec/{token}/decode', summary: 'As /codec/decode, the token in the path (the local dev server\'s Web UI)', body: codecBody, examples: [CODEC_EXAMPLE], ok: { 200: '{payloads}' } },
];

const errorSchema = {
  type: 'object',
  description: 'Trove\'s error body: one key (badRequest, itemNotFound, conflictingRequest, ...) holding code and message',
  additionalProperties: { type: 'object', properties: { code: { type: 'integer' }, message: { type: 'string' }, errors: { type: 'array', items: { type: 'string' } } }, required: ['code', 'message'] },
};

function jsonSchema(schema: ZodType): object {
  // Input form: what a client sends, before defaults and transforms.
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
}

/** The document, built once per process. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const bodies = r.body === undefined ? [] : Array.isArray(r.body) ? r.body : [r.body];
    const responses: Record<string, unknown> = {};
    for (const [code, description] of Object.entries(r.ok)) responses[code] = { description };
    for (const [code, description] of [['400', 'invalid request, naming each field and its rule'], ['401', 'no or unknown token'], ['403', "a token of another project, or a project's token on an administrator's route"], ['404', 'not found'], ['409', 'conflict with the state met']] as const) {
      responses[code] = { description, content: { 'application/json': { schema: errorSchema } } };
    }
    (paths[r.path] ??= {})[r.method] = {
      summary: r.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(bodies.length
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: bodies.length === 1 ? jsonSchema(bodies[0]!) : { oneOf: bodies.map(jsonSchema) },
                  ...(r.examples ? { examples: Object.fromEntries(r.examples.map((e, i) => [`example${i + 1}`, { value: e }])) } : {}),
                },
              },
            },
          }
        : {}),
      responses,
      ...(r.path === '/' || r.path === '/openapi.json' ? { security: [] } : {}),
      ...(r.path.startsWith('/codec/{token}') ? { security: [] } : r.path.startsWith('/codec/') ? { security: [{ codecBearer: [] }, { token: [] }] } : {}),
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'trove-replication', version: pkg.version, description: 'The Trove v1.0 API (instances, replication) of the trove-replication orchestrator.' },
    components: { securitySchemes: { token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' }, codecBearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ token: [] }],
    paths,
  };
}
