import { EtcdNamingKeyLayout } from '../../lib/keys/EtcdNamingKeyLayout';
import { ValidationError } from '../../lib/errors/ValidationError';

const value = (text: string): Buffer => Buffer.from(text);

describe('EtcdNamingKeyLayout', () => {
  const root = new EtcdNamingKeyLayout('', 'string');

  it("keys operators' overrides apart from the targets, under gsr-overrides/", () => {
    const layout = new EtcdNamingKeyLayout('svc/', 'string');
    expect(layout.overrideKey({ service: 'foo', address: '10.0.0.1:80' })).toBe(
      'svc/gsr-overrides/foo/10.0.0.1:80',
    );
    expect(
      layout.overrideKey({ service: 'foo', address: 'a' }).startsWith(layout.overridesPrefix),
    ).toBe(true);
  });

  describe("writes what etcd's Go endpoints manager writes", () => {
    // endpoints_impl.go: json.Marshal(&internal.Update{Op: internal.Add, Addr: ..., Metadata: ...}).
    it('keys <target>/<address>, from the root of the keyspace by default', () => {
      expect(root.servicePrefix('prod/greeter')).toBe('prod/greeter/');
      expect(root.endpointKey({ service: 'prod/greeter', address: '10.0.0.7:50051' })).toBe(
        'prod/greeter/10.0.0.7:50051',
      );
      expect(
        new EtcdNamingKeyLayout('svc/', 'string').endpointKey({
          service: 'greeter',
          address: 'a:1',
        }),
      ).toBe('svc/greeter/a:1');
    });

    it('writes {"Op":0,"Addr":...,"Metadata":null} without metadata, as Go does for a nil Metadata', () => {
      expect(root.encodeValue({ service: 'greeter', address: '10.0.0.7:50051' })).toBe(
        '{"Op":0,"Addr":"10.0.0.7:50051","Metadata":null}',
      );
    });

    it('writes metadata as a JSON string by default, which every grpc-go version can hash', () => {
      expect(
        root.encodeValue({ service: 'greeter', address: 'a:1', metadata: { zone: 'a', w: 2 } }),
      ).toBe('{"Op":0,"Addr":"a:1","Metadata":"{\\"zone\\":\\"a\\",\\"w\\":2}"}');
    });

    it('writes the object itself when asked to (grpc-go 1.42 and later)', () => {
      expect(
        new EtcdNamingKeyLayout('', 'object').encodeValue({
          service: 'greeter',
          address: 'a:1',
          metadata: { zone: 'a' },
        }),
      ).toBe('{"Op":0,"Addr":"a:1","Metadata":{"zone":"a"}}');
    });
  });

  describe("reads what Go writes, as etcd's Go resolver does", () => {
    it.each([
      ['null', '{"Op":0,"Addr":"10.0.0.7:50051","Metadata":null}', undefined],
      ['missing', '{"Op":0,"Addr":"10.0.0.7:50051"}', undefined],
      ['a JSON object', '{"Op":0,"Addr":"10.0.0.7:50051","Metadata":{"zone":"a"}}', { zone: 'a' }],
      [
        'a string holding a JSON object (what gsr writes)',
        '{"Op":0,"Addr":"10.0.0.7:50051","Metadata":"{\\"zone\\":\\"a\\"}"}',
        { zone: 'a' },
      ],
      ['a plain string', '{"Op":0,"Addr":"10.0.0.7:50051","Metadata":"v1"}', undefined],
      ['a number', '{"Op":0,"Addr":"10.0.0.7:50051","Metadata":42}', undefined],
      ['a boolean', '{"Op":0,"Addr":"10.0.0.7:50051","Metadata":true}', undefined],
      ['an array', '{"Op":0,"Addr":"10.0.0.7:50051","Metadata":[1,2]}', undefined],
    ])('Metadata %s', (_what, written, metadata) => {
      expect(root.decodeEntry('greeter', '10.0.0.7:50051', value(written))).toEqual({
        endpoint: {
          service: 'greeter',
          address: '10.0.0.7:50051',
          ...(metadata !== undefined && { metadata }),
        },
      });
    });

    it('lists an "Op":1 leftover, as every Go reader since 3.4 does (each put is an add)', () => {
      expect(
        root.decodeEntry('greeter', 'old', value('{"Op":1,"Addr":"10.0.0.9:1","Metadata":null}')),
      ).toEqual({
        endpoint: { service: 'greeter', address: '10.0.0.9:1' },
      });
    });

    it('takes the address from Addr, whatever the id after the target (which may hold /)', () => {
      expect(root.decodeEntry('greeter', 'zone-a/node-1', value('{"Addr":"10.0.0.1:80"}'))).toEqual(
        {
          endpoint: { service: 'greeter', address: '10.0.0.1:80' },
        },
      );
      expect(
        root.decodeEntry('greeter', 'x', value('{"Addr":"unix:///run/greeter.sock"}')),
      ).toEqual({
        endpoint: { service: 'greeter', address: 'unix:///run/greeter.sock' },
      });
    });

    it.each([
      ['not JSON', 'not json'],
      ['gsr metadata, not a naming value', ''],
      ['an array', '[{"Addr":"a:1"}]'],
      ['no Addr', '{"Op":0,"Metadata":null}'],
      ['a number for Addr', '{"Addr":8080}'],
      ['an Addr with a newline', '{"Addr":"a:1\\nb:2"}'],
      ['an empty Addr', '{"Addr":""}'],
      [
        'nesting 10,000 deep',
        `{"Addr":"a:1","Metadata":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      ],
    ])('skips a value that is %s, saying why', (_what, written) => {
      expect(root.decodeEntry('greeter', 'a:1', value(written))).toEqual({
        skip: expect.any(String) as string,
      });
    });

    it('skips the key of the target itself', () => {
      expect(root.decodeEntry('greeter', '', value('{"Addr":"a:1"}'))).toEqual({
        skip: expect.stringContaining('the target itself') as string,
      });
    });

    it('never lists prod/greeter-v2 under prod/greeter: the prefix ends in /', () => {
      expect('prod/greeter-v2/a:1'.startsWith(root.servicePrefix('prod/greeter'))).toBe(false);
    });
  });

  describe('refuses a target that cannot be one, naming it', () => {
    it.each([
      [''],
      ['/greeter'],
      ['greeter/'],
      ['prod//greeter'],
      ['pro d'],
      ['greeter\n'],
      ['greeter\ud800'],
    ])('%j', (target) => {
      let error: unknown;
      try {
        root.validateService(target);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('target');
    });

    it('takes a target with /, and an address with /', () => {
      expect(
        root.validateEndpoint({ service: 'prod/greeter', address: 'unix:///run/g.sock' }),
      ).toEqual({ service: 'prod/greeter', address: 'unix:///run/g.sock' });
    });
  });

  it('has no services root', () => {
    expect(root.servicesPrefix).toBeUndefined();
    expect(root.probeMayBeDenied).toBe(true);
    expect(new EtcdNamingKeyLayout('svc/', 'string').probeMayBeDenied).toBe(false);
  });
});
