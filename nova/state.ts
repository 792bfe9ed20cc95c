// Nova's persisted store. It survives Nova restarts so running servers can be
// adopted (their init pid is recorded) and servers that were ACTIVE when the
// whole stack stopped can be booted again. Writes are synchronous and atomic
// (tmp + rename): the file is tiny and a torn write would orphan processes.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const statusSchema = z.enum(['BUILD', 'ACTIVE', 'SHUTOFF', 'ERROR', 'REBOOT', 'HARD_REBOOT', 'RESIZE', 'VERIFY_RESIZE', 'REVERT_RESIZE']);
const taskStateSchema = z
  .enum(['spawning', 'powering-off', 'powering-on', 'rebooting', 'rebooting_hard', 'deleting', 'resize_migrating', 'resize_reverting'])
  .nullable();

const serverSchema = z.object({
  id: z.string(),
  name: z.string(),
  flavorId: z.string(),
  metadata: z.record(z.string(), z.string()),
  zone: z.string().nullable(),
  host: z.string().nullable(),
  address: z.string().nullable(),
  groupId: z.string().nullable(),
  status: statusSchema,
  taskState: taskStateSchema,
  fault: z.object({ code: z.number(), message: z.string(), created: z.string() }).nullable(),
  hung: z.boolean(),
  /** Nova's lock action: a locked server refuses power and reboot actions (fencing uses it). */
  locked: z.boolean().default(false),
  /** The flavor a resize left, kept until it is confirmed (or reverted to). */
  oldFlavorId: z.string().nullable().default(null),
  /** Size of the server's data volume in GB, once one was declared (x-extend-volume); null: none declared. */
  volumeGb: z.number().int().nullable().default(null),
  /** Init process (= process group leader); startTime guards against pid reuse. */
  runtime: z.object({ pid: z.number().int(), startTime: z.number() }).nullable(),
  created: z.string(),
  updated: z.string(),
});

const groupSchema = z.object({
  id: z.string(),
  name: z.string(),
  policy: z.enum(['affinity', 'anti-affinity']),
  created: z.string(),
});

const fileSchema = z.object({
  version: z.literal(1),
  servers: z.array(serverSchema),
  groups: z.array(groupSchema),
});

export type ServerStatus = z.infer<typeof statusSchema>;
export type TaskState = z.infer<typeof taskStateSchema>;
export type ServerRecord = z.infer<typeof serverSchema>;
export type ServerGroupRecord = z.infer<typeof groupSchema>;
export type ServerRuntime = NonNullable<ServerRecord['runtime']>;

export class NovaStore {
  readonly servers = new Map<string, ServerRecord>();
  readonly groups = new Map<string, ServerGroupRecord>();

  constructor(private readonly file: string) {
    this.load();
  }

  private load(): void {
    let raw: string;
    try {
      raw = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const parsed = fileSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) {
      throw new Error(`Nova state file ${this.file} is invalid: ${z.prettifyError(parsed.error)}`);
    }
    for (const s of parsed.data.servers) this.servers.set(s.id, s);
    for (const g of parsed.data.groups) this.groups.set(g.id, g);
  }

  save(): void {
    const data: z.infer<typeof fileSchema> = {
      version: 1,
      servers: [...this.servers.values()],
      groups: [...this.groups.values()],
    };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
    fs.renameSync(tmp, this.file);
  }
}

/** Nova-style timestamp: second precision, UTC. */
export function novaTimestamp(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
