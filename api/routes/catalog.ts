// /v1.0/{project}/flavors and /datastores: what an instance can be built with, in Trove's
// shapes (python-troveclient looks the flavor up before it creates, and lists both).
// Flavors are Nova's; the datastore is what runs here. Both are the deployment's, the
// same for every project.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NovaError, type NovaClient, type NovaFlavor } from '../../lib/nova-client';
import { PATTERNS } from '../../lib/schemas';
import { DATASTORES, findDatastore, findVersion, findVersionById, type Datastore, type DatastoreVersion } from '../catalog';
import { sendError } from '../errors';

export interface CatalogRouteDeps {
  nova: NovaClient;
  baseUrl: string;
}

type Req = FastifyRequest<{ Params: { project: string; id?: string; ds?: string; v?: string } }>;

const links = (baseUrl: string, project: string, what: string) => [
  { rel: 'self', href: `${baseUrl}/v1.0/${project}/${what}` },
  { rel: 'bookmark', href: `${baseUrl}/${project}/${what}` },
];

/** Trove's FlavorView: an integer id when Nova's is one (str_id always), and the sizes. */
export function flavorView(f: NovaFlavor, baseUrl: string, project: string) {
  const numeric = /^[1-9][0-9]*$/.test(f.id);
  return { id: numeric ? Number(f.id) : null, str_id: f.id, name: f.name, ram: f.ram, vcpus: f.vcpus, disk: f.disk, ephemeral: 0, links: links(baseUrl, project, `flavors/${f.id}`) };
}

export function versionView(ds: Datastore, v: DatastoreVersion, baseUrl: string, project: string, withDatastore = true) {
  return { id: v.id, name: v.name, version: v.version, ...(withDatastore ? { datastore: ds.id } : {}), active: v.active, links: links(baseUrl, project, `datastores/versions/${v.id}`) };
}

export function datastoreView(ds: Datastore, baseUrl: string, project: string) {
  return {
    id: ds.id,
    name: ds.name,
    default_version: ds.defaultVersion,
    versions: ds.versions.map((v) => versionView(ds, v, baseUrl, project, false)),
    links: links(baseUrl, project, `datastores/${ds.id}`),
  };
}

export function registerCatalogRoutes(app: FastifyInstance, d: CatalogRouteDeps): void {
  /** 503 when Nova did not answer (a 404 of a flavor is the caller's to tell). */
  const novaDown = (req: Req, reply: FastifyReply, err: unknown) => {
    req.log.error({ err }, 'Nova did not answer');
    return sendError(reply, 503, 'the compute service (Nova) did not answer; try again');
  };

  const listFlavors = async (req: Req, reply: FastifyReply) => {
    let flavors: NovaFlavor[];
    try {
      flavors = await d.nova.listFlavors();
    } catch (err) {
      return novaDown(req, reply, err);
    }
    return { flavors: flavors.map((f) => flavorView(f, d.baseUrl, req.params.project)) };
  };

  app.get('/v1.0/:project/flavors', listFlavors);

  app.get('/v1.0/:project/flavors/:id', async (req: Req, reply) => {
    const id = req.params.id!;
    const missing = () => sendError(reply, 404, `flavor ${id} not found`);
    if (!PATTERNS.flavorId.test(id)) return missing();
    try {
      return { flavor: flavorView(await d.nova.getFlavor(id), d.baseUrl, req.params.project) };
    } catch (err) {
      return err instanceof NovaError && err.status === 404 ? missing() : novaDown(req, reply, err);
    }
  });

  /** The datastore the path names, or undefined once a 404 says so. */
  const datastoreOr404 = (reply: FastifyReply, ref: string) => {
    const ds = findDatastore(ref);
    if (!ds) sendError(reply, 404, `datastore ${ref} not found (served: ${DATASTORES.map((x) => x.name).join(', ')})`);
    return ds;
  };
  const versionOr404 = (reply: FastifyReply, ds: Datastore, ref: string) => {
    const v = findVersion(ds, ref);
    if (!v) sendError(reply, 404, `${ds.name} version ${ref} not found (served: ${ds.versions.map((x) => x.name).join(', ')})`);
    return v;
  };

  app.get('/v1.0/:project/datastores', async (req: Req) => ({ datastores: DATASTORES.map((ds) => datastoreView(ds, d.baseUrl, req.params.project)) }));

  // By id alone, as `openstack datastore version show <uuid>` asks (a static segment: it wins over :ds).
  app.get('/v1.0/:project/datastores/versions/:v', async (req: Req, reply) => {
    const found = findVersionById(req.params.v!);
    if (!found) return sendError(reply, 404, `datastore version ${req.params.v} not found`);
    return { version: versionView(found.datastore, found.version, d.baseUrl, req.params.project) };
  });

  app.get('/v1.0/:project/datastores/:ds', async (req: Req, reply) => {
    const ds = datastoreOr404(reply, req.params.ds!);
    if (!ds) return reply;
    return { datastore: datastoreView(ds, d.baseUrl, req.params.project) };
  });

  app.get('/v1.0/:project/datastores/:ds/versions', async (req: Req, reply) => {
    const ds = datastoreOr404(reply, req.params.ds!);
    if (!ds) return reply;
    return { versions: ds.versions.map((v) => versionView(ds, v, d.baseUrl, req.params.project)) };
  });

  app.get('/v1.0/:project/datastores/:ds/versions/:v', async (req: Req, reply) => {
    const ds = datastoreOr404(reply, req.params.ds!);
    if (!ds) return reply;
    const v = versionOr404(reply, ds, req.params.v!);
    if (!v) return reply;
    return { version: versionView(ds, v, d.baseUrl, req.params.project) };
  });

  // `openstack database flavor list --datastore-type T --datastore-version-id V`: every flavor serves it.
  app.get('/v1.0/:project/datastores/:ds/versions/:v/flavors', async (req: Req, reply) => {
    const ds = datastoreOr404(reply, req.params.ds!);
    if (!ds) return reply;
    if (!versionOr404(reply, ds, req.params.v!)) return reply;
    return listFlavors(req, reply);
  });
}
