// The option file and start-up SQL the guest agent writes.
import { serverLayout } from '../../activities/guest/layout';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checksumAlgorithm, meter, parseBinlogPosition, type ChecksumAlgorithm } from '../../activities/guest/mariabackup';
import { bufferPoolMb, nativePasswordHash, quoteIdent, renderInitSql, renderMyCnf } from '../../activities/guest/mariadb-config';

test.each([
  [512, 256],
  [2048, 1024],
  [16384, 8192],
  [64, 32],
])('a flavor with %i MB RAM gets a %i MB buffer pool', (ram, pool) => {
  expect(bufferPoolMb(ram)).toBe(pool);
});

test('my.cnf carries server_id, binlog, strict GTID, read_only and the server address', () => {
  const cnf = renderMyCnf(serverLayout('/srv/x'), { serverId: 123, address: '127.0.1.7', flavorRamMb: 2048, readOnly: true });
  for (const line of ['server_id = 123', 'log_bin = mysql-bin', 'gtid_strict_mode = ON', 'read_only = ON', 'bind-address = 127.0.1.7', 'innodb_buffer_pool_size = 1024M', 'datadir = /srv/x/mysql']) {
    expect(cnf).toContain(line);
  }
  expect(renderMyCnf(serverLayout('/srv/x'), { serverId: 1, address: '127.0.1.7', flavorRamMb: 512, readOnly: false })).toContain('read_only = OFF');
});

test('mysql_native_password hash matches MariaDB PASSWORD()', () => {
  // SELECT PASSWORD('secret') on MariaDB 10.11
  expect(nativePasswordHash('secret')).toBe('*14E65567ABDB5135D0CFD9A70B3032C179A49EE7');
});

test('init SQL keeps the admin account out of the binlog and never holds the plaintext', () => {
  const sql = renderInitSql(nativePasswordHash('pw-123'));
  expect(sql.split('\n')[0]).toBe('SET SESSION sql_log_bin = 0;');
  expect(sql).not.toContain('pw-123');
  expect(sql).toContain("GRANT ALL PRIVILEGES ON *.* TO 'os_admin'@'localhost' WITH GRANT OPTION;");
});

test('identifiers are backtick-quoted with backticks doubled', () => {
  expect(quoteIdent('shop')).toBe('`shop`');
  expect(quoteIdent('a`b')).toBe('`a``b`');
});

describe('parseBinlogPosition (mariadb-backup output)', () => {
  test.each<[string, object | undefined]>([
    ["[00] 2026-11-22 03:43:25 MySQL binlog position: filename 'mysql-bin.000001', position '2401', GTID of the last change '0-101-12'", { file: 'mysql-bin.000001', position: 2401, gtid: '0-101-12' }],
    ["MySQL binlog position: filename 'mysql-bin.000007', position '328', GTID of the last change '0-101-5,1-102-9'", { file: 'mysql-bin.000007', position: 328, gtid: '0-101-5,1-102-9' }],
    ["MySQL binlog position: filename 'mysql-bin.000001', position '4'", { file: 'mysql-bin.000001', position: 4, gtid: '' }],
    ['[00] Streaming ./mysql/gtid_slave_pos.ibd', undefined],
  ])('%s', (log, expected) => {
    expect(parseBinlogPosition(`line before\n${log}\nline after`)).toEqual(expected);
  });
});

describe('snapshot checksums', () => {
  const run = async (chunks: string[], algorithm?: ChecksumAlgorithm) => {
    const m = meter(() => undefined, algorithm);
    await pipeline(Readable.from(chunks.map((c) => Buffer.from(c))), m, new Writable({ write: (_c, _e, cb) => cb() }));
    return { digest: m.sum.digest(), bytes: m.sum.bytes };
  };
  test.each<[string, string[], ChecksumAlgorithm | undefined, string]>([
    ['xbstream by default: bytes counted, the chunks carry their own CRC32', ['123456789'], undefined, 'xbstream:chunk-crc32'],
    ['crc32 check value, one chunk', ['123456789'], 'crc32', 'crc32:cbf43926'],
    ['crc32 over chunks equals one pass', ['1234', '56789'], 'crc32', 'crc32:cbf43926'],
    ['crc32 of nothing', [], 'crc32', 'crc32:00000000'],
    ['sha256 still readable', ['abc'], 'sha256', 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ])('%s', async (_l, chunks, algorithm, digest) => {
    const { digest: got, bytes } = await run(chunks, algorithm);
    expect(got).toBe(digest);
    expect(bytes).toBe(chunks.join('').length);
  });

  test.each([
    ['xbstream:chunk-crc32', 'xbstream'],
    ['crc32:0a1b2c3d', 'crc32'],
    ['sha256:00', 'sha256'],
  ])('%s names its algorithm', (checksum, algo) => expect(checksumAlgorithm(checksum)).toBe(algo));

  test('an unknown algorithm is refused by name', () => {
    expect(() => checksumAlgorithm('md5:00')).toThrow(/unknown snapshot checksum algorithm in "md5:00"/);
  });
});
