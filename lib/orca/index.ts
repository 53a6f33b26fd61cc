/**
 * `gsr/orca`: backend load reports (gRPC's ORCA, gRFC A51) for servers to send and clients to read:
 * an {@link OrcaRecorder} that samples the process and puts its report on HTTP responses as
 * `endpoint-load-metrics-bin`, and the codec for that header (a gRPC server sends the same bytes as a
 * trailer). gsr's `Balancer` with `strategy: 'weighted-round-robin'` weighs endpoints by them.
 * @packageDocumentation
 * @module gsr/orca
 */
export { OrcaRecorder, type OrcaRecorderOptions } from './OrcaRecorder';
export { encodeOrcaReport, ORCA_HEADER, readOrcaReport } from './orcaCodec';
export type { OrcaReport } from './OrcaReport';
