/**
 * `gsr/undici`: gsr services by name from `fetch`, through an undici interceptor
 * ({@link gsrInterceptor}). Needs `undici` (7) installed.
 * @packageDocumentation
 * @module gsr/undici
 */
export { gsrInterceptor, type GsrInterceptor, type GsrInterceptorOptions } from './gsrInterceptor';
