/**
 * The operator page of `enose serve --early-plan` with several checkpoints (issue 22) in headless Chromium, on the
 * rig emulator over a socat pty pair: a small three-window model 30 s into the exposure (60 s), the shipped
 * exposure model at the exposure's end (90 s), the shipped default model at 150 s. The page counts down to the
 * first checkpoint, then (the first container waits there) to the next one; the second container is decided
 * inside the exposure, and the card and list say so. Screenshot: tests/artifacts/operator-page-in-exposure.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModelFile } from '../../src/io/modelFile.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import type { VerdictEvent } from '../../src/types.js';
import { threeCheckpointPlan, trainInExposureModel, verdictsAlone } from '../helpers/inExposureModel.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { haveSocat, startEmulator, startPty, type EmulatorProcess, type TestPty } from '../helpers/pty.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { awaitSample, ensureServiceBuilt, postSample, startServe, type ServeProcess } from '../service/serveProcess.js';

const CHROMIUM = '/usr/bin/chromium';
const ready = existsSync(CHROMIUM) && haveSocat();
if (!ready) console.warn(`SKIPPED: the in-exposure page test needs ${CHROMIUM} and socat (apt-get install chromium socat)`);
const TOKEN = 'page-checkpoints-token-42';
const ARTIFACTS = join(REPO_ROOT, 'tests', 'artifacts');
const CLEAR_BELOW_60 = 0.49;

let browser: Browser | null = null;
let serve: ServeProcess | null = null;
let pty: TestPty | null = null;
let rig: EmulatorProcess | null = null;
let dir = '';

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await rig?.stop();
  await pty?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Decided at 60 s by the plan: the in-exposure model's clean clear below the threshold. */
const at60 = (v: VerdictEvent | undefined) => v !== undefined && v.checkpoint === 'in-exposure' && v.verdict === 'clear' && v.score !== null && v.score < CLEAR_BELOW_60 && v.reasons.every((r) => r === 'clear-class');

/** The first simulator seed (day 21) whose first container waits at 60 s and whose second is decided there. */
async function seedOfTwo(w3: ModelBundle): Promise<number> {
  for (let seed = 1; seed <= 200; seed++) {
    const [a, b] = await verdictsAlone(w3, { seed, containers: 2, startDay: 21 });
    if (a?.checkpoint === 'in-exposure' && !at60(a) && at60(b)) return seed;
  }
  throw new Error('no simulator seed of 200 gives a container that waits at 60 s then one decided there');
}

/** Polls the "now" panel until `test` holds for its text and ETA. */
async function panelWhen(page: Page, test: (text: string, eta: number) => boolean, what: string): Promise<{ text: string; eta: number }> {
  for (let i = 0; i < 6000; i++) {
    const now = (await page.evaluate(`(() => { const n = document.getElementById('now');
      return n.dataset.state === 'running' && n.dataset.etaS !== '' ? { text: n.textContent, eta: Number(n.dataset.etaS) } : null; })()`)) as { text: string; eta: number } | null;
    if (now !== null && test(now.text, now.eta)) return now;
    await page.waitForTimeout(10);
  }
  throw new Error(`the page never showed ${what}`);
}

beforeAll(async () => {
  if (!ready) return;
  ensureServiceBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}, 60_000);

describe.skipIf(!ready)('the operator page with checkpoints inside the exposure', () => {
  it('counts down to each checkpoint in turn, and a verdict inside the exposure says so', async () => {
    expect(SHIPPED_MODELS.map((m) => m.name)).toEqual(['default', 'exposure']);
    const w3 = trainInExposureModel();
    const seed = await seedOfTwo(w3);
    dir = mkdtempSync(join(tmpdir(), 'enose-page-cp-'));
    const modelFile = join(dir, 'in-exposure.json.gz');
    writeModelFile(modelFile, w3);
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify(threeCheckpointPlan(w3, CLEAR_BELOW_60, 0)));
    pty = await startPty();
    rig = startEmulator(['--link', pty.rig, '--sim-seed', String(seed), '--sim-start-day', '21', '--containers', '2', '--speed', '20']);
    serve = await startServe(['--port', pty.host, '--model', SHIPPED_MODELS[0]!.path, '--early-plan', planFile, '--early-model', modelFile, '--token', TOKEN]);
    const page = await browser!.newPage({ viewport: { width: 1400, height: 940 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const station = serve;
    const bearer = { authorization: `Bearer ${TOKEN}` };
    for (let i = 0; i < 600 && (await fetch(`${station.url}/v1/health`, { headers: bearer })).status !== 200; i++) await page.waitForTimeout(100);
    await page.goto(`${serve.url}/login?token=${TOKEN}`);
    await page.waitForSelector('#now[data-state="idle"]', { timeout: 60_000 });

    // The first container: the countdown to 30 s into the exposure, then (it waits there) to the exposure's end.
    const first = await postSample(serve.url, { containerId: 'MSCU1111111' }, bearer);
    expect(first.status).toBe(202);
    const firstId = first.json['id'] as string;
    const before = await panelWhen(page, (t) => /next checkpoint in \d+ s/.test(t) && t.includes('30 s into the exposure'), 'the time to the checkpoint inside the exposure');
    expect(before.text).toContain('else at a later checkpoint or in');
    expect(before.eta).toBeGreaterThan(0);
    expect(before.eta).toBeLessThanOrEqual(60);
    const after = await panelWhen(page, (t) => /next checkpoint in \d+ s/.test(t) && t.includes('when the exposure ends'), 'the time to the exposure-end checkpoint after the first one passed');
    expect(after.eta).toBeLessThanOrEqual(30);
    const firstDone = (await awaitSample(serve.url, firstId, bearer))['verdict'] as VerdictEvent;
    expect(firstDone.checkpoint).not.toBe('in-exposure');
    await page.waitForSelector(`#latest-verdict[data-sample="${firstId}"]`, { timeout: 60_000 });
    await page.waitForSelector('#now[data-state="idle"]', { timeout: 60_000 });

    // The second container: decided 30 s into its exposure.
    const second = await postSample(serve.url, { containerId: 'MSCU2222222' }, bearer);
    expect(second.status).toBe(202);
    const secondId = second.json['id'] as string;
    const done = (await awaitSample(serve.url, secondId, bearer))['verdict'] as VerdictEvent;
    expect([done.early, done.decidedAtS, done.checkpoint, done.verdict, done.modelId]).toEqual([true, 60, 'in-exposure', 'clear', w3.id]);
    await page.waitForSelector(`#latest-verdict[data-sample="${secondId}"]`, { timeout: 60_000 });
    expect(await page.locator('#latest-verdict').textContent()).toContain('60.0 s, in the exposure, early');
    expect(await page.locator('#history tbody tr').first().locator('td.decided').textContent()).toBe('60.0 s, in the exposure, early');
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, 'operator-page-in-exposure.png') });
    // The rig was told to end the cycle during its exposure, and took it there.
    for (let i = 0; i < 600 && !new RegExp(`cycle ${secondId} ended on the rig`).test(serve.stdout()); i++) await page.waitForTimeout(50);
    expect(serve.stdout()).toMatch(new RegExp(`cycle ${secondId} ended on the rig \\(clear; last frame \\d+ in E\\)`));
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
