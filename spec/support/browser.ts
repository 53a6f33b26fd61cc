import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium (`npm run setup` installs it), or the one GSR_CHROMIUM names. */
const CHROMIUM = process.env.GSR_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches the system's Chromium, headless, through playwright-core (which downloads no browser). Fails
 * saying how to get one when it is missing.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: run \`npm run setup\` (it installs Debian's chromium), or set GSR_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container: no sandbox; nothing to gain from the GPU or background networking.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}
