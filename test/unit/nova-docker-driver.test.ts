// The docker driver's pure parts: which addresses a server may get on its network, and
// which of Nova's settings a guest inside a container is told.
import { containerName, guestEnvironment, subnetHosts } from '../../nova/drivers/docker';

describe('subnetHosts', () => {
  test.each([
    ['10.213.5.0/24', '10.213.5.1', 253, '10.213.5.2', '10.213.5.254'],
    ['10.213.5.0/29', '10.213.5.1', 5, '10.213.5.2', '10.213.5.6'],
    // A gateway elsewhere than .1 is skipped where it is; a base not on the boundary is aligned.
    ['172.30.0.9/28', '172.30.0.14', 13, '172.30.0.1', '172.30.0.13'],
    ['192.168.0.0/16', '192.168.0.1', 65533, '192.168.0.2', '192.168.255.254'],
  ])('%s with gateway %s: %i hosts from %s to %s', (cidr, gateway, count, first, last) => {
    const hosts = [...subnetHosts(cidr, gateway)];
    expect(hosts).toHaveLength(count);
    expect(hosts[0]).toBe(first);
    expect(hosts.at(-1)).toBe(last);
    expect(hosts).not.toContain(gateway);
  });
});

test('a guest is told Temporal, the secret key, the snapshot store and the log level; never the registry, the API tokens or Nova', () => {
  const env = guestEnvironment({
    TEMPORAL_ADDRESS: '10.213.5.1:7233', TEMPORAL_NAMESPACE: 'default', TROVE_SECRET_KEY: 'k', TROVE_LOG_LEVEL: 'info',
    TROVE_SNAPSHOT_STORE: 'swift', SWIFT_AUTH_URL: 'http://10.213.5.1:8080/auth/v1.0', SWIFT_USER: 'a:b', SWIFT_KEY: 's',
    TROVE_REGISTRY_PASSWORD: 'p', TROVE_API_TOKENS: 't=p', TROVE_ADMIN_TOKENS: 'a', NOVA_TOKEN: 'n', NOVA_DRIVER: 'docker', PATH: '/usr/bin', TROVE_DATA_DIR: '/host/path',
  });
  expect(Object.keys(env).sort()).toEqual(['SWIFT_AUTH_URL', 'SWIFT_KEY', 'SWIFT_USER', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TROVE_LOG_LEVEL', 'TROVE_SECRET_KEY', 'TROVE_SNAPSHOT_STORE']);
});

test('a server\'s container and volume are named for its id', () => {
  expect(containerName('e04667d6-02d9-4f5a-86f9-4093dc72dfd5')).toBe('trove-srv-e04667d6-02d9-4f5a-86f9-4093dc72dfd5');
});
