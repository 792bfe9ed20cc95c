// What every command group gets: where to write, how to reach the API, and the error
// types run() maps to exit codes. Kept apart from main.ts so command files don't import it.
import { InvalidArgumentError } from 'commander';
import { configFromEnv, TroveApi, type FetchLike } from './api-client';
import { MAX_WIDTH } from './format';

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  fetch: FetchLike;
  /** --wait poll period; tests shrink it. */
  pollIntervalMs?: number;
  /** The terminal's width when stdout is a terminal (process.stdout.columns). */
  stdoutColumns?: number;
  /** The terminal's width when stderr is a terminal: --wait then redraws its progress in place. */
  stderrColumns?: number;
}

export interface CliContext {
  io: CliIo;
  /** Built lazily so `trove help` works with a broken env. */
  api(): TroveApi;
  out(line: string): void;
  err(line: string): void;
  pollIntervalMs: number;
  /** How wide stdout's tables may be: the terminal's width, else $COLUMNS, else 100; never more than 100. */
  width: number;
  /** The same for stderr, where --wait prints its progress. */
  errWidth: number;
  /** stderr is a terminal: --wait's progress is a table redrawn in place rather than a line per change. */
  liveProgress: boolean;
}

/** A failed operation or refused request: printed as "ERROR: <message>", exit 1. */
export class CliFailure extends Error {}

export function makeContext(io: CliIo): CliContext {
  let api: TroveApi | undefined;
  return {
    io,
    api: () => (api ??= new TroveApi(configFromEnv(io.env, io.fetch))),
    out: (line) => io.stdout(`${line}\n`),
    err: (line) => io.stderr(`${line}\n`),
    pollIntervalMs: io.pollIntervalMs ?? 1000,
    width: outputWidth(io.stdoutColumns, io.env.COLUMNS),
    errWidth: outputWidth(io.stderrColumns, io.env.COLUMNS),
    liveProgress: io.stderrColumns !== undefined,
  };
}

/** Below this no table fits; narrower terminals wrap its lines. */
const MIN_WIDTH = 40;

/** A terminal's width (or $COLUMNS when not writing to one), kept within [40, 100]; 100 when unknown. */
export function outputWidth(columns: number | undefined, envColumns?: string): number {
  const fromEnv = envColumns && /^\d+$/.test(envColumns.trim()) ? Number(envColumns) : undefined;
  const measured = columns && columns > 0 ? columns : fromEnv;
  return Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, measured ?? MAX_WIDTH));
}

// Option parsers: throwing InvalidArgumentError makes commander print
// "option '--size <GB>' argument 'abc' is invalid. ..." which names the argument.

export function parseWholeNumber(what: string, min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${what} must be a whole number.`);
    const n = Number(value);
    if (n < min) throw new InvalidArgumentError(`${what} must be at least ${min}.`);
    return n;
  };
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of seconds greater than 0.');
  return n;
}

/** Only the two spellings: a typo like "flase" must not silently pick a default. */
export function parseBoolean(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InvalidArgumentError('must be true or false.');
}

/** on|off, as the failover settings are spoken of; true|false too, like --read-only. */
export function parseOnOff(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'on' || v === 'true') return true;
  if (v === 'off' || v === 'false') return false;
  throw new InvalidArgumentError('must be on or off (or true/false).');
}
