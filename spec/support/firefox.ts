import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's firefox-esr (`npm run setup` installs it), or the one GSR_FIREFOX names. */
const FIREFOX = process.env.GSR_FIREFOX ?? '/usr/bin/firefox-esr';

/** WebDriver's code points for the keys the tests press. */
export const Key = { Enter: '\uE007', Escape: '\uE00C', Tab: '\uE004' } as const;

/**
 * A headless Firefox driven over Marionette, Firefox's own remote protocol (length-prefixed JSON on a
 * TCP socket). playwright-core drives only Playwright's patched Firefox (a download) or a Firefox newer
 * than Debian's ESR over WebDriver BiDi; Marionette is in every Firefox, so the tests use it directly.
 */
export interface Firefox {
  /** Loads `url` and resolves once it has loaded. */
  navigate(url: string): Promise<void>;
  /** Runs `body` (a function body that may `return`) in the page, with `args` as `arguments`. */
  evaluate<T>(body: string, ...args: unknown[]): Promise<T>;
  /** Presses `keys` one after the other, as a user would, into whatever has the focus. */
  press(...keys: string[]): Promise<void>;
  /** Quits Firefox and removes its profile. */
  close(): Promise<void>;
}

/** How {@link launchFirefox} sizes its window. */
export interface FirefoxOptions {
  /** The window's (the page's viewport's) width and height in CSS pixels; Firefox's minimum width is 500. */
  readonly width?: number;
  readonly height?: number;
  /** The default font size, as a user who enlarges text sets it (`rem` media queries follow it). */
  readonly fontSizePx?: number;
}

/**
 * Launches headless Firefox with a throwaway profile. Fails saying how to get Firefox when it is missing.
 */
export async function launchFirefox(options: FirefoxOptions = {}): Promise<Firefox> {
  const { width = 1100, height = 700, fontSizePx = 16 } = options;
  if (!existsSync(FIREFOX)) {
    throw new Error(
      `no Firefox at ${FIREFOX}: run \`npm run setup\` (it installs Debian's firefox-esr), or set GSR_FIREFOX`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'gsr-firefox-'));
  // Port 0: Marionette picks a free one and writes it to MarionetteActivePort in the profile.
  writeFileSync(
    join(profile, 'user.js'),
    [
      'user_pref("marionette.port", 0);',
      `user_pref("font.size.variable.x-western", ${fontSizePx});`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    FIREFOX,
    ['--headless', '--marionette', '--no-remote', '--profile', profile, 'about:blank'],
    {
      stdio: 'ignore',
      env: {
        ...process.env,
        MOZ_CRASHREPORTER_DISABLE: '1',
        // Headless Firefox's screen, which its first window fills.
        MOZ_HEADLESS_WIDTH: String(width),
        MOZ_HEADLESS_HEIGHT: String(height),
      },
    },
  );
  try {
    const socket = await connectMarionette(profile, child);
    const session = new MarionetteSession(socket);
    await session.ready;
    await session.send('WebDriver:NewSession', { capabilities: { alwaysMatch: {} } });
    return {
      navigate: async (url) => {
        await session.send('WebDriver:Navigate', { url });
      },
      evaluate: async <T>(body: string, ...args: unknown[]) =>
        ((await session.send('WebDriver:ExecuteScript', { script: body, args })) as { value: T })
          .value,
      press: async (...keys) => {
        const actions = keys.flatMap((value) => [
          { type: 'keyDown', value },
          { type: 'keyUp', value },
        ]);
        await session.send('WebDriver:PerformActions', {
          actions: [{ type: 'key', id: 'keyboard', actions }],
        });
      },
      close: async () => {
        await session.send('Marionette:Quit', { flags: ['eForceQuit'] }).catch(() => undefined);
        socket.destroy();
        await exited(child);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    await exited(child);
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await once(child, 'exit');
    clearTimeout(timer);
  }
}

/** Waits for Marionette's port file, then connects to it (on loopback). */
async function connectMarionette(profile: string, child: ChildProcess): Promise<Socket> {
  const portFile = join(profile, 'MarionetteActivePort');
  const deadline = Date.now() + 30_000;
  while (!existsSync(portFile) || readFileSync(portFile, 'utf8').trim() === '') {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`Firefox did not start Marionette (exit code ${child.exitCode})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const socket = connect(Number(readFileSync(portFile, 'utf8').trim()), '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Marionette's framing: `<byte length>:<JSON>`; commands `[0, id, name, params]`, answers `[1, id, error, result]`. */
class MarionetteSession {
  readonly ready: Promise<void>;
  readonly #socket: Socket;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #buffer = Buffer.alloc(0);
  #nextId = 1;
  #handshake!: () => void;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.ready = new Promise((resolve) => (this.#handshake = resolve));
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('close', () => {
      for (const { reject } of this.#pending.values()) reject(new Error('Marionette closed'));
      this.#pending.clear();
    });
  }

  send(command: string, params: object): Promise<unknown> {
    const id = this.#nextId++;
    const body = Buffer.from(JSON.stringify([0, id, command, params]));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.write(`${body.length}:`);
      this.#socket.write(body);
    });
  }

  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const colon = this.#buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.#buffer.subarray(0, colon).toString());
      if (this.#buffer.length < colon + 1 + length) return;
      const message: unknown = JSON.parse(
        this.#buffer.subarray(colon + 1, colon + 1 + length).toString(),
      );
      this.#buffer = this.#buffer.subarray(colon + 1 + length);
      if (!Array.isArray(message)) {
        this.#handshake(); // {"applicationType":"gecko","marionetteProtocol":3}
        continue;
      }
      const [, id, error, result] = message as [1, number, { message?: string } | null, unknown];
      const pending = this.#pending.get(id);
      this.#pending.delete(id);
      if (error === null) {
        pending?.resolve(result);
      } else {
        pending?.reject(new Error(`Marionette: ${error.message ?? JSON.stringify(error)}`));
      }
    }
  }
}
