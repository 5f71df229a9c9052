/**
 * The operator page of `enose serve --early` (both shipped models: the exposure model at its checkpoint, the
 * default model at the end) in headless Chromium, on the rig emulator over a socat pty pair: during the cycle the
 * page counts down to the next checkpoint, and the verdict, decided early, says when (card and list); the rig is
 * told to end the cycle. The container is one the early plan decides at 90 s in-process (the first such of a few
 * simulator seeds), played by the emulator. Screenshot: tests/artifacts/operator-page-early.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerdictEvent } from '../../src/types.js';
import { haveSocat, startEmulator, startPty, type EmulatorProcess, type TestPty } from '../helpers/pty.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { earlySeed } from '../helpers/earlySeed.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe, type ServeProcess } from '../service/serveProcess.js';

const CHROMIUM = '/usr/bin/chromium';
const ready = existsSync(CHROMIUM) && haveSocat();
if (!ready) console.warn(`SKIPPED: the early page test needs ${CHROMIUM} and socat (apt-get install chromium socat)`);
const TOKEN = 'page-early-token-42';
const ARTIFACTS = join(REPO_ROOT, 'tests', 'artifacts');

let browser: Browser | null = null;
let serve: ServeProcess | null = null;
let pty: TestPty | null = null;
let rig: EmulatorProcess | null = null;

beforeAll(async () => {
  if (!ready) return;
  ensureServiceBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await rig?.stop();
  await pty?.close();
});


describe.skipIf(!ready)('the operator page with an early plan', () => {
  it('counts down to the next checkpoint, and the early verdict says when it was decided', async () => {
    expect(SHIPPED_MODELS.map((m) => m.name)).toEqual(['default', 'exposure']);
    const { seed, verdict: expected } = await earlySeed();
    pty = await startPty();
    rig = startEmulator(['--link', pty.rig, '--sim-seed', String(seed), '--sim-start-day', '21', '--containers', '1', '--speed', '20']);
    serve = await startServe(['--port', pty.host, '--model', SHIPPED_MODELS[0]!.path, '--early', '--token', TOKEN]);
    const page = await browser!.newPage({ viewport: { width: 1400, height: 940 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const station = serve;
    for (let i = 0; i < 600 && (await fetch(`${station.url}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).status !== 200; i++) await page.waitForTimeout(100);
    await page.goto(`${serve.url}/login?token=${TOKEN}`);
    await page.waitForSelector('#now[data-state="idle"]', { timeout: 60_000 });
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const posted = await postSample(serve.url, { containerId: 'MSCU1234567' }, bearer);
    expect(posted.status).toBe(202);
    const id = posted.json['id'] as string;

    // During the baseline or exposure: the next checkpoint (the exposure's end), at most 90 s away.
    type During = { text: string; eta: number };
    let seen: During | null = null;
    for (let i = 0; i < 3000 && seen === null; i++) {
      seen = (await page.evaluate(`(() => { const n = document.getElementById('now');
        return n.dataset.state === 'running' && n.dataset.etaS !== '' && /next checkpoint in/.test(n.textContent) ? { text: n.textContent, eta: Number(n.dataset.etaS) } : null; })()`)) as During | null;
      if (seen === null) await page.waitForTimeout(10);
    }
    const during = seen as During | null;
    if (during === null) throw new Error('the page never showed the time to the next checkpoint');
    expect(during.text).toMatch(/next checkpoint in \d+ s/);
    expect(during.text).toContain('when the exposure ends');
    expect(during.eta).toBeGreaterThan(0);
    expect(during.eta).toBeLessThanOrEqual(90);

    const done = await awaitSample(serve.url, id, bearer);
    const verdict = done['verdict'] as VerdictEvent;
    expect([verdict.early, verdict.decidedAtS, verdict.checkpoint, verdict.verdict]).toEqual([true, 90, 'exposure-end', expected.verdict]);
    await page.waitForSelector(`#latest-verdict[data-sample="${id}"]`, { timeout: 60_000 });
    expect(await page.locator('#latest-verdict').textContent()).toContain('90.0 s, exposure end, early');
    expect(await page.locator('#history tbody tr').first().locator('td.decided').textContent()).toBe('90.0 s, exposure end, early');
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, 'operator-page-early.png') });
    // The rig was told to end the cycle, and took it.
    for (let i = 0; i < 600 && !/ended on the rig/.test(serve.stdout()); i++) await page.waitForTimeout(50);
    expect(serve.stdout()).toMatch(new RegExp(`cycle ${id} ended on the rig \\(${expected.verdict}; last frame \\d+ in R\\)`));
    expect(errors).toEqual([]);
    await page.close();
  });
});
