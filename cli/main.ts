// The `trove` CLI: troveclient-compatible commands over the project's REST API.
// buildProgram/run take their I/O as arguments so tests drive the CLI in-process.
import { Command, CommanderError } from 'commander';
import { ApiError, UnreachableError } from './api-client';
import { registerAccessCommands } from './commands/access';
import { registerDrCommands } from './commands/dr';
import { registerFailoverCommands } from './commands/failover';
import { registerInstanceOpsCommands } from './commands/instance-ops';
import { registerInstanceCommands } from './commands/instances';
import { registerPairCommands } from './commands/pairs';
import { registerReplicationCommands } from './commands/replication';
import { registerZoneProfileCommands } from './commands/zone-profiles';
import { registerBackupCommands } from './commands/backups';
import { CliFailure, makeContext, type CliIo } from './context';

export type { CliIo } from './context';

export function buildProgram(io: CliIo): Command {
  const ctx = makeContext(io);
  const program = new Command('trove')
    .description('Command-line client for the Trove replication API (TROVE_URL, TROVE_TOKEN, TROVE_PROJECT; TROVE_ADMIN_TOKEN for zone profiles).')
    // Set before adding commands: subcommands copy these settings when created.
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run "trove help <command>" for usage)')
    .helpCommand(true);
  registerInstanceCommands(program, ctx);
  registerInstanceOpsCommands(program, ctx);
  registerReplicationCommands(program, ctx);
  registerFailoverCommands(program, ctx);
  registerPairCommands(program, ctx);
  registerAccessCommands(program, ctx);
  registerZoneProfileCommands(program, ctx);
  registerBackupCommands(program, ctx);
  registerDrCommands(program, ctx);
  return program;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    // Commander has already printed its message; help/version exit 0, every other
    // parse problem (unknown command/option, missing or invalid argument) is usage: 2.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ApiError || err instanceof UnreachableError || err instanceof CliFailure) {
      io.stderr(`ERROR: ${err.message}\n`);
      return 1;
    }
    io.stderr(`ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

export function main(): void {
  const io: CliIo = {
    env: process.env,
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    fetch: (url, init) => fetch(url, init),
    stdoutColumns: process.stdout.isTTY ? process.stdout.columns : undefined,
    stderrColumns: process.stderr.isTTY ? process.stderr.columns : undefined,
  };
  void run(process.argv.slice(2), io).then((code) => process.exit(code));
}

if (require.main === module) main();
