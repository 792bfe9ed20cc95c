// What this deployment serves, in Trove's terms: one datastore, MariaDB 10.11, which
// python-troveclient may also call by the type "mysql" (Trove's name for the MySQL family).
// Ids are UUID v5 of the names, so every call, process and restart agrees on them.
import { createHash } from 'node:crypto';

/** UUID v5 (RFC 9562, SHA-1) of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The namespace of this project's catalog ids (itself uuidV5 of the project's name in the URL namespace). */
export const CATALOG_NAMESPACE = uuidV5('https://github.com/trove-replication/catalog', '6ba7b811-9dad-11d1-80b4-00c04fd430c8');

export interface DatastoreVersion {
  id: string;
  name: string;
  /** Trove's version number: what runs. */
  version: string;
  active: boolean;
}

export interface Datastore {
  id: string;
  name: string;
  /** Other type names a client may send for this datastore. */
  aliases: string[];
  versions: DatastoreVersion[];
  defaultVersion: string;
}

const MARIADB_VERSION: DatastoreVersion = { id: uuidV5('datastore-version:mariadb:10.11', CATALOG_NAMESPACE), name: '10.11', version: '10.11', active: true };

export const DATASTORES: readonly Datastore[] = Object.freeze([
  { id: uuidV5('datastore:mariadb', CATALOG_NAMESPACE), name: 'mariadb', aliases: ['mysql'], versions: [MARIADB_VERSION], defaultVersion: MARIADB_VERSION.id },
]);

/** The datastore a name, alias or id means (names without regard to case, as Trove's database compares them). */
export function findDatastore(ref: string): Datastore | undefined {
  const lower = ref.toLowerCase();
  return DATASTORES.find((d) => d.id === ref || d.name === lower || d.aliases.includes(lower));
}

/** A version of `ds` by name or id. */
export function findVersion(ds: Datastore, ref: string): DatastoreVersion | undefined {
  return ds.versions.find((v) => v.id === ref || v.name === ref);
}

/** A version by id alone (GET /datastores/versions/{id}), with its datastore. */
export function findVersionById(id: string): { datastore: Datastore; version: DatastoreVersion } | undefined {
  for (const datastore of DATASTORES) {
    const version = datastore.versions.find((v) => v.id === id);
    if (version) return { datastore, version };
  }
  return undefined;
}

/** "mariadb (or its alias mysql)" for error messages. */
export const SERVED_TYPES = DATASTORES.map((d) => `${d.name}${d.aliases.length ? ` (or its alias ${d.aliases.join(', ')})` : ''}`).join(', ');
export const SERVED_VERSIONS = [...new Set(DATASTORES.flatMap((d) => d.versions.map((v) => v.name)))].join(', ');
