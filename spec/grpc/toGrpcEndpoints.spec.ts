import { experimental } from '@grpc/grpc-js';
import { toGrpcEndpoints } from '../../lib/grpc/toGrpcEndpoints';

const listOf = (...addresses: string[]) => addresses.map((address) => ({ service: 's', address }));
const convert = (...addresses: string[]) =>
  toGrpcEndpoints(listOf(...addresses), experimental.splitHostPort);

describe('toGrpcEndpoints', () => {
  it('makes one grpc-js endpoint per host:port address, in order', () => {
    expect(convert('10.0.0.2:50051', 'api.internal:443', '[::1]:8080')).toEqual({
      endpoints: [
        { addresses: [{ host: '10.0.0.2', port: 50051 }] },
        { addresses: [{ host: 'api.internal', port: 443 }] },
        { addresses: [{ host: '::1', port: 8080 }] },
      ],
      usable: ['10.0.0.2:50051', 'api.internal:443', '[::1]:8080'],
      unusable: [],
    });
  });

  it('sets apart addresses gRPC cannot dial, and keeps the others', () => {
    // No port, port out of range or not a number, no host, an unclosed IPv6 bracket.
    const undialable = [
      'no-port',
      '10.0.0.1:0',
      '10.0.0.1:65536',
      '10.0.0.1:http',
      ':50051',
      '[::1',
    ];
    const result = convert(...undialable, '10.0.0.1:65535');
    expect(result.unusable).toEqual(undialable);
    expect(result.endpoints).toEqual([{ addresses: [{ host: '10.0.0.1', port: 65535 }] }]);
    expect(result.usable).toEqual(['10.0.0.1:65535']);
  });

  it('turns an empty list into no endpoints', () => {
    expect(convert()).toEqual({ endpoints: [], usable: [], unusable: [] });
  });
});
