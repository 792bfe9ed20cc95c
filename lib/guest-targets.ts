// Prometheus HTTP service discovery (http_sd_configs) of the guest agents' metrics: each
// database server's guest serves GET /metrics on the server's own address, and servers come
// and go with the fleet, so the scrape list is read from the registry, not written in a file.
// (A site with a real Nova may use Prometheus's openstack_sd_configs instead.)

export interface ScrapeTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export interface GuestTargetSource {
  id: string;
  name: string;
  projectId: string;
  address: string | null;
  replicationSetId: string | null;
}

/** One group per server with an address; none when guests serve no metrics (port 0). */
export function guestScrapeTargets(instances: readonly GuestTargetSource[], port: number): ScrapeTargetGroup[] {
  if (port === 0) return [];
  return instances
    .filter((i) => i.address)
    .map((i) => ({
      targets: [`${i.address}:${port}`],
      labels: { trove_instance_id: i.id, trove_instance_name: i.name, trove_project: i.projectId, ...(i.replicationSetId ? { trove_replication_set: i.replicationSetId } : {}) },
    }));
}
