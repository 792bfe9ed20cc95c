// Database and user commands (troveclient's database-* and user-* syntax), over the API's
// /databases and /users routes. Passwords are only ever sent to the API, never printed.
import type { Command } from 'commander';
import { userPath } from '../api-client';
import type { CliContext } from '../context';
import { json, listTable, propertyTable } from '../format';

interface UserView {
  name: string;
  host: string;
  databases: { name: string }[];
}

const names = (dbs: { name: string }[]) => dbs.map((d) => d.name).join(', ');
const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerAccessCommands(program: Command, ctx: CliContext): void {
  const done = (text: string) => ctx.out(text);

  program
    .command('database-list')
    .description('Lists the databases of an instance.')
    .argument('<instance>', 'ID or name of the instance')
    .option('--json', 'print the API JSON only')
    .action(async (instance: string, opts: { json?: boolean }) => {
      const dbs = await ctx.api().accessList<{ name: string }>(instance, 'databases');
      ctx.out(opts.json ? json({ databases: dbs }) : listTable(['Name'], dbs.map((d) => [d.name]), ctx.width));
    });

  program
    .command('database-create')
    .description('Creates a database on an instance.')
    .argument('<instance>', 'ID or name of the instance')
    .argument('<name>', 'name of the database')
    .option('--character_set <set>', 'character set of the database')
    .option('--collate <collation>', 'collation of the database')
    .action(async (instance: string, name: string, opts: { character_set?: string; collate?: string }) => {
      const db: Record<string, string> = { name };
      if (opts.character_set) db.character_set = opts.character_set;
      if (opts.collate) db.collate = opts.collate;
      await ctx.api().access('POST', instance, '/databases', { databases: [db] });
      done(`Database ${name} created on instance ${instance}.`);
    });

  program
    .command('database-delete')
    .description('Deletes a database from an instance.')
    .argument('<instance>', 'ID or name of the instance')
    .argument('<database>', 'name of the database')
    .action(async (instance: string, database: string) => {
      await ctx.api().access('DELETE', instance, `/databases/${encodeURIComponent(database)}`);
      done(`Database ${database} deleted from instance ${instance}.`);
    });

  program
    .command('user-list')
    .description('Lists the users of an instance.')
    .argument('<instance>', 'ID or name of the instance')
    .option('--json', 'print the API JSON only')
    .action(async (instance: string, opts: { json?: boolean }) => {
      const users = await ctx.api().accessList<UserView>(instance, 'users');
      ctx.out(opts.json ? json({ users }) : listTable(['Name', 'Host', 'Databases'], users.map((u) => [u.name, u.host, names(u.databases)]), ctx.width));
    });

  program
    .command('user-create')
    .description('Creates a user on an instance.')
    .argument('<instance>', 'ID or name of the instance')
    .argument('<name>', 'name of the user')
    .argument('<password>', 'password of the user')
    .option('--host <host>', 'host the user connects from (default %)')
    .option('--databases <db>', 'a database the user gets access to (repeat for more)', collect)
    .action(async (instance: string, name: string, password: string, opts: { host?: string; databases?: string[] }) => {
      const user: Record<string, unknown> = { name, password, databases: (opts.databases ?? []).map((db) => ({ name: db })) };
      if (opts.host) user.host = opts.host;
      await ctx.api().access('POST', instance, '/users', { users: [user] });
      done(`User ${name} created on instance ${instance}.`);
    });

  const userCommand = (command: string, description: string) =>
    program
      .command(command)
      .description(description)
      .argument('<instance>', 'ID or name of the instance')
      .argument('<name>', 'name of the user')
      .option('--host <host>', 'host of the user (default %)');

  userCommand('user-show', 'Shows a user of an instance.')
    .option('--json', 'print the API JSON only')
    .action(async (instance: string, name: string, opts: { host?: string; json?: boolean }) => {
      const { user } = (await ctx.api().access('GET', instance, `/users/${userPath(name, opts.host)}`)) as { user: UserView };
      ctx.out(opts.json ? json({ user }) : propertyTable({ name: user.name, host: user.host, databases: names(user.databases) }, ctx.width));
    });

  userCommand('user-delete', 'Deletes a user from an instance.').action(async (instance: string, name: string, opts: { host?: string }) => {
    await ctx.api().access('DELETE', instance, `/users/${userPath(name, opts.host)}`);
    done(`User ${name} deleted from instance ${instance}.`);
  });

  userCommand('user-show-access', 'Shows the databases a user has access to.')
    .option('--json', 'print the API JSON only')
    .action(async (instance: string, name: string, opts: { host?: string; json?: boolean }) => {
      const answer = (await ctx.api().access('GET', instance, `/users/${userPath(name, opts.host)}/databases`)) as { databases: { name: string }[] };
      ctx.out(opts.json ? json(answer) : listTable(['Name'], answer.databases.map((d) => [d.name]), ctx.width));
    });

  userCommand('user-grant-access', 'Grants a user access to databases.')
    .argument('<databases...>', 'the databases')
    .action(async (instance: string, name: string, databases: string[], opts: { host?: string }) => {
      await ctx.api().access('PUT', instance, `/users/${userPath(name, opts.host)}/databases`, { databases: databases.map((db) => ({ name: db })) });
      done(`User ${name} granted access to ${databases.join(', ')}.`);
    });

  userCommand('user-revoke-access', 'Revokes a user\'s access to a database.')
    .argument('<database>', 'the database')
    .action(async (instance: string, name: string, database: string, opts: { host?: string }) => {
      await ctx.api().access('DELETE', instance, `/users/${userPath(name, opts.host)}/databases/${encodeURIComponent(database)}`);
      done(`User ${name} no longer has access to ${database}.`);
    });

  userCommand('user-update-attributes', 'Changes a user\'s name, host or password (at least one).')
    .option('--new_name <name>', 'new name of the user')
    .option('--new_password <password>', 'new password of the user')
    .option('--new_host <host>', 'new host of the user')
    .action(async (instance: string, name: string, opts: { host?: string; new_name?: string; new_password?: string; new_host?: string }) => {
      const user: Record<string, string> = {};
      if (opts.new_name) user.name = opts.new_name;
      if (opts.new_password) user.password = opts.new_password;
      if (opts.new_host) user.host = opts.new_host;
      await ctx.api().access('PUT', instance, `/users/${userPath(name, opts.host)}`, { user });
      done(`User ${name} updated.`);
    });
}
