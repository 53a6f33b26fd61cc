/**
 * gsr: service registration and discovery on etcd, as RxJS streams.
 * @packageDocumentation
 * @module gsr
 */

// Registry
export { Registry, type ConnectOptions } from './registry/Registry';
export type { Override } from './endpoint/Override';
export type { Health } from './etcd/Health';
export type { Freshness } from './discovery/Freshness';
export type { DrainOptions } from './registry/DrainOptions';

// Endpoints and registrations
export type { Endpoint, Metadata } from './endpoint/Endpoint';
export type { Registration } from './registration/Registration';
export type { RegisterOptions } from './registration/RegisterOptions';
export { endpointState, type EndpointState } from './endpoint/EndpointState';
export type { Maintenance } from './endpoint/Maintenance';
export type { EndpointChanges } from './discovery/EndpointChanges';
export { changes } from './discovery/changes';

// Load balancing
export { Balancer, isBalancer, type BalancerLocalityView } from './balancing/Balancer';
export type {
  BalancerLocality,
  BalancerOptions,
  CallOptions,
  OutlierOptions,
  Outcome,
} from './balancing/BalancerOptions';
export type { RetryBudgetOptions } from './balancing/RetryBudget';
export type { WeightedRoundRobinOptions } from './balancing/LoadWeight';
export type { OrcaReport } from './orca/OrcaReport';
export type { CallerLocality, Locality } from './locality/Locality';
export type { LocalityPolicy } from './locality/LocalityPolicy';
export type { ZoneRouting } from './locality/zoneRouting';
export { priorityLoad, type LevelHealth, type PriorityLoad } from './locality/priorityLoad';
export type { SlowStartOptions } from './balancing/SlowStart';
export type { SubsetOptions } from './balancing/SubsetOptions';
export { callEndpoint, type CallEndpointOptions } from './balancing/callEndpoint';
export {
  withEndpoint,
  type WithEndpoint,
  type WithEndpointOptions,
} from './balancing/withEndpoint';
export type { EndpointStats } from './balancing/EndpointStats';
export type { Picker, Strategy } from './balancing/Strategy';
export { isRetryableError } from './balancing/isRetryableError';
export { attemptsOf, type Attempt } from './balancing/attemptsOf';

// Configuration
export { loadConfig } from './config/loadConfig';
export type { Environment, GsrConfig, GsrOptions } from './config/GsrConfig';

// Logging
export { createLogger, type LogSettings } from './logging/createLogger';

// Errors
export { AuthenticationError, isAuthenticationError } from './errors/AuthenticationError';
export { ConfigError, isConfigError, type ConfigProblem } from './errors/ConfigError';
export { ConnectError, isConnectError } from './errors/ConnectError';
export { EtcdRefusedError, isEtcdRefusedError } from './errors/EtcdRefusedError';
export { EtcdUnavailableError, isEtcdUnavailableError } from './errors/EtcdUnavailableError';
export { NoEndpointError, isNoEndpointError } from './errors/NoEndpointError';
export { PermissionDeniedError, isPermissionDeniedError } from './errors/PermissionDeniedError';
export { PreconditionError, isPreconditionError } from './errors/PreconditionError';
export { RegistryClosedError, isRegistryClosedError } from './errors/RegistryClosedError';
export { StrategyError, isStrategyError } from './errors/StrategyError';
export { TlsError, isTlsError } from './errors/TlsError';
export { ValidationError, isValidationError } from './errors/ValidationError';
