// What every command group gets: where to write, how to reach the API, and the error
// types run() maps to exit codes. Kept apart from main.ts so command files don't import it.
import { InvalidArgumentError } from 'commander';
import { configFromEnv, TroveApi, type FetchLike } from './api-client';

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  fetch: FetchLike;
  /** --wait poll period; tests shrink it. */
  pollIntervalMs?: number;
}

export interface CliContext {
  io: CliIo;
  /** Built lazily so `trove help` works with a broken env. */
  api(): TroveApi;
  out(line: string): void;
  err(line: string): void;
  pollIntervalMs: number;
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
  };
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
