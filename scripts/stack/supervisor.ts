// Runs one part of the stack as a child process: prefixes its output, restarts it with
// backoff when it exits unexpectedly (and logs the restart), and stops it on request.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface PartSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves once the part serves requests (the part itself: ctx.pid names its process). */
  ready?: (ctx: ReadyContext) => Promise<void>;
  /** Grace period between SIGTERM and SIGKILL. */
  stopTimeoutMs?: number;
}

export interface ReadyContext {
  /** The part's process now (it changes when the part is restarted). */
  pid(): number | undefined;
  /** Aborted when the part is stopped: a readiness wait ends then instead of at its timeout. */
  signal: AbortSignal;
}

export type LogSink = (part: string, line: string) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SupervisedPart {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  /** Unexpected exits since start(), newest last: a part that cannot start says why. */
  private exits: string[] = [];
  private starting = new AbortController();

  constructor(readonly spec: PartSpec, private readonly log: LogSink) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.exits = [];
    this.starting = new AbortController();
    this.launch();
    if (!this.spec.ready) return;
    try {
      await this.spec.ready({ pid: () => this.pid, signal: this.starting.signal });
    } catch (err) {
      const exits = this.exits.length ? ` (its process exited ${this.exits.length} time(s) meanwhile, last ${this.exits[this.exits.length - 1]}: see its log)` : '';
      throw new Error(`${err instanceof Error ? err.message : String(err)}${exits}`, { cause: err });
    }
  }

  private launch(): void {
    const { name, command, args, env, cwd } = this.spec;
    const child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.startedAt = Date.now();
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.log(name, line));
    }
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopping) return;
      this.exits.push(signal ?? `with code ${code}`);
      // A part that ran for a minute has earned a fresh backoff.
      if (Date.now() - this.startedAt > 60_000) this.restarts = 0;
      const delay = Math.min(30_000, 1000 * 2 ** this.restarts++);
      this.log('stack', `${name} exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (!this.stopping) this.launch();
      }, delay).unref();
    });
  }

  /** SIGKILL, as a crash would; the supervisor then restarts it like any other exit. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** From now on an exit is expected (Ctrl-C reaches every child at once). */
  markStopping(): void {
    this.stopping = true;
    this.starting.abort();
  }

  async stop(): Promise<void> {
    this.markStopping();
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timeout = this.spec.stopTimeoutMs ?? 20_000;
    // A cleared timer: a pending one would keep the caller's process alive that long.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeout)));
    const stopped = await Promise.race([exited.then(() => true), timedOut]);
    clearTimeout(timer);
    if (!stopped) {
      this.log('stack', `${this.spec.name} did not stop in ${timeout} ms; killing it`);
      child.kill('SIGKILL');
      await exited;
    }
  }
}

export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new Error(`${what}: stopped before it was ready`);
    try {
      if (await probe()) return;
    } catch (e) {
      lastError = e;
    }
    await sleep(200);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}
