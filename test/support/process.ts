import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');

/**
 * Where test instances keep their generated client CA and server certificate: one folder for
 * the whole run, so the keys are made once (the folder's own rules make sharing it safe).
 */
export const TEST_CERTS_DIR = path.join(tmpdir(), 'tessera-test-certs');

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TesseraProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Waits for the process to exit, resolving with its exit code. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Every Tessera this test process started and that still runs. */
const running = new Set<ChildProcess>();
// A test that fails between starting a process and stopping it must not leave the process
// running past the test file (nor keep the file from ending): it dies with the file.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Runs `node dist/src/main.js` as a real process with `env` on top of a minimal environment;
 * resolves once it answers `/healthz`, or rejects with its output if it exits or stalls first.
 */
export async function spawnTessera(env: Record<string, string>, timeoutMs = 20_000): Promise<TesseraProcess> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      MTLS_PORT: '0',
      TESSERA_CERTS_DIR: TEST_CERTS_DIR,
      ...env,
      PORT: port,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  // Ready means answering /healthz: independent of LOG_LEVEL and of what stdout shows.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tessera exited with ${child.exitCode}:\n${out}\n${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tessera did not start in time:\n${out}\n${err}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return {
    child,
    url,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      return exited(child);
    },
  };
}

/** Resolves once the process's standard output holds `text` `times` times; fails after `timeoutMs` naming it. */
export function untilPrinted(
  proc: TesseraProcess,
  text: string,
  times = 1,
  timeoutMs = 20_000,
): Promise<void> {
  const seen = () => proc.stdout().split(text).length - 1 >= times;
  if (seen()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.child.stdout!.off('data', check);
      reject(new Error(`"${text}" printed fewer than ${times} times in ${timeoutMs} ms:\n${proc.stdout()}`));
    }, timeoutMs);
    function check() {
      if (!seen()) return;
      clearTimeout(timer);
      proc.child.stdout!.off('data', check);
      resolve();
    }
    // Registered after spawnTessera's own listener, so the output is complete when this runs.
    proc.child.stdout!.on('data', check);
  });
}

/**
 * Asks again every 50 ms until `ask` answers 200: a store that came back is served again without
 * a restart. Fails after `timeoutMs` naming the last status.
 */
export async function untilOk(ask: () => Promise<{ status: number }>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await ask()).status;
    if (status === 200) return;
    await sleep(50);
  }
  throw new Error(`still ${status} after ${timeoutMs} ms`);
}
