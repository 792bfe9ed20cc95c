import path from 'node:path';
import { DEFAULT_ZONES, loadNovaConfig, NovaConfigError } from '../../nova/config';

const repo = path.resolve(__dirname, '../..');

describe('loadNovaConfig', () => {
  test('defaults', () => {
    const config = loadNovaConfig({});
    expect(config).toEqual({
      port: 8774,
      host: '127.0.0.1',
      dataDir: path.join(repo, '.data'),
      token: 'nova-local-token',
      zones: [
        { name: 'az1', hosts: ['host1a', 'host1b'] },
        { name: 'az2', hosts: ['host2a', 'host2b'] },
        { name: 'az3', hosts: ['host3a', 'host3b'] },
      ],
      driver: 'process',
      guestCommand: [process.execPath, '--import', 'tsx', path.join(repo, 'workers', 'guest-agent.ts')],
      initCommand: [process.execPath, '--import', 'tsx', path.join(repo, 'nova', 'server-init.ts')],
      bootDelayMs: 0,
      dockerNetwork: null,
      dockerImage: 'trove/db-server',
    });
    expect(loadNovaConfig({ NOVA_ZONES: DEFAULT_ZONES }).zones).toHaveLength(3);
  });

  test('explicit values', () => {
    const config = loadNovaConfig({
      NOVA_PORT: '0', NOVA_HOST: '0.0.0.0', TROVE_DATA_DIR: '/tmp/x', NOVA_TOKEN: 't', NOVA_ZONES: ' z1 : a , b ; z2:c ',
      NOVA_DRIVER: 'fake', NOVA_GUEST_COMMAND: '["/bin/sleep","100"]', NOVA_INIT_COMMAND: '["/usr/bin/node","init.js"]', NOVA_BOOT_DELAY_MS: '250',
    });
    expect(config).toMatchObject({
      port: 0, host: '0.0.0.0', dataDir: '/tmp/x', token: 't', driver: 'fake', guestCommand: ['/bin/sleep', '100'], initCommand: ['/usr/bin/node', 'init.js'], bootDelayMs: 250,
      zones: [{ name: 'z1', hosts: ['a', 'b'] }, { name: 'z2', hosts: ['c'] }],
    });
  });

  test('the docker driver names its network and may name its image', () => {
    expect(loadNovaConfig({ NOVA_DRIVER: 'docker', NOVA_DOCKER_NETWORK: 'trove-net', NOVA_DOCKER_IMAGE: 'mine/db:1' })).toMatchObject({ driver: 'docker', dockerNetwork: 'trove-net', dockerImage: 'mine/db:1' });
  });

  test('empty values fall back to defaults', () => {
    expect(loadNovaConfig({ NOVA_PORT: '', NOVA_ZONES: '  ' })).toMatchObject({ port: 8774 });
  });

  test.each([
    ['NOVA_PORT', 'abc', /whole number/],
    ['NOVA_PORT', '70000', /65535/],
    ['NOVA_BOOT_DELAY_MS', '-5', /whole number/],
    ['NOVA_DRIVER', 'qemu', /process.*fake.*docker/],
    ['NOVA_ZONES', 'az1', /zone:host1,host2/],
    ['NOVA_ZONES', 'az1:', /no hosts/],
    ['NOVA_ZONES', 'az1:h1;az1:h2', /listed twice/],
    ['NOVA_ZONES', 'az1:h1;az2:h1', /host 'h1' is listed twice/],
    ['NOVA_ZONES', 'az 1:h1', /zone name/],
    ['NOVA_ZONES', ';;', /at least one zone/],
    ['NOVA_GUEST_COMMAND', 'node guest.js', /JSON array/],
    ['NOVA_GUEST_COMMAND', '[]', /non-empty/],
    ['NOVA_GUEST_COMMAND', '["node", 3]', /non-empty JSON array of non-empty strings/],
    ['NOVA_DOCKER_NETWORK', '', /required with NOVA_DRIVER=docker/, { NOVA_DRIVER: 'docker' }],
  ])('%s=%j is rejected naming the variable', (variable, value, detail, more: Record<string, string> = {}) => {
    let error: unknown;
    try {
      loadNovaConfig({ ...more, [variable]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NovaConfigError);
    expect((error as NovaConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^Invalid ${variable}: `));
    expect((error as Error).message).toMatch(detail);
  });
});
