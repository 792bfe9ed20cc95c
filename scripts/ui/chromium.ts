// Headless Chromium driven over the DevTools protocol, just enough to take pictures of a
// single-page app: preset its localStorage, open, wait for a text, click a text, screenshot. Chromium's own
// --screenshot cannot wait for the Web UI to load its data nor open a tab of it, and a
// browser-automation package would be a dependency for a few dozen lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

type Pending = { resolve: (v: any) => void; reject: (e: Error) => void };

export class Page {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  static async connect(url: string): Promise<Page> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve, { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot reach ${url}`)), { once: true });
    });
    return new Page(ws);
  }

  send<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send<{ result: { value: T }; exceptionDetails?: { text: string } }>('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  }

  /**
   * localStorage entries every document this page opens starts with, set before its scripts
   * run (the Web UI reads its settings, the list's columns among them, as it loads).
   */
  async presetLocalStorage(entries: Record<string, string>): Promise<void> {
    const source = `for (const [k, v] of Object.entries(${JSON.stringify(entries)})) localStorage.setItem(k, v);`;
    // Without Page.enable the script is accepted and never run.
    await this.send('Page.enable');
    await this.send('Page.addScriptToEvaluateOnNewDocument', { source });
  }

  async goto(url: string, width: number, height: number): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    await this.send('Page.navigate', { url });
  }

  /** Waits until the page shows `text` (the SPA fetches its data after loading). */
  async waitForText(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.evaluate<boolean>(`document.body?.innerText.includes(${JSON.stringify(text)}) ?? false`))) {
      if (Date.now() > deadline) throw new Error(`the page never showed "${text}"`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Clicks the innermost element whose own text is `text` (a tab, a button). */
  async clickText(text: string): Promise<void> {
    const clicked = await this.evaluate<boolean>(`(() => {
      const all = [...document.querySelectorAll('a, button, [role=tab], span, div')];
      const hit = all.reverse().find((e) => e.textContent.trim() === ${JSON.stringify(text)});
      if (hit) hit.click();
      return Boolean(hit);
    })()`);
    if (!clicked) throw new Error(`nothing to click named "${text}"`);
  }

  async screenshot(file: string): Promise<void> {
    const { data } = await this.send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
    writeFileSync(file, Buffer.from(data, 'base64'));
  }

  close(): void {
    this.ws.close();
  }
}

export class Chromium {
  private constructor(private readonly proc: ChildProcess, private readonly port: number, private readonly profile: string) {}

  static async launch(binary = process.env.CHROMIUM ?? 'chromium'): Promise<Chromium> {
    if (typeof WebSocket === 'undefined') throw new Error('run with node --experimental-websocket (Node 20) or Node 22+');
    const profile = mkdtempSync(path.join(os.tmpdir(), 'trove-chromium-'));
    const proc = spawn(binary, [
      '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run',
      '--force-prefers-reduced-motion', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const port = await new Promise<number>((resolve, reject) => {
      let seen = '';
      proc.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(seen);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', (code) => reject(new Error(`${binary} exited (${code}) before listening: ${seen.slice(-500)}`)));
      proc.once('error', reject);
    });
    return new Chromium(proc, port, profile);
  }

  async newPage(): Promise<Page> {
    const res = await fetch(`http://127.0.0.1:${this.port}/json/new?about:blank`, { method: 'PUT' });
    const target = (await res.json()) as { webSocketDebuggerUrl: string };
    return Page.connect(target.webSocketDebuggerUrl);
  }

  /** Stops the browser's whole process group (renderers, GPU process) and drops its profile. */
  async close(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    if (this.proc.exitCode === null) process.kill(-this.proc.pid!, 'SIGTERM');
    await exited;
    rmSync(this.profile, { recursive: true, force: true });
  }
}
