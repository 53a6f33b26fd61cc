import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { register as registerXdsScheme } from '@grpc/grpc-js-xds';
import { Etcd3 } from 'etcd3';
import { filter, firstValueFrom } from 'rxjs';
import { createHttpSdHandler } from '../../lib/http-sd';
import { freePorts } from '../../lib/testing/freePorts';
import { createXdsServer } from '../../lib/xds';
import { connectBench } from '../connectBench';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';
import { since } from '../stats';
import { benchAddress, writeService } from '../writeService';

const SD_PREFIX = 'bench-http-sd/';
const SD_SERVICES = `${SD_PREFIX}services/`;

/** Serves `handler` on a free loopback port; resolves with its URL and a way to stop it. */
async function serve(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/**
 * What a hand-written HTTP service discovery on etcd3 does per scrape, without a watch to tell it what
 * changed: one range get of every service, each endpoint a target group labelled with its service and
 * metadata.
 */
function rawHttpSd(client: Etcd3): RequestListener {
  return (_request, response) => {
    void client
      .getAll()
      .prefix(SD_SERVICES)
      .strings()
      .then((kvs) => {
        const groups = Object.entries(kvs).map(([key, value]) => {
          const [service = '', address = ''] = key.slice(SD_SERVICES.length).split('/');
          const labels: Record<string, string> = { __meta_gsr_service: service };
          if (value !== '') {
            for (const [name, field] of Object.entries(JSON.parse(value) as object)) {
              labels[`__meta_gsr_metadata_${name.replace(/[^A-Za-z0-9_]/g, '_')}`] = String(field);
            }
          }
          return { targets: [address], labels };
        });
        const body = JSON.stringify(groups);
        response.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      });
  };
}

/** GETs `url` and reads the whole body, returning the milliseconds it took and the body's size. */
async function scrape(url: string): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  const response = await fetch(url);
  const bytes = (await response.arrayBuffer()).byteLength;
  return { ms: since(start), bytes };
}

/**
 * A scrape of 10,000 targets (ten services of 1,000, a third with a zone), as Prometheus' refresh
 * makes it. gsr: `createHttpSdHandler` on the registry's live lists. raw: a range get and the JSON made
 * per scrape. Each side's first scrape (gsr's first lists) is not counted; `changed` is a scrape right
 * after one endpoint changed (gsr makes that service's JSON again).
 */
export const httpSd: Scenario = {
  name: 'http-sd',
  title: "Prometheus' HTTP service discovery: a scrape of 10,000 targets",
  metrics: [
    { key: 'steady', label: 'p50', unit: 'ms', reduce: 'p50' },
    { key: 'steady', label: 'p99', unit: 'ms', reduce: 'p99', maxValue: 50 },
    { key: 'changed', label: 'p99 right after a change', unit: 'ms', reduce: 'p99', maxValue: 50 },
  ],
  prepare: async (context) => {
    const perService = Math.max(1, Math.floor(context.sizes.largeService / 10));
    await context.writer.delete().prefix(SD_PREFIX);
    for (let s = 0; s < 10; s += 1) {
      await writeServiceKeys(context, `svc-${s}`, perService);
    }
  },
  run: async (context: BenchContext, side: Side): Promise<Measurement> => {
    // A raw scrape of 10,000 targets takes ~100 ms: a third of the latency samples keeps the run short.
    const samples = Math.max(10, Math.floor(context.sizes.latencySamples / 3));
    const changes = Math.max(3, Math.floor(samples / 5));
    const registry = side === 'gsr' ? await connectBench(context, SD_PREFIX) : undefined;
    const client = side === 'raw' ? new Etcd3({ hosts: context.etcd.endpoints }) : undefined;
    const handler =
      registry !== undefined ? createHttpSdHandler(registry) : rawHttpSd(client as Etcd3);
    const { url, server } = await serve(handler);
    try {
      const first = await scrape(url);
      if (first.bytes < 1000) {
        throw new Error(`the ${side} http-sd answered ${first.bytes} bytes`);
      }
      const steady: number[] = [];
      for (let i = 0; i < samples; i += 1) {
        steady.push((await scrape(url)).ms);
      }
      const changed: number[] = [];
      for (let i = 0; i < changes; i += 1) {
        const key = `${SD_SERVICES}svc-0/${benchAddress(i)}`;
        const value = `{"zone":"changed-${i}"}`;
        await context.writer.put(key).value(value);
        if (registry !== undefined) {
          // Scraped once the registry has the change, as a scrape after it would find it.
          await firstValueFrom(
            registry
              .endpoints$('svc-0')
              .pipe(filter((list) => list.some((e) => e.metadata?.zone === `changed-${i}`))),
          );
        }
        changed.push((await scrape(url)).ms);
      }
      return { steady, changed };
    } finally {
      server.closeAllConnections();
      server.close();
      (handler as { close?: () => void }).close?.();
      await registry?.close();
      client?.close();
    }
  },
};

async function writeServiceKeys(context: BenchContext, service: string, count: number) {
  const servicePrefix = `${SD_SERVICES}${service}/`;
  // writeService clears the prefix it is given: one of its own per service.
  await writeService(context.writer, servicePrefix, servicePrefix, count, (i) =>
    i % 3 === 0 ? `{"zone":"z${i % 7}"}` : '',
  );
}

// --- xDS propagation -------------------------------------------------------------------------------

const WHO = '/bench.Who/Am';
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const parsed = (buffer: Buffer): string => JSON.parse(buffer.toString()) as string;

async function startServer(name: string): Promise<{ address: string; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(
    {
      Am: {
        path: WHO,
        requestStream: false,
        responseStream: false,
        requestSerialize: json,
        requestDeserialize: parsed,
        responseSerialize: json,
        responseDeserialize: parsed,
      },
    },
    { Am: (_call: unknown, callback: grpc.sendUnaryData<string>) => callback(null, name) },
  );
  const port = await promisify(server.bindAsync.bind(server))(
    '127.0.0.1:0',
    grpc.ServerCredentials.createInsecure(),
  );
  return { address: `127.0.0.1:${port}`, server };
}

/** The port every run's xDS server takes: grpc-js-xds reads its bootstrap once per process. */
let xdsPort: number | undefined;

/**
 * From a registration written to etcd by another process until a proxyless gRPC client
 * (`@grpc/grpc-js-xds`, dialing `xds:///<service>` through `createXdsServer`) calls the new endpoint;
 * and from its deletion until the client stops calling it. raw: the same writes until a raw etcd3 watch
 * of the prefix sees them, the floor of anything built on etcd. The client calls back to back, so the
 * figure is the first call after the change reached it.
 */
export const xdsPropagation: Scenario = {
  name: 'xds-propagation',
  title: 'xDS propagation: a registration in etcd until a proxyless gRPC client calls it',
  metrics: [
    { key: 'arrival', label: 'arrival p50', unit: 'ms', reduce: 'p50' },
    { key: 'arrival', label: 'arrival p99', unit: 'ms', reduce: 'p99', maxValue: 1000 },
    { key: 'departure', label: 'departure p99', unit: 'ms', reduce: 'p99', maxValue: 1000 },
  ],
  repetitions: (sizes) => Math.min(sizes.repetitions, 3),
  run: async (context: BenchContext, side: Side, repetition: number): Promise<Measurement> => {
    const samples = Math.max(3, Math.floor(context.sizes.latencySamples / 10));
    const service = `xds-${side}-${repetition + 1}`;
    const prefix = `bench-xds/`;
    const key = (address: string) => `${prefix}services/${service}/${address}`;
    const [stay, come] = await Promise.all([startServer('stay'), startServer('come')]);
    await context.writer.put(key(stay.address)).value('');
    const arrival: number[] = [];
    const departure: number[] = [];
    try {
      if (side === 'raw') {
        const client = new Etcd3({ hosts: context.etcd.endpoints });
        const watcher = await client.watch().prefix(`${prefix}services/${service}/`).create();
        try {
          for (let i = 0; i < samples; i += 1) {
            const put = once(watcher, 'put');
            let start = performance.now();
            await context.writer.put(key(come.address)).value('');
            await put;
            arrival.push(since(start));
            const deleted = once(watcher, 'delete');
            start = performance.now();
            await context.writer.delete().key(key(come.address));
            await deleted;
            departure.push(since(start));
          }
        } finally {
          await watcher.cancel();
          client.close();
        }
        return { arrival, departure };
      }
      const registry = await connectBench(context, prefix);
      xdsPort ??= (await freePorts(1))[0];
      const xds = await createXdsServer(registry, { port: xdsPort });
      process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
        xds_servers: [
          {
            server_uri: `127.0.0.1:${xds.port}`,
            channel_creds: [{ type: 'insecure' }],
            server_features: ['xds_v3'],
          },
        ],
        node: { id: 'gsr-bench', locality: {} },
      });
      registerXdsScheme();
      const client = new grpc.Client(`xds:///${service}`, grpc.credentials.createInsecure());
      let last = '';
      /** When a call last came back from each server. */
      const answeredAt = new Map<string, number>();
      const calling = { on: true };
      const calls = (async () => {
        while (calling.on) {
          last = await new Promise<string>((resolve) =>
            client.makeUnaryRequest(
              WHO,
              json,
              parsed,
              'who?',
              new grpc.Metadata({ waitForReady: true }),
              { deadline: Date.now() + 5000 },
              (error, name) => resolve(error === null && name !== undefined ? name : 'error'),
            ),
          );
          answeredAt.set(last, performance.now());
        }
      })();
      const until = async (name: string, timeoutMs: number, times = 1): Promise<void> => {
        const deadline = Date.now() + timeoutMs;
        let seen = 0;
        while (seen < times) {
          if (Date.now() > deadline) {
            throw new Error(
              `xDS bench: no call answered by ${name} within ${timeoutMs}ms (last: ${last})`,
            );
          }
          await new Promise((resolve) => setImmediate(resolve));
          seen = last === name ? seen + 1 : 0;
        }
      };
      try {
        await until('stay', 20_000);
        for (let i = 0; i < samples; i += 1) {
          let start = performance.now();
          await context.writer.put(key(come.address)).value('');
          await until('come', 10_000);
          arrival.push(since(start));
          start = performance.now();
          await context.writer.delete().key(key(come.address));
          await until('stay', 10_000, 50); // 50 answers in a row from the other: it left
          // Until the last call it answered (the first after it, at most a call's time later).
          departure.push(Math.max(0, (answeredAt.get('come') ?? start) - start));
        }
      } finally {
        calling.on = false;
        await calls;
        client.close();
        await xds.close();
        await registry.close();
      }
      return { arrival, departure };
    } finally {
      stay.server.forceShutdown();
      come.server.forceShutdown();
      await context.writer.delete().prefix(prefix);
    }
  },
};
