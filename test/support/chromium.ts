import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, type TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { tokenFor } from './admin.js';
import { startTessera, type RunningTessera } from './tessera.js';

const require = createRequire(import.meta.url);

/** Debian's Chromium; the suite never downloads a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Starts headless Chromium with the flags a closed machine needs (no background connections,
 * no first-run work) and a fresh profile.
 */
export async function launchChromium(): Promise<Browser & { dispose(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  return Object.assign(browser, { dispose: () => browser.close() });
}

/** A new browser context (its own cookies) that may use the clipboard and downloads. */
export async function newContext(
  browser: Browser,
  baseURL: string,
  options: { javaScriptEnabled?: boolean } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL,
    acceptDownloads: true,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    viewport: { width: 1366, height: 900 },
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  // A step that cannot happen fails well inside the test's own limit, naming what it awaited.
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  return context;
}

/** How long one browser step (a click, a fill, a navigation, a wait) may take. */
export const STEP_TIMEOUT_MS = 15_000;

/** What a failed console test was looking at: every open page's URL and title, and the server's last log lines. */
export async function whereItStood(
  browser: Browser | undefined,
  tessera: RunningTessera | undefined,
): Promise<string[]> {
  const pages = await Promise.all(
    (browser?.contexts() ?? []).flatMap((context) =>
      context.pages().map(async (page) => {
        const title = await page.title().catch(() => '(no title)');
        return `page ${page.url()} "${title}"`;
      }),
    ),
  );
  const logs = (tessera?.logs ?? []).slice(-15).map((line) => `log ${line}`);
  return [...pages, ...logs];
}

/** Clicks something that loads a new page (a link, or a form's button), and waits for that page. */
export async function clickAndLoad(page: Page, target: Locator): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() });
  await target.click();
  await navigated;
  await page.waitForLoadState();
}

/** Signs in through the real sign-in form from `/admin`, and lands on the console. */
export async function signIn(page: Page, username: string, password: string, path = '/admin'): Promise<void> {
  await page.goto(path);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await clickAndLoad(page, page.getByRole('button', { name: 'Sign in' }));
}

/** The axe-core source, injected into pages to check them. */
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the browser's debugging protocol, which the page's CSP does not govern.
  await page.evaluate(AXE);
  const { violations, passes } = (await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[]; passes: unknown[] }> } }
    ).axe;
    const results = await axe.run();
    return { violations: results.violations, passes: results.passes.length };
  })) as { violations: AxeViolation[]; passes: number };
  if (passes === 0) throw new Error('axe-core checked nothing on this page');
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A temporary folder for a test file's screenshots, removed by `remove`. */
export function screenshotDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-console-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What the "Client created" page showed. */
export interface CreatedInConsole {
  clientId: string;
  secret: string | null;
}

/**
 * Creates a client from `/admin/clients/new` with a preset and the given fields (labels to
 * values; a boolean checks or unchecks a checkbox), and reads the "Client created" page.
 */
export async function createClientInConsole(
  page: Page,
  preset: string,
  fields: Record<string, string | boolean>,
  checks: { scopes?: string[]; grantTypes?: string[] } = {},
): Promise<CreatedInConsole> {
  await page.goto('/admin/clients/new');
  await clickAndLoad(page, page.getByRole('button', { name: preset, exact: true }));
  for (const [label, value] of Object.entries(fields)) {
    const field = page.getByLabel(label, { exact: true });
    if (typeof value === 'boolean') await field.setChecked(value);
    else if ((await field.evaluate((e) => e.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
  for (const scope of checks.scopes ?? []) {
    await page.getByRole('group', { name: 'Scopes' }).locator(`input[value="${scope}"]`).check();
  }
  for (const grant of checks.grantTypes ?? []) {
    await page.getByRole('group', { name: 'Grant types' }).getByLabel(grant).check();
  }
  await clickAndLoad(page, page.getByRole('button', { name: 'Create client' }));
  const heading = await page.getByRole('heading', { level: 1 }).textContent();
  if (heading !== 'Client created')
    throw new Error(`creating failed: ${await page.locator('main').innerText()}`);
  const secretField = page.getByLabel('Client secret');
  return {
    clientId: await page.getByLabel('Client ID').inputValue(),
    secret: (await secretField.count()) ? await secretField.inputValue() : null,
  };
}

/** What the page's clipboard holds. */
export const clipboardText = (page: Page): Promise<string> =>
  page.evaluate(() =>
    (
      globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
    ).navigator.clipboard.readText(),
  );

/** The bootstrap administrator's password on a test server (fixed by `startTessera`). */
export const ADMIN_PASSWORD = 'test-admin-password';

/** What a console test file works with. */
export interface ConsoleHarness {
  tessera: RunningTessera;
  browser: Browser;
  /** A bootstrap admin token for the admin API. */
  root: string;
  /** A page of its own browser context, signed in as `admin`. */
  page: Page;
  context: BrowserContext;
}

/**
 * Starts Tessera and Chromium before the file's tests, with one page signed in as `admin`,
 * and stops both after them.
 */
export function consoleHarness(
  options: { mtls?: boolean; javaScriptEnabled?: boolean } = {},
): ConsoleHarness {
  const harness = {} as ConsoleHarness;
  let browser: (Browser & { dispose(): Promise<void> }) | undefined;
  before(async () => {
    harness.tessera = await startTessera({ mtls: options.mtls ?? false });
    browser = await launchChromium();
    harness.browser = browser;
    harness.root = await tokenFor(harness.tessera.url);
    harness.context = await newContext(browser, harness.tessera.url, options);
    harness.page = await harness.context.newPage();
    await signIn(harness.page, 'admin', ADMIN_PASSWORD);
  });
  afterEach(async (t) => {
    const test = t as TestContext & { passed?: boolean };
    if (test.passed !== false) return;
    for (const line of await whereItStood(browser, harness.tessera)) test.diagnostic(line);
  });
  after(async () => {
    await browser?.dispose();
    await harness.tessera?.close();
  });
  return harness;
}
