import type { Endpoint } from '../endpoint/Endpoint';
import type { Picker, Strategy } from './Strategy';

/**
 * A picker for `strategy`, with state of its own (round-robin's turn), so that every subscription or
 * balancer takes its own turns. It checks that a user's picker chose from the list it was given.
 * @internal
 */
export function createPicker<T>(strategy: Strategy<T> = 'round-robin'): Picker<T> {
  if (strategy === 'round-robin') {
    let turn = 0;
    return (endpoints) => endpoints[turn++ % endpoints.length] as Endpoint;
  }
  if (strategy === 'random') {
    return (endpoints) => endpoints[Math.floor(Math.random() * endpoints.length)] as Endpoint;
  }
  if (typeof strategy !== 'function') {
    throw new TypeError(
      `Expected strategy to be 'round-robin', 'random' or a function, got ${JSON.stringify(strategy)}`,
    );
  }
  return (endpoints, value) => {
    const chosen = strategy(endpoints, value);
    if (!endpoints.includes(chosen)) {
      throw new TypeError('The strategy function returned an endpoint that is not in the list');
    }
    return chosen;
  };
}
