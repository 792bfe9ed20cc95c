// A worker registers activities by name in one flat map. Spreading groups into it lets a
// later group's activity silently replace an earlier one of the same name; this refuses it.
type Group = Record<string, unknown>;

type Merged<G extends Record<string, Group>> = { [K in keyof G]: G[K] }[keyof G] extends infer U ? (U extends Group ? UnionToIntersection<U> : never) : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

export function mergeActivityGroups<G extends Record<string, Group>>(groups: G): Merged<G> {
  const merged: Group = {};
  const owner: Record<string, string> = {};
  for (const [group, activities] of Object.entries(groups)) {
    for (const name of Object.keys(activities)) {
      if (name in owner) throw new Error(`activity ${name} is defined by both ${owner[name]} and ${group}`);
      owner[name] = group;
      merged[name] = activities[name];
    }
  }
  return merged as Merged<G>;
}
