import { parseUri } from '@grpc/grpc-js/build/src/uri-parser';
import { ValidationError } from '../../lib/errors/ValidationError';
import { serviceOfTarget } from '../../lib/grpc/serviceOfTarget';
import { EtcdNamingKeyLayout } from '../../lib/keys/EtcdNamingKeyLayout';
import { GsrKeyLayout } from '../../lib/keys/GsrKeyLayout';
import type { KeyLayout } from '../../lib/keys/KeyLayout';

// grpc-js's own parser, as the channel uses it (internal to grpc-js, hence the deep import).
function serviceOf(text: string, layout: KeyLayout = new GsrKeyLayout('gsr/')): string {
  const target = parseUri(text);
  if (target === null) {
    throw new Error(`grpc-js cannot parse ${text}`);
  }
  return serviceOfTarget(target, text, (service) => layout.validateService(service));
}

describe('serviceOfTarget', () => {
  it('reads the service of gsr:///<service> and gsr:<service>', () => {
    expect(serviceOf('gsr:///data-access')).toBe('data-access');
    expect(serviceOf('gsr:data-access')).toBe('data-access');
  });

  it('refuses an authority, naming the target', () => {
    expect(() => serviceOf('gsr://etcd.example/api')).toThrow(
      new ValidationError(
        'gRPC target',
        'gsr://etcd.example/api',
        'expected no authority, as in gsr:///<service>',
      ),
    );
  });

  it('refuses a service name gsr could not register, naming the target and the reason', () => {
    expect(() => serviceOf('gsr:///a/b')).toThrow(
      'Invalid gRPC target "gsr:///a/b": service name "a/b": must not contain "/"',
    );
    expect(() => serviceOf('gsr:///..')).toThrow(ValidationError);
    expect(() => serviceOf('gsr:///a b')).toThrow(ValidationError);
  });

  it("reads a target of etcd's naming layout, which may hold /", () => {
    const naming = new EtcdNamingKeyLayout('', 'string');
    expect(serviceOf('gsr:///prod/greeter', naming)).toBe('prod/greeter');
    expect(() => serviceOf('gsr:///prod//greeter', naming)).toThrow('must not contain "//"');
  });
});
