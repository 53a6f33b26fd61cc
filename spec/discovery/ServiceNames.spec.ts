import type { KeyChange } from '../../lib/discovery/PrefixUpdate';
import { ServiceNames } from '../../lib/discovery/ServiceNames';
import { GsrKeyLayout } from '../../lib/keys/GsrKeyLayout';
import { OnceLog } from '../../lib/logging/OnceLog';
import { deleteOf, putOf } from '../support/keyValues';
import { testLogger } from '../support/testLogger';

const layout = new GsrKeyLayout('gsr/');
const put = (service: string, address: string): KeyChange =>
  putOf(layout.endpointKey({ service, address }));
const del = (service: string, address: string): KeyChange =>
  deleteOf(layout.endpointKey({ service, address }));

describe('ServiceNames', () => {
  const names = () => new ServiceNames(layout, new OnceLog(testLogger().logger));

  it('lists each service with an endpoint once, sorted', () => {
    const services = names();
    expect(services.reset([put('web', 'a'), put('data', 'b'), put('web', 'c')])).toBe(true);
    expect(services.snapshot()).toEqual(['data', 'web']);
  });

  it('changes only when a service appears or loses its last endpoint', () => {
    const services = names();
    expect(services.apply([put('web', 'a')])).toBe(true);
    expect(services.apply([put('web', 'b')])).toBe(false);
    expect(services.apply([del('web', 'a')])).toBe(false);
    expect(services.apply([del('web', 'b')])).toBe(true);
    expect(services.snapshot()).toEqual([]);
  });

  it('ignores malformed keys and unknown deletions', () => {
    const services = names();
    expect(services.apply([putOf('gsr/services/web')])).toBe(false);
    expect(services.apply([del('web', 'a')])).toBe(false);
  });

  it('keeps its array when a snapshot brings the same names', () => {
    const services = names();
    services.reset([put('web', 'a')]);
    const before = services.snapshot();
    expect(services.reset([put('web', 'b')])).toBe(false);
    expect(services.snapshot()).toBe(before);
    expect(Object.isFrozen(before)).toBe(true);
  });
});
