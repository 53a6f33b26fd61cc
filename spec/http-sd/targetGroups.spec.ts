import fc from 'fast-check';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import {
  MAX_LABEL_VALUE_CHARS,
  MAX_METADATA_LABELS,
  targetGroupsOf,
} from '../../lib/http-sd/targetGroups';

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

describe('targetGroupsOf', () => {
  it('puts endpoints that say the same about themselves in one group, labelled for Prometheus', () => {
    const warnings: string[] = [];
    const groups = targetGroupsOf(
      'web',
      [
        { service: 'web', address: '10.0.0.1:80', metadata: { zone: 'a', build: { v: '1.2' } } },
        { service: 'web', address: '10.0.0.2:80', metadata: { zone: 'b' } },
        { service: 'web', address: '10.0.0.3:80', metadata: { build: { v: '1.2' }, zone: 'a' } },
        { service: 'web', address: '10.0.0.4:80', state: 'draining' },
        {
          service: 'web',
          address: '10.0.0.5:80',
          state: 'maintenance',
          maintenance: { reason: 'disk', since: '2026-01-01T00:00:00.000Z' },
        },
      ],
      (message) => warnings.push(message),
    );
    expect(groups).toEqual([
      {
        targets: ['10.0.0.1:80', '10.0.0.3:80'],
        labels: {
          __meta_gsr_service: 'web',
          __meta_gsr_state: 'serving',
          __meta_gsr_metadata_build_v: '1.2',
          __meta_gsr_metadata_zone: 'a',
        },
      },
      {
        targets: ['10.0.0.2:80'],
        labels: {
          __meta_gsr_service: 'web',
          __meta_gsr_state: 'serving',
          __meta_gsr_metadata_zone: 'b',
        },
      },
      {
        targets: ['10.0.0.4:80'],
        labels: { __meta_gsr_service: 'web', __meta_gsr_state: 'draining' },
      },
      {
        targets: ['10.0.0.5:80'],
        labels: {
          __meta_gsr_service: 'web',
          __meta_gsr_state: 'maintenance',
          __meta_gsr_maintenance_reason: 'disk',
        },
      },
    ]);
    expect(warnings).toEqual([]);
  });

  it('gives values that are not strings as JSON, and arrays whole', () => {
    const [group] = targetGroupsOf(
      's',
      [{ service: 's', address: 'h:1', metadata: { n: 2, b: true, z: null, tags: ['x', 'y'] } }],
      () => undefined,
    );
    expect(group?.labels).toEqual({
      __meta_gsr_service: 's',
      __meta_gsr_state: 'serving',
      __meta_gsr_metadata_b: 'true',
      __meta_gsr_metadata_n: '2',
      __meta_gsr_metadata_tags: '["x","y"]',
      __meta_gsr_metadata_z: 'null',
    });
  });

  it('skips an address that is not host:port, and says so once', () => {
    const warnings: string[] = [];
    const groups = targetGroupsOf(
      's',
      [
        { service: 's', address: 'no-port' },
        { service: 's', address: 'h:99999' },
        { service: 's', address: '[::1]:9' },
      ],
      (message) => warnings.push(message),
    );
    expect(groups.flatMap((group) => group.targets)).toEqual(['[::1]:9']);
    expect(warnings).toEqual([
      expect.stringContaining(
        'http-sd skips endpoint "no-port" of service "s": expected host:port',
      ),
      expect.stringContaining('"h:99999"'),
    ]);
  });

  it('keeps the first of two fields that become one label, and bounds labels and values', () => {
    const warnings: string[] = [];
    const many = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`f${String(i).padStart(3, '0')}`, i]),
    );
    const [group] = targetGroupsOf(
      's',
      [
        {
          service: 's',
          address: 'h:1',
          metadata: { 'a-b': 'dash', a_b: 'underscore', b_long: 'x'.repeat(5000), ...many },
        },
      ],
      (message) => warnings.push(message),
    );
    const labels = group?.labels ?? {};
    expect(labels.__meta_gsr_metadata_a_b).toBe('dash'); // "a-b" sorts before "a_b"
    expect(Object.keys(labels).filter((name) => name.includes('metadata'))).toHaveLength(
      MAX_METADATA_LABELS,
    );
    expect(labels.__meta_gsr_metadata_b_long).toHaveLength(MAX_LABEL_VALUE_CHARS);
    expect(warnings).toEqual([expect.stringContaining('leaves out 139 metadata field(s)')]);
  });

  it('gives every valid address once, in one group whose labels are Prometheus label names', () => {
    const address = fc.oneof(
      fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`),
      fc.string({ maxLength: 12 }),
    );
    const metadata = fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ address, metadata }), { selector: (e) => e.address }),
        (drafts) => {
          const list: Endpoint[] = drafts.map(({ address: a, metadata: m }) => ({
            service: 's',
            address: a,
            ...(typeof m === 'object' && m !== null && !Array.isArray(m) && { metadata: m }),
          }));
          const groups = targetGroupsOf('s', list, () => undefined);
          const targets = groups.flatMap((group) => group.targets);
          const valid = list
            .map((e) => e.address)
            .filter((a) => /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.test(a))
            .filter(
              (a) =>
                Number(a.slice(a.lastIndexOf(':') + 1)) >= 1 &&
                Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535,
            );
          expect(targets.sort()).toEqual(valid.sort());
          for (const group of groups) {
            for (const [name, value] of Object.entries(group.labels)) {
              expect(name).toMatch(LABEL_NAME);
              expect(name.startsWith('__meta_gsr_')).toBe(true);
              expect(value.isWellFormed()).toBe(true);
            }
          }
        },
      ),
    );
  });
});
