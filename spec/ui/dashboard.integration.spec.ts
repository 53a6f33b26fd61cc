/// <reference lib="dom" />
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { dirname, join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { Browser, Page } from 'playwright-core';
import type { Registry } from '../../lib/registry/Registry';
import { ValidationError } from '../../lib/errors/ValidationError';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import {
  createDashboardHandler,
  type DashboardHandler,
  type DashboardOptions,
} from '../../lib/ui/createDashboardHandler';
import { launchChromium } from '../support/browser';
import { type Firefox, Key, launchFirefox } from '../support/firefox';
import { eventually, record } from '../support/observe';
import { requireBuild } from '../support/requireBuild';
import { repoRoot, runNode } from '../support/runNode';
import { connectTest, uniquePrefix } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

/** With GSR_SCREENSHOT=1 (`npm run docs:screenshot`), the README's picture is taken from this run. */
const SCREENSHOT =
  process.env.GSR_SCREENSHOT === '1' ? join(repoRoot, 'docs', 'dashboard.png') : '';

/** The rows of a service's live endpoints on the page (departing ones excluded). */
const liveAddresses = (page: Page, service: string): Promise<string[]> =>
  page.evaluate(
    (name) =>
      [...document.querySelectorAll('section.service')]
        .filter((section) => (section as HTMLElement).dataset.service === name)
        .flatMap((section) => [...section.querySelectorAll('li')])
        .filter((row) => row.dataset.state !== 'departed')
        .map((row) => row.dataset.address ?? ''),
    service,
  );

/** The status code of the answer to a raw HTTP request sent over a fresh socket. */
function statusOf(port: number, request: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      if (status !== undefined) {
        socket.destroy();
        resolve(Number(status));
      }
    });
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => resolve(undefined));
    socket.write(request);
  });
}

/** Three services, two of them alike by name, each with one endpoint too wide for a phone's screen. */
async function writeWideServices(raw: Etcd3, prefix: string): Promise<void> {
  for (const service of ['billing', 'billing-worker', 'search']) {
    await raw
      .put(`${prefix}services/${service}/${'x'.repeat(60)}:1`)
      .value(JSON.stringify({ note: 'y'.repeat(400) }));
  }
}

/**
 * Serves dashboards for a `describe` block: `serve(registry)` mounts one on a free loopback port and
 * returns its URL; each is closed after its test.
 */
function useDashboards(): {
  serve: (registry: Registry, options?: DashboardOptions) => Promise<string>;
  handlers: DashboardHandler[];
} {
  const servers: Server[] = [];
  const handlers: DashboardHandler[] = [];
  afterEach(() => {
    handlers.splice(0).forEach((handler) => handler.close());
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });
  const serve = async (registry: Registry, options?: DashboardOptions): Promise<string> => {
    const handler = createDashboardHandler(registry, options);
    handlers.push(handler);
    const server = createServer(handler).listen(0, '127.0.0.1');
    servers.push(server);
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  };
  return { serve, handlers };
}

describe('the dashboard, in Chromium', () => {
  const etcd = useEtcd();
  let browser: Browser;
  const { serve, handlers } = useDashboards();

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(browser.contexts().map((context) => context.close()));
  });
  afterAll(async () => {
    await browser.close();
  });

  /** Opens a page, failing the test on any error the page logs (a CSP violation among them). */
  async function open(url: string, viewport = { width: 1100, height: 700 }): Promise<Page> {
    const page = await (await browser.newContext({ viewport })).newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(url);
    Object.assign(page, { problems });
    return page;
  }
  const problemsOf = (page: Page): string[] => (page as Page & { problems: string[] }).problems;

  it('lists every service and its endpoints as etcd holds them', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const put = (service: string, address: string, metadata?: object) =>
      etcd.raw
        .put(`${prefix}services/${service}/${address}`)
        .value(metadata === undefined ? '' : JSON.stringify(metadata));
    await put('web', '10.0.0.10:8080', { zone: 'eu-west-1a', version: '2.4.1' });
    await put('web', '10.0.0.11:8080', { zone: 'eu-west-1b', version: '2.4.1' });
    await put('data-access', '10.0.1.20:10000', { zone: 'eu-west-1a', weight: 2 });
    await put('data-access', '10.0.1.21:10000', { zone: 'eu-west-1b', weight: 1 });
    await put('data-access', '10.0.1.22:10000', { zone: 'eu-west-1c', weight: 1 });
    await put('background', '10.0.2.30:9000');

    const page = await open(await serve(registry));
    await eventually(async () => (await liveAddresses(page, 'data-access')).length === 3);
    expect(await liveAddresses(page, 'web')).toEqual(['10.0.0.10:8080', '10.0.0.11:8080']);
    expect(await liveAddresses(page, 'background')).toEqual(['10.0.2.30:9000']);
    expect(
      await page.$$eval('section.service', (sections) =>
        sections.map((section) => (section as HTMLElement).dataset.service),
      ),
    ).toEqual(['background', 'data-access', 'web']);
    expect(
      await page.textContent('section[data-service="web"] li[data-address="10.0.0.10:8080"]'),
    ).toContain('{"zone":"eu-west-1a","version":"2.4.1"}');
    expect(await page.textContent('#summary')).toContain('3 services, 6 endpoints');
    expect(await page.isHidden('#banner')).toBe(true);
    expect(problemsOf(page)).toEqual([]);

    if (SCREENSHOT !== '') {
      // One arrival, as an operator would see it.
      const arrival = record(
        registry.register({
          service: 'web',
          address: '10.0.0.12:8080',
          metadata: { zone: 'eu-west-1c' },
        }),
      );
      await page.waitForSelector('li.arrived[data-address="10.0.0.12:8080"]');
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      arrival.subscription.unsubscribe();
    }
  });

  it('shows an endpoint registered or removed within a second, without reload, highlighted', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const { registry: service } = await connectTest(etcd.endpoints, {
      keyPrefix: registry.config.keyPrefix,
    });
    const first = record(service.register({ service: 'api', address: 'a:1' }));
    await eventually(() => first.values.length === 1);
    const page = await open(await serve(registry));
    await eventually(async () => (await liveAddresses(page, 'api')).length === 1);
    await page.evaluate(() => Object.assign(window, { loadedOnce: true })); // gone if it reloads

    const second = record(service.register({ service: 'api', address: 'b:2', metadata: { v: 1 } }));
    await eventually(() => second.values.length === 1);
    await page.waitForSelector('li.arrived[data-address="b:2"]', { timeout: 1000 });
    expect(await liveAddresses(page, 'api')).toEqual(['a:1', 'b:2']);

    second.subscription.unsubscribe();
    await eventually(async () => !(await etcd.raw.get(second.latest?.key ?? '').exists()));
    await page.waitForSelector('li.departed[data-address="b:2"]', { timeout: 1000 });
    expect(await liveAddresses(page, 'api')).toEqual(['a:1']);
    // The departure fades out, then the row goes.
    await page.waitForSelector('li[data-address="b:2"]', { state: 'detached', timeout: 5000 });
    expect(await page.evaluate(() => (window as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expect(problemsOf(page)).toEqual([]);
  });

  it("shows each endpoint's state: draining, failing, and maintenance with the operator's reason", async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/api/a:1`).value('');
    await etcd.raw.put(`${prefix}services/api/b:1`).value('{"gsr.state":"draining"}');
    await etcd.raw.put(`${prefix}services/api/c:1`).value('{"v":1,"gsr.state":"failing"}');
    const page = await open(await serve(registry));
    await eventually(async () => (await liveAddresses(page, 'api')).length === 3);
    const badge = (address: string) =>
      page.textContent(`li[data-address="${address}"] .state`).then((text) => text ?? '');
    expect(await badge('a:1')).toBe('');
    expect(await page.isHidden('li[data-address="a:1"] .state')).toBe(true);
    expect(await badge('b:1')).toBe('draining');
    expect(await badge('c:1')).toBe('failing');
    expect(await page.textContent('li[data-address="c:1"] .metadata')).toBe('{"v":1}');

    await registry.setMaintenance('api', 'a:1', { reason: '<b>disk</b> swap' });
    await page.waitForSelector('li[data-address="a:1"][data-endpoint-state="maintenance"]', {
      timeout: 2000,
    });
    expect(await badge('a:1')).toBe('maintenance');
    expect(await page.getAttribute('li[data-address="a:1"] .state', 'title')).toBe(
      '<b>disk</b> swap',
    );
    // Said on the page, not only on hover; as text.
    expect(await page.textContent('li[data-address="a:1"] .reason')).toBe('<b>disk</b> swap');
    expect(await page.isVisible('li[data-address="a:1"] .reason')).toBe(true);
    expect(await page.isHidden('li[data-address="b:1"] .reason')).toBe(true);
    await registry.setMaintenance('api', 'a:1', { reason: 'disk swap, then firmware' });
    await page.waitForSelector('li[data-address="a:1"][data-reason="disk swap, then firmware"]', {
      timeout: 2000,
    });
    await registry.clearMaintenance('api', 'a:1');
    await page.waitForSelector('li[data-address="a:1"][data-endpoint-state="serving"]', {
      timeout: 2000,
    });
    expect(await page.isHidden('li[data-address="a:1"] .reason')).toBe(true);
    expect(problemsOf(page)).toEqual([]);
  });

  it('shows HTML and script written into etcd as text, and runs none of it', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const service = '<i>svc<i>';
    const address = '"><b>bold<b>:80';
    const metadata = {
      html: '<img src=x onerror="window.pwned=1">',
      script: "<script>window.pwned=2</script><a href='javascript:window.pwned=3'>x</a>",
      spoof: 'abc\u202edef',
    };
    await etcd.raw.put(`${prefix}services/${service}/${address}`).value(JSON.stringify(metadata));
    const page = await open(await serve(registry));
    await eventually(async () => (await liveAddresses(page, service)).length === 1);

    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.$$('main img, main script, main b, main i, main a')).toEqual([]);
    expect(await page.$$('script')).toHaveLength(1); // the dashboard's own
    expect(await page.textContent('section.service h2')).toBe(service);
    const row = await page.textContent('li');
    expect(row).toContain(address);
    expect(row).toContain('<img src=x onerror=\\"window.pwned=1\\">');
    expect(row).toContain('<script>window.pwned=2</script>');
    // A bidirectional override would reorder what the operator reads: shown as an escape instead.
    expect(row).toContain('abc\\u{202e}def');
    expect(row).not.toContain('\u202e');
    expect(problemsOf(page)).toEqual([]);
  });

  it('shows a banner while etcd is unreachable, and clears it when etcd is back', async () => {
    const own = await EtcdCluster.start();
    try {
      const { registry } = await connectTest(own.endpoints, { requestTimeoutSeconds: 1 });
      const page = await open(await serve(registry));
      await page.waitForSelector('#summary:has-text("0 services")');
      expect(await page.isHidden('#banner')).toBe(true);
      await own.members[0]?.kill();
      await page.waitForSelector('#banner:has-text("etcd is unreachable")', { timeout: 15_000 });
      await own.members[0]?.start();
      await page.waitForSelector('#banner', { state: 'hidden', timeout: 15_000 });
    } finally {
      await own.close();
    }
  });

  it('opened while etcd is down, shows the last known lists from the snapshot and says so', async () => {
    const own = await EtcdCluster.start();
    const dir = mkdtempSync(join(tmpdir(), 'gsr-ui-snapshots-'));
    try {
      const { registry: before, prefix } = await connectTest(own.endpoints, { snapshotDir: dir });
      const registration = record(before.register({ service: 'web', address: 'a:1' }));
      const names = record(before.services$());
      const web = record(before.endpoints$('web'));
      await eventually(
        () =>
          registration.values.length === 1 &&
          names.latest?.length === 1 &&
          web.latest?.length === 1,
      );
      names.subscription.unsubscribe();
      web.subscription.unsubscribe();
      await own.members[0]?.kill(); // The registration stays in the snapshot: etcd never heard it go.
      registration.subscription.unsubscribe();
      await before.close().catch(() => undefined);
      const { registry } = await connectTest(own.endpoints, {
        keyPrefix: prefix,
        snapshotDir: dir,
        waitForEtcd: false,
      });
      const page = await open(await serve(registry));
      await page.waitForSelector('#summary:has-text("1 service, 1 endpoint")', { timeout: 15_000 });
      expect(await liveAddresses(page, 'web')).toEqual(['a:1']);
      await page.waitForSelector('#banner:has-text("from a snapshot of")', { timeout: 15_000 });
      await own.members[0]?.start();
      await page.waitForSelector('#banner', { state: 'hidden', timeout: 30_000 });
    } finally {
      await own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('releases the server’s subscriptions and etcd’s watches when the page is closed', async () => {
    const { registry } = await connectTest(etcd.endpoints, { watchGracePeriodMs: 0 });
    const { registry: service } = await connectTest(etcd.endpoints, {
      keyPrefix: registry.config.keyPrefix,
    });
    const registration = record(service.register({ service: 'api', address: 'a:1' }));
    await eventually(() => registration.values.length === 1);
    const watchers = async () =>
      (await etcd.members[0]?.metrics())?.get('etcd_debugging_mvcc_watcher_total') ?? NaN;
    const before = await watchers();
    const url = await serve(registry);
    const handler = handlers[0] as DashboardHandler;

    const pages = [await open(url), await open(url)];
    await eventually(async () => (await liveAddresses(pages[1] as Page, 'api')).length === 1);
    expect(handler.pages).toBe(2);
    // Two pages, one watch per prefix: the services root, "api" and operators' overrides (each created
    // after its first list, so etcd may count it a moment later).
    await eventually(async () => (await watchers()) === before + 3, 5000, 'three watches');
    expect(await watchers()).toBe(before + 3);

    await Promise.all(pages.map((page) => page.context().close()));
    await eventually(() => handler.pages === 0, 5000, 'pages released');
    await eventually(async () => (await watchers()) === before, 5000, 'watches released');
  });

  it('filters the services from the keyboard, and fits a narrow screen', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await writeWideServices(etcd.raw, prefix);
    const page = await open(await serve(registry), { width: 360, height: 640 });
    await eventually(async () => (await liveAddresses(page, 'search')).length === 1);

    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('filter');
    await page.keyboard.type('bill');
    const visible = () =>
      page.$$eval('section.service:not([hidden])', (sections) =>
        sections.map((section) => (section as HTMLElement).dataset.service),
      );
    expect(await visible()).toEqual(['billing', 'billing-worker']);
    await page.keyboard.press('Escape');
    expect(await visible()).toEqual(['billing', 'billing-worker', 'search']);
    // Each service folds and unfolds from the keyboard.
    await page.focus('section[data-service="search"] summary');
    await page.keyboard.press('Enter');
    expect(
      await page.$eval(
        'section[data-service="search"] details',
        (d) => (d as HTMLDetailsElement).open,
      ),
    ).toBe(false);

    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problemsOf(page)).toEqual([]);
  });
});

describe('the dashboard, in Firefox', () => {
  const etcd = useEtcd();
  const { serve } = useDashboards();
  let firefox: Firefox;

  beforeAll(async () => {
    // Firefox's window is at least 500 CSS pixels wide: with text enlarged to 20 px, as a user may set
    // it, that is under the page's 30rem breakpoint, so the narrow layout is what Firefox shows.
    firefox = await launchFirefox({ width: 500, height: 700, fontSizePx: 20 });
  });
  afterAll(async () => {
    await firefox.close();
  });

  const liveIn = (service: string): Promise<string[]> =>
    firefox.evaluate(
      `return [...document.querySelectorAll('section.service')]
        .filter((section) => section.dataset.service === arguments[0])
        .flatMap((section) => [...section.querySelectorAll('li')])
        .filter((row) => row.dataset.state !== 'departed')
        .map((row) => row.dataset.address);`,
      service,
    );

  it('lists what etcd holds and follows arrivals and departures without reload', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const { registry: service } = await connectTest(etcd.endpoints, {
      keyPrefix: registry.config.keyPrefix,
    });
    const first = record(service.register({ service: 'api', address: 'a:1', metadata: { v: 1 } }));
    await eventually(() => first.values.length === 1);
    await firefox.navigate(await serve(registry));
    await eventually(async () => (await liveIn('api')).length === 1);
    expect(await firefox.evaluate('return document.querySelector("li").textContent')).toContain(
      '{"v":1}',
    );
    await firefox.evaluate('window.loadedOnce = true; return null;'); // gone if it reloads

    const second = record(service.register({ service: 'api', address: 'b:2' }));
    await eventually(() => second.values.length === 1);
    await eventually(async () => (await liveIn('api')).length === 2, 1000, 'the arrival shown');
    second.subscription.unsubscribe();
    await eventually(async () => !(await etcd.raw.get(second.latest?.key ?? '').exists()));
    await eventually(async () => (await liveIn('api')).length === 1, 1000, 'the departure shown');
    expect(await firefox.evaluate('return window.loadedOnce')).toBe(true);
  });

  it('shows HTML and script written into etcd as text, and runs none of it', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const metadata = {
      html: '<img src=x onerror="window.pwned=1">',
      script: '<script>window.pwned=2</script>',
    };
    await etcd.raw
      .put(`${prefix}services/<i>svc<i>/"><b>bold<b>:80`)
      .value(JSON.stringify(metadata));
    await firefox.navigate(await serve(registry));
    await eventually(async () => (await liveIn('<i>svc<i>')).length === 1);
    expect(
      await firefox.evaluate(`return {
        pwned: window.pwned ?? null,
        injected: document.querySelectorAll('main img, main script, main b, main i').length,
        heading: document.querySelector('section.service h2').textContent,
        row: document.querySelector('li').textContent,
      }`),
    ).toEqual({
      pwned: null,
      injected: 0,
      heading: '<i>svc<i>',
      row: expect.stringContaining('<script>window.pwned=2</script>') as unknown,
    });
  });

  it('filters from the keyboard and fits its narrow layout', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await writeWideServices(etcd.raw, prefix);
    await firefox.navigate(await serve(registry));
    await eventually(async () => (await liveIn('search')).length === 1);
    expect(await firefox.evaluate('return matchMedia("(max-width: 30rem)").matches')).toBe(true);

    const visible = () =>
      firefox.evaluate<string[]>(
        `return [...document.querySelectorAll('section.service:not([hidden])')]
          .map((section) => section.dataset.service);`,
      );
    await firefox.press('/');
    expect(await firefox.evaluate('return document.activeElement.id')).toBe('filter');
    await firefox.press('b', 'i', 'l', 'l');
    expect(await visible()).toEqual(['billing', 'billing-worker']);
    await firefox.press(Key.Escape);
    expect(await visible()).toEqual(['billing', 'billing-worker', 'search']);
    await firefox.evaluate(
      'document.querySelector(\'section[data-service="search"] summary\').focus(); return null;',
    );
    await firefox.press(Key.Enter);
    expect(
      await firefox.evaluate(
        'return document.querySelector(\'section[data-service="search"] details\').open',
      ),
    ).toBe(false);
    expect(
      await firefox.evaluate(
        'return document.documentElement.scrollWidth - document.documentElement.clientWidth',
      ),
    ).toBeLessThanOrEqual(0);
  });
});

describe('createDashboardHandler', () => {
  const etcd = useEtcd();

  it('answers read-only requests under a strict CSP, and can be mounted under a prefix', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const dashboard = createDashboardHandler(registry);
    let passedOn = 0;
    // Mounted under /registry, the way Express does it: url relative to the mount, originalUrl whole.
    const server = createServer((request, response) => {
      const url = request.url ?? '/';
      if (!url.startsWith('/registry')) {
        response.writeHead(418).end();
        return;
      }
      Object.assign(request, { originalUrl: url, url: url.slice('/registry'.length) || '/' });
      dashboard(request, response, () => {
        passedOn += 1;
        response.writeHead(404).end();
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const redirect = await fetch(`${base}/registry`, { redirect: 'manual' });
      // A relative redirect, never one a browser could take off this origin.
      expect([redirect.status, redirect.headers.get('location')]).toEqual([301, './registry/']);
      for (const path of ['/registry/', '/registry/dashboard.js', '/registry/dashboard.css']) {
        const response = await fetch(base + path);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      }
      const head = await fetch(`${base}/registry/`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      const post = await fetch(`${base}/registry/events`, { method: 'POST' });
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
      expect((await fetch(`${base}/registry/elsewhere`)).status).toBe(404);
      expect(passedOn).toBe(1);

      dashboard.close();
      expect((await fetch(`${base}/registry/events`)).status).toBe(503);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('refuses to start without services under etcd’s naming layout, or with an invalid one', async () => {
    const { registry } = await connectTest(etcd.endpoints, { keyLayout: 'etcd-naming' });
    expect(() => createDashboardHandler(registry)).toThrow(/name the targets to show/);
    expect(() => createDashboardHandler(registry, { services: [''] })).toThrow(ValidationError);
    expect(createDashboardHandler(registry, { services: ['demo/greeter'] }).pages).toBe(0);
  });
});

describe('gsr ui', () => {
  const etcd = useEtcd();
  const bin = join(repoRoot, 'dist', 'cli', 'main.js');
  let browser: Browser | undefined;

  beforeAll(() => {
    requireBuild();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('serves the dashboard on loopback, prints its URL, and stops on SIGINT', async () => {
    const prefix = uniquePrefix();
    await etcd.raw.put(`${prefix}services/web/a:1`).value('');
    let url = '';
    const page: Promise<string> = new Promise((resolve, reject) => {
      const run = runNode([bin, 'ui', '--port', '0'], {
        env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_PREFIX: prefix },
        onStdout: (text, child) => {
          const found = /gsr ui: serving the dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
          if (found?.[1] !== undefined && url === '') {
            url = found[1];
            void (async () => {
              browser = await launchChromium();
              const tab = await browser.newPage();
              await tab.goto(url);
              await tab.waitForSelector('li[data-address="a:1"]');
              child.kill('SIGINT');
            })().catch(reject);
          }
        },
      });
      run.then((result) => resolve(result.stdout + result.stderr + String(result.code)), reject);
    });
    const output = await page;
    expect(output).toContain('SIGINT: stopping');
    expect(output.endsWith('0')).toBe(true);
  });

  it.each([
    [['--port', 'http'], '--port "http": expected a port number from 0 to 65535'],
    [['--port', '70000'], '--port "70000": expected a port number from 0 to 65535'],
    [
      ['--host', '192.0.2.1'],
      'Cannot listen on 192.0.2.1:7700: the address is not one of this machine (EADDRNOTAVAIL)',
    ],
    [['--service', 'a/b'], 'Invalid --service "a/b"'],
  ])('exits 2 naming the option for %j', async (args, message) => {
    const run = await runNode([bin, 'ui', ...args], {
      env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(',') },
    });
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(2);
  });

  it('exits 2 naming the port when it is taken', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const port = String((taken.address() as AddressInfo).port);
      const run = await runNode([bin, 'ui', '--port', port], {
        env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(',') },
      });
      expect(run.stderr).toContain(
        `Cannot listen on 127.0.0.1:${port}: the port is taken (--port names another)`,
      );
      expect(run.stderr).not.toContain('Invalid');
      expect(run.code).toBe(2);
    } finally {
      taken.close();
    }
  });

  it.each(['', ' '])(
    'refuses an empty --host (%j: an unset variable), which would listen on every interface',
    async (host) => {
      const run = await runNode([bin, 'ui', '--port', '0', '--host', host], {
        env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(',') },
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('Invalid --host');
      expect(run.stderr).toContain('every interface');
    },
  );

  it('answers 400 to a target no URL is (it used to exit 1), and keeps serving', async () => {
    const prefix = uniquePrefix();
    const answers: (number | undefined)[] = [];
    const run = await runNode([bin, 'ui', '--port', '0'], {
      env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_PREFIX: prefix },
      onStdout: (text, child) => {
        const port = Number(
          /serving the dashboard at http:\/\/127\.0\.0\.1:(\d+)\//.exec(text)?.[1],
        );
        if (Number.isInteger(port) && answers.length === 0) {
          answers.push(0);
          const css = 'GET /dashboard.css HTTP/1.1\r\nHost: localhost\r\n\r\n';
          void (async () => {
            // Until it has connected to etcd, it answers 503.
            await eventually(async () => (await statusOf(port, css)) === 200, 10_000, 'connected');
            answers.push(
              await statusOf(port, 'GET http://x:99999/ HTTP/1.1\r\nHost: localhost\r\n\r\n'),
            );
            answers.push(await statusOf(port, css));
            child.kill('SIGINT');
          })();
        }
      },
    });
    expect(answers).toEqual([0, 400, 200]);
    expect(run.code).toBe(0);
  });

  it('asks for --service under etcd’s naming layout, which has no list of services', async () => {
    const run = await runNode([bin, 'ui', '--port', '0'], {
      env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_LAYOUT: 'etcd-naming' },
    });
    expect(run.stderr).toContain('--service');
    expect(run.stderr).toContain('name the targets to show');
    expect(run.code).toBe(2);
  });
});
