/**
 * The operator page and the evaluation report in headless Chromium (Debian's `chromium`, driven by
 * playwright-core): the page signs in with the token, shows the traces of a cycle and its verdict as the
 * events stream in; the report renders its charts. Screenshots go to tests/artifacts/ (git-ignored); with
 * ENOSE_SCREENSHOTS=1 they also replace the README's pictures in tests/screenshots/.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnose } from '../helpers/cli.js';
import { haveSocat, startEmulator, startPty, type EmulatorProcess, type TestPty } from '../helpers/pty.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe, type ServeProcess } from '../service/serveProcess.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`SKIPPED: ${CHROMIUM} not found (Debian: apt-get install chromium; .ci/run installs it): the browser tests need it`);

const MODEL = 'datasets/container-sim/exposure-model.json.gz';
const TOKEN = 'page-test-token-42';
const ARTIFACTS = join(REPO_ROOT, 'tests', 'artifacts');
const SCREENSHOTS = join(REPO_ROOT, 'tests', 'screenshots');
const dir = mkdtempSync(join(tmpdir(), 'enose-browser-'));
let browser: Browser | null = null;
let serve: ServeProcess | null = null;
let pty: TestPty | null = null;
let rig: EmulatorProcess | null = null;
const haveLink = haveSocat();

/** Screenshots always go under tests/artifacts; `publish` copies one to tests/screenshots when asked to. */
const keep = (name: string): string => join(ARTIFACTS, name);
function publish(name: string): void {
  if (process.env['ENOSE_SCREENSHOTS'] !== '1') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  copyFileSync(join(ARTIFACTS, name), join(SCREENSHOTS, name));
}

beforeAll(async () => {
  if (!haveChromium) return;
  ensureServiceBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await rig?.stop();
  await pty?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveChromium)('the operator page in headless Chromium', () => {
  it.skipIf(!haveLink)('signs in with the token, shows the traces and the verdict of a cycle streamed from the rig emulator', async () => {
    // The rig emulator on one end of a socat pty pair answers START with a simulated cycle, 40 times faster.
    pty = await startPty();
    rig = startEmulator(['--link', pty.rig, '--sim-seed', '7', '--sim-start-day', '22', '--containers', '3', '--speed', '40']);
    serve = await startServe(['--port', pty.host, '--model', MODEL, '--token', TOKEN]);
    const page = await browser!.newPage({ viewport: { width: 1400, height: 940 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

    const denied = await page.goto(serve.url);
    expect(denied!.status()).toBe(401);
    expect(await page.locator('form[action="/login"]').count()).toBe(1);
    // The browser logs the 401 of that page load itself; nothing else may go wrong from here on.
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    errors.length = 0;
    await page.goto(`${serve.url}/login?token=${TOKEN}`);
    expect(new URL(page.url()).pathname).toBe('/');
    await page.waitForSelector('#link.ok', { timeout: 10_000 });
    await page.waitForSelector('#traces[data-channels="16"]', { timeout: 10_000 });
    await page.waitForSelector('#class-legend span', { timeout: 10_000 });

    const bearer = { authorization: `Bearer ${TOKEN}` };
    const first = await postSample(serve.url, { containerId: 'MSCU1234567' }, bearer);
    expect(first.status).toBe(202);
    const firstDone = await awaitSample(serve.url, first.json['id'] as string, bearer);
    // Let the recovery phase run a little, then start the next container: the page shows its cycle live.
    await page.waitForSelector(`#latest-verdict[data-sample="${first.json['id'] as string}"]`, { timeout: 20_000 });
    let second = await postSample(serve.url, { containerId: 'TGHU7654321' }, bearer);
    for (let k = 0; second.status === 409 && k < 200; k++) {
      await new Promise((r) => setTimeout(r, 50));
      second = await postSample(serve.url, { containerId: 'TGHU7654321' }, bearer);
    }
    expect(second.status).toBe(202);
    const secondId = second.json['id'] as string;
    const done = await awaitSample(serve.url, secondId, bearer);
    const verdict = done['verdict'] as { verdict: string; class: string };
    await page.waitForSelector(`#latest-verdict[data-sample="${secondId}"]`, { timeout: 20_000 });
    // Some recovery on screen, then the picture.
    await page.waitForTimeout(600);

    const card = page.locator('#latest-verdict');
    expect(await card.getAttribute('data-verdict')).toBe(verdict.verdict);
    expect(await card.textContent()).toContain(verdict.class);
    expect(await page.locator('#cycle-id').textContent()).toBe(secondId);
    const frames = Number(await page.locator('#traces').getAttribute('data-frames'));
    // At 40x speed the rig sends 400 frames/s; the page takes 50/s: about 110 for baseline and exposure.
    expect(frames).toBeGreaterThan(100);
    expect(Number(await page.locator('#pca').getAttribute('data-points'))).toBe(2);
    const rows = await page.locator('#history tbody tr').count();
    expect(rows).toBe(2);
    expect(await page.locator('#history tbody tr').first().textContent()).toContain(secondId);
    expect(firstDone['state']).toBe('done');
    // The canvas has drawn something: not a blank image.
    // (A string: the tests are type-checked without the DOM library.)
    const inked = (await page.evaluate(`(() => {
      const c = document.getElementById('traces');
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n / (data.length / 4);
    })()`)) as number;
    expect(inked).toBeGreaterThan(0.2);
    expect(errors).toEqual([]);
    await page.screenshot({ path: keep('operator-page.png') });
    publish('operator-page.png');
    await page.close();
  });
});

describe.skipIf(!haveChromium)('the evaluation report in headless Chromium', () => {
  it('enose evaluate --report writes one self-contained file whose charts render', async () => {
    const a = join(dir, 'days-21-25');
    const b = join(dir, 'days-26-30');
    expect(runEnose(['simulate', '--containers', '60', '--seed', '1', '--start-day', '21', '--days', '5', '--out', a]).code).toBe(0);
    expect(runEnose(['simulate', '--containers', '60', '--seed', '1', '--start-day', '26', '--days', '5', '--out', b]).code).toBe(0);
    const out = join(dir, 'report.html');
    const run = runEnose(['evaluate', a, b, '--model', MODEL, '--report', out]);
    expect(run.code, run.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const page = await browser!.newPage({ viewport: { width: 1250, height: 900 } });
    await page.goto(pathToFileURL(out).href);
    for (const id of ['confusion', 'pca', 'loadings', 'roc', 'batches']) {
      const box = await page.locator(`#${id} svg`).first().boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.width, id).toBeGreaterThan(150);
    }
    await page.screenshot({ path: keep('report.png'), fullPage: true });
    publish('report.png');
    await page.close();
  });
});
