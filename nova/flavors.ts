// Devstack-like flavors so Trove code written against a real cloud finds the
// ids and names it expects. Ids are numeric strings because Nova's are strings.
export interface Flavor {
  id: string;
  name: string;
  ram: number; // MB
  vcpus: number;
  disk: number; // GB
}

export const FLAVORS: readonly Flavor[] = Object.freeze([
  { id: '1', name: 'm1.tiny', ram: 512, vcpus: 1, disk: 1 },
  { id: '2', name: 'm1.small', ram: 2048, vcpus: 1, disk: 20 },
  { id: '3', name: 'm1.medium', ram: 4096, vcpus: 2, disk: 40 },
  { id: '4', name: 'm1.large', ram: 8192, vcpus: 4, disk: 80 },
  { id: '5', name: 'm1.xlarge', ram: 16384, vcpus: 8, disk: 160 },
  { id: '6', name: 'ds512M', ram: 512, vcpus: 1, disk: 5 },
  { id: '7', name: 'ds1G', ram: 1024, vcpus: 1, disk: 10 },
  { id: '8', name: 'ds2G', ram: 2048, vcpus: 2, disk: 10 },
  { id: '9', name: 'ds4G', ram: 4096, vcpus: 4, disk: 20 },
  { id: '10', name: 'ds8G', ram: 8192, vcpus: 4, disk: 40 },
]);

export function findFlavor(id: string): Flavor | undefined {
  return FLAVORS.find((f) => f.id === id);
}
