import fc from 'fast-check';
import { encodeOrcaReport, MAX_REPORT_BYTES, readOrcaReport } from '../../lib/orca/orcaCodec';

describe('load reports (ORCA)', () => {
  it('reads what it encodes, as base64 or bytes', () => {
    const report = {
      cpuUtilization: 0.5,
      memUtilization: 0.25,
      applicationUtilization: 0.75,
      qps: 120.5,
      eps: 2,
      namedMetrics: { queue: 7 },
    };
    const bytes = encodeOrcaReport(report);
    expect(readOrcaReport(bytes)).toEqual(report);
    expect(readOrcaReport(Buffer.from(bytes).toString('base64'))).toEqual(report);
  });

  it('leaves out figures that are not finite and >= 0, clamps huge ones, and bounds names', () => {
    const warned: string[] = [];
    const read = readOrcaReport(
      encodeOrcaReport({
        cpuUtilization: Number.NaN,
        memUtilization: 7,
        applicationUtilization: -1,
        qps: 1e300,
        eps: Number.POSITIVE_INFINITY,
        namedMetrics: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`m${i}\u001b`, i])),
      }),
      (line) => warned.push(line),
    );
    expect(read).toMatchObject({ memUtilization: 1, qps: 1e9 });
    expect(read).not.toHaveProperty('cpuUtilization');
    expect(read).not.toHaveProperty('applicationUtilization');
    expect(read).not.toHaveProperty('eps');
    expect(Object.keys(read?.namedMetrics ?? {})).toHaveLength(32);
    expect(Object.keys(read?.namedMetrics ?? {}).join('')).not.toContain('\u001b');
    expect(warned).toEqual([]);
  });

  it('reads no report, with one line, from too many bytes or bytes that are not the proto', () => {
    const warned: string[] = [];
    expect(readOrcaReport(new Uint8Array(MAX_REPORT_BYTES + 100), (l) => warned.push(l))).toBe(
      undefined,
    );
    expect(readOrcaReport(Uint8Array.of(0x0a, 0xff, 0xff), (l) => warned.push(l))).toBe(undefined);
    expect(warned).toEqual([
      expect.stringContaining(`more than ${MAX_REPORT_BYTES} bytes`),
      expect.stringContaining('not an OrcaLoadReport'),
    ]);
  });

  it('never throws on any bytes or text, and reads only finite figures >= 0 (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 300 })),
        (value) => {
          const report = readOrcaReport(value);
          for (const figure of [
            report?.cpuUtilization,
            report?.memUtilization,
            report?.applicationUtilization,
            report?.qps,
            report?.eps,
            ...Object.values(report?.namedMetrics ?? {}),
          ]) {
            if (figure !== undefined) {
              expect(Number.isFinite(figure) && figure >= 0 && figure <= 1e9).toBe(true);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
