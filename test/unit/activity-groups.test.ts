import { mergeActivityGroups } from '../../lib/activity-groups';

describe('mergeActivityGroups', () => {
  it('merges groups whose names differ', () => {
    const merged = mergeActivityGroups({ a: { one: async () => 1 }, b: { two: async () => 2 } });
    expect(Object.keys(merged).sort()).toEqual(['one', 'two']);
  });
  it('refuses two activities of one name, naming both groups', () => {
    expect(() => mergeActivityGroups({ compute: { deleteServer: async () => 1 }, registry: { deleteServer: async () => 2 } })).toThrow(
      'activity deleteServer is defined by both compute and registry',
    );
  });
});
