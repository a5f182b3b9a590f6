// Debian's Chromium, headless, driven by npm playwright-core (never a browser Playwright
// downloads). The flags keep Chromium off the network this machine does not have.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.resolve(here, '../../tools/package.json'));
const { chromium } = require('playwright-core');

export const CHROMIUM = process.env.ISVC_CHROMIUM || '/usr/bin/chromium';

export async function launchBrowser() {
  const profile = mkdtempSync(path.join(tmpdir(), 'isvc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    // Over TLS (run-tls.mjs) the service's certificate comes from a throwaway CA that Chromium's
    // own trust store does not hold; the TLS listener itself is verified by tls.test.mjs.
    ignoreHTTPSErrors: Boolean(process.env.ISVC_TLS_CERT),
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
