import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type NodeViewV1, type ResourceViewV1 } from '@tessera/contracts';
import { waitFor, WORKSPACE_ROOT } from '@tessera/testing';
import { TestCluster } from './cluster';

/** Debian's chromium (tools/scripts/ensure.js installs it); TESSERA_CHROMIUM points elsewhere. */
const CHROMIUM = process.env['TESSERA_CHROMIUM'] ?? '/usr/bin/chromium';
/** TESSERA_SCREENSHOT=1 saves the picture for the README (docs/dashboard.png). */
const SCREENSHOT =
  process.env['TESSERA_SCREENSHOT'] === '1' ? join(WORKSPACE_ROOT, 'docs/dashboard.png') : null;

const NODES = [
  { id: 'kv-1', zone: 'eu-west-1a', rack: 'r1' },
  { id: 'kv-2', zone: 'eu-west-1b', rack: 'r2' },
  { id: 'kv-3', zone: 'eu-west-1c', rack: 'r3' },
];
const ORDERS = { name: 'orders', partitions: 16, replicationFactor: 3 };
const SESSIONS = { name: 'sessions', partitions: 24, replicationFactor: 2 };
const UI_DEADLINE_MS = 30_000;

describe('dashboard: the live cluster picture in headless Chromium', () => {
  let cluster: TestCluster;
  let browser: Browser;
  let page: Page;

  const base = () => `http://127.0.0.1:${cluster.ports.get('coordinator')}`;
  const withLogs = (error: unknown): never => {
    throw new Error(`${String(error)}\n${cluster.logs()}`);
  };
  /** Node id → partitions of `resource` the page shows it leading. */
  const leadersOnPage = async (resource: string): Promise<Map<number, string>> => {
    const cells = page.locator(`[data-resource="${resource}"] .c[data-role="leader"]`);
    const leaders = new Map<number, string>();
    for (const cell of await cells.all()) {
      leaders.set(
        Number(await cell.getAttribute('data-partition')),
        String(await cell.getAttribute('data-node')),
      );
    }
    return leaders;
  };
  const counter = async (name: string) =>
    (await page.locator(`[data-counter="${name}"] .v`).innerText()).trim();

  beforeAll(async () => {
    cluster = await TestCluster.start('dashboard', NODES);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  }, 60_000);

  it('serves the page without a token, and the stream only with the admin token', async () => {
    const html = await fetch(`${base()}/`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
    expect(await html.text()).toContain('api/v1/stream');

    const none = await fetch(`${base()}/api/v1/stream`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { code: string }).code).toBe('UNAUTHORIZED');
    const wrong = await fetch(`${base()}/api/v1/stream?token=not-the-token`);
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { code: string }).code).toBe('FORBIDDEN');

    const controller = new AbortController();
    const right = await fetch(
      `${base()}/api/v1/stream?token=${encodeURIComponent(cluster.adminToken)}`,
      { signal: controller.signal },
    );
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = right.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('\n\n')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    controller.abort();
    expect(text).toMatch(/^event: snapshot$/m);
    const data = /^data: (.*)$/m.exec(text)?.[1];
    expect(JSON.parse(data ?? '{}')).toMatchObject({
      cluster: cluster.env.cluster,
      map: { version: expect.any(Number) },
    });
  });

  it('asks a browser without the token for it, then goes live', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const fresh = await context.newPage();
      await fresh.goto(`${base()}/`);
      await fresh.locator('#conn[data-conn="refused"]').waitFor({ timeout: UI_DEADLINE_MS });
      expect(await fresh.locator('#auth').isVisible()).toBe(true);
      await fresh.fill('#auth-token', cluster.adminToken);
      await fresh.click('#auth-form button');
      await fresh.locator('#conn[data-conn="live"]').waitFor({ timeout: UI_DEADLINE_MS });
      expect(await fresh.locator('#auth').isVisible()).toBe(false);
    } finally {
      await context.close();
    }
  });

  it('shows the three nodes ALIVE, grouped by zone', async () => {
    await waitFor(
      'three ALIVE nodes',
      async () => {
        const list = (await cluster.api<NodeViewV1[]>('GET', '/nodes')).body;
        return list.length === 3 && list.every((n) => n.state === 'ALIVE');
      },
      { timeoutMs: 30_000 },
    ).catch(withLogs);

    await page.goto(`${base()}/?token=${encodeURIComponent(cluster.adminToken)}`);
    await page.locator('#conn[data-conn="live"]').waitFor({ timeout: UI_DEADLINE_MS });
    for (const node of NODES) {
      const card = page.locator(
        `[data-zone="${node.zone}"] [data-node="${node.id}"][data-state="ALIVE"]`,
      );
      await card.waitFor({ timeout: UI_DEADLINE_MS });
      expect(await card.innerText()).toContain(node.id);
    }
    expect(await page.locator('.card[data-node]').count()).toBe(3);
    // The token is kept by the browser, not left in the address bar.
    expect(page.url()).not.toContain('token=');
  });

  it('draws a node × partition grid per resource as resources appear, every partition led', async () => {
    for (const body of [ORDERS, SESSIONS]) {
      expect((await cluster.api<ResourceViewV1>('POST', '/resources', body)).status).toBe(201);
    }
    for (const r of [ORDERS, SESSIONS]) {
      await waitFor(
        `every ${r.name} partition led on the page`,
        async () => (await leadersOnPage(r.name)).size === r.partitions,
        {
          timeoutMs: UI_DEADLINE_MS,
        },
      ).catch(withLogs);
      const grid = page.locator(`[data-resource="${r.name}"]`);
      expect(await grid.locator('.c[data-role="insync"]').count()).toBe(
        r.partitions * (r.replicationFactor - 1),
      );
      for (const node of NODES)
        expect(await grid.locator(`.c[data-node="${node.id}"]`).count()).toBe(r.partitions);
    }
    expect(await counter('led')).toBe(
      `${ORDERS.partitions + SESSIONS.partitions} / ${ORDERS.partitions + SESSIONS.partitions}`,
    );
    expect(await counter('offline')).toBe('0');
  });

  it('turns a SIGKILLed node DEAD and moves its leaders elsewhere, without a reload', async () => {
    await page.evaluate(() => Object.assign(globalThis, { tesseraSamePage: true }));
    const before = await leadersOnPage(ORDERS.name);
    const counts = new Map<string, number>();
    for (const id of before.values()) counts.set(id, (counts.get(id) ?? 0) + 1);
    const victim = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
    const led = [...before.entries()].filter(([, id]) => id === victim).map(([p]) => p);
    expect(led.length).toBeGreaterThan(0);

    const proc = cluster.nodes.get(victim)!;
    proc.signal('SIGKILL');
    await proc.exited;

    await page
      .locator(`[data-node="${victim}"][data-state="DEAD"]`)
      .waitFor({ timeout: UI_DEADLINE_MS })
      .catch(withLogs);
    const after = await waitFor(
      `the ${ORDERS.name} partitions ${victim} led to have leaders elsewhere on the page`,
      async () => {
        const now = await leadersOnPage(ORDERS.name);
        return now.size === ORDERS.partitions && [...now.values()].every((id) => id !== victim)
          ? now
          : undefined;
      },
      { timeoutMs: UI_DEADLINE_MS },
    ).catch(withLogs);
    for (const p of led) expect(after.get(p)).not.toBe(victim);
    // The victim's replicas left the ISR: its cells say so, and the counters follow.
    await waitFor(
      'the victim’s replicas shown as down',
      async () =>
        (await page
          .locator(`[data-resource="${ORDERS.name}"] .c[data-node="${victim}"][data-role="down"]`)
          .count()) === ORDERS.partitions,
      { timeoutMs: UI_DEADLINE_MS },
    );
    expect(Number(await counter('under-replicated'))).toBeGreaterThan(0);
    expect(await page.locator('[data-nodes-state="DEAD"] b').innerText()).toBe('1');
    expect(await page.evaluate(() => 'tesseraSamePage' in globalThis)).toBe(true);

    if (SCREENSHOT) {
      mkdirSync(join(WORKSPACE_ROOT, 'docs'), { recursive: true });
      // Finite animations (the change highlight) shown at their end, so the picture is calm.
      await page.screenshot({ path: SCREENSHOT, animations: 'disabled' });
    }
  });
});
