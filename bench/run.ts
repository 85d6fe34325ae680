/**
 * `npm run bench`: client-credentials (opaque, and JWT for a resource server signed with
 * BENCH_JWT_ALG, default ES256) and introspection throughput, latency and memory of Tessera
 * against plain oidc-provider (its memory adapter, a minimal Redis adapter and one that stores
 * like oidc-provider's example Redis adapter) and bare Koa, on this machine.
 *
 * Each subject runs in its own process, pinned to core 0 when `taskset` exists; the load
 * generator (autocannon) runs in another process pinned to core 1. Per subject and workload:
 * a warm-up, then BENCH_RUNS runs (default 3) of BENCH_DURATION seconds (default 10) with
 * BENCH_CONNECTIONS connections (default 40); medians and min–max are reported. Tessera uses
 * Redis when REDIS_URL is set (use a database of its own), else its embedded store. Then
 * Tessera and the Redis baselines head to head (loaded at the same time on the same core), and
 * with Redis the commands each workload sends per request. Writes bench/results.json and prints
 * the tables.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { basicAuth, BENCH_CLIENT, BENCH_RESOURCE, type LoadResult, type LoadSpec } from './shared.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 40);
const WARMUP = Math.min(5, DURATION);
const REDIS_URL = process.env.REDIS_URL;
const ONLY = process.env.BENCH_SUBJECTS?.split(',').map((s) => s.trim());
const ONLY_WORKLOADS = process.env.BENCH_WORKLOADS?.split(',').map((s) => s.trim());
/** How JWT access tokens are signed, by Tessera and the baseline alike. */
const JWT_ALG = process.env.BENCH_JWT_ALG ?? 'ES256';

const CORES = availableParallelism();
const TASKSET = spawnSync('taskset', ['--version']).status === 0;
/** Subject on core 0, load generator on core 1 (when the machine has two and taskset exists). */
const pinned = (cores: string, command: string, args: string[]): [string, string[]] =>
  TASKSET && CORES >= 2 ? ['taskset', ['-c', cores, command, ...args]] : [command, args];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Running {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

async function waitHealthy(url: string, child: ChildProcess, probe: string): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`subject exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}${probe}`);
      if (res.status < 500) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`subject at ${url} did not start`);
}

async function startProcess(
  cores: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  probe: string,
): Promise<Running> {
  const port = await freePort();
  const [command, argv] = pinned(cores, process.execPath, [
    script,
    ...args.map((a) => a.replace('$PORT', String(port))),
  ]);
  const child = spawn(command, argv, {
    // As `npm start` and the image run Tessera (see src/main.ts); the same for every subject.
    env: { PATH: process.env.PATH ?? '', MALLOC_MMAP_THRESHOLD_: '131072', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child, probe);
  return {
    child,
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Peak resident set (VmHWM) of the subject's serving processes, in MB: the largest one. */
function peakRssMb(pid: number): number {
  const read = (p: number): number => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  };
  // Under taskset the node process is the same pid (taskset execs); workers are its children.
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // no children file
  }
  return Math.max(read(pid), ...children.map(read));
}

async function load(
  spec: Omit<LoadSpec, 'connections' | 'durationSeconds'>,
  seconds: number,
): Promise<LoadResult> {
  const full: LoadSpec = { ...spec, connections: CONNECTIONS, durationSeconds: seconds };
  const [command, argv] = pinned('1', process.execPath, [path.join(HERE, 'load.js'), JSON.stringify(full)]);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out.trim()) as LoadResult;
}

interface Summary {
  median: number;
  min: number;
  max: number;
}
const summary = (values: number[]): Summary => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
};

interface WorkloadResult {
  requestsPerSecond: Summary;
  p50: Summary;
  p99: Summary;
  runs: LoadResult[];
}

/** Runs `spec` once for `seconds`, refusing a run with errors: it would measure failures. */
async function measuredRun(spec: WorkloadSpec, seconds: number): Promise<LoadResult> {
  const run = await load(spec, seconds);
  if (run.non2xx > 0 || run.errors > 0) {
    throw new Error(`${spec.url}: ${run.non2xx} non-2xx answers and ${run.errors} errors in a run`);
  }
  return run;
}

function summarise(runs: LoadResult[]): WorkloadResult {
  return {
    requestsPerSecond: summary(runs.map((r) => r.requestsPerSecond)),
    p50: summary(runs.map((r) => r.p50)),
    p99: summary(runs.map((r) => r.p99)),
    runs,
  };
}

type WorkloadSpec = Omit<LoadSpec, 'connections' | 'durationSeconds'>;

interface Credentials {
  clientId: string;
  secret: string;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = 'application/x-www-form-urlencoded';

/** A client-credentials token: with `scope`, or all of the client's scopes. */
async function tokenOf(url: string, creds: Credentials, scope?: string): Promise<string> {
  const res = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': FORM, authorization: basicAuth(creds.clientId, creds.secret) },
    body: form({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token from ${url}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** The OAuth workloads against a subject that has `creds` and knows `BENCH_RESOURCE`. */
async function oauthWorkloads(url: string, creds: Credentials): Promise<Workloads> {
  const auth = basicAuth(creds.clientId, creds.secret);
  const token = await tokenOf(url, creds, BENCH_CLIENT.scope);
  return {
    clientCredentials: {
      url: `${url}/oauth/token`,
      method: 'POST',
      headers: { 'content-type': FORM, authorization: auth },
      body: form({ grant_type: 'client_credentials', scope: BENCH_CLIENT.scope }),
    },
    jwtClientCredentials: {
      url: `${url}/oauth/token`,
      method: 'POST',
      headers: { 'content-type': FORM, authorization: auth },
      body: form({ grant_type: 'client_credentials', scope: BENCH_CLIENT.scope, resource: BENCH_RESOURCE }),
    },
    introspection: {
      url: `${url}/oauth/introspect`,
      method: 'POST',
      headers: { 'content-type': FORM, authorization: auth },
      body: form({ token }),
    },
  };
}

interface Workloads {
  clientCredentials?: WorkloadSpec;
  jwtClientCredentials?: WorkloadSpec;
  introspection: WorkloadSpec;
}

interface Subject {
  name: string;
  description: string;
  running: Running;
  workloads: Workloads;
}

const ADMIN_SECRET = 'bench-admin-secret-0123456789abcdefghijklmnop';

async function tesseraSubject(workers: number, dir: string) {
  const env: Record<string, string> = {
    MTLS_PORT: '0',
    TESSERA_DATA_DIR: path.join(dir, `data-${workers}`),
    TESSERA_CERTS_DIR: path.join(dir, 'certs'),
    TESSERA_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
    TESSERA_WORKERS: String(workers),
    TESSERA_JWT_ALG: JWT_ALG,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    ...(REDIS_URL ? { REDIS_URL } : {}),
  };
  const cores = workers > 1 ? `0-${Math.min(workers, CORES) - 1}` : '0';
  const subject = await startProcess(cores, path.join(ROOT, 'dist/src/main.js'), [], env, '/healthz');
  await sleep(workers > 1 ? 1500 : 0);
  const admin = await tokenOf(subject.url, { clientId: 'tessera-admin', secret: ADMIN_SECRET });
  const created = await fetch(`${subject.url}/admin/api/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    // Short-lived tokens, so the benchmark's leave Redis within a minute.
    body: JSON.stringify({
      client_name: `bench ${Date.now()}`,
      scope: BENCH_CLIENT.scope,
      access_token_ttl: 60,
    }),
  });
  const body = (await created.json()) as { client: { client_id: string }; client_secret: string };
  const resource = await fetch(`${subject.url}/admin/api/resources`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      identifier: BENCH_RESOURCE,
      name: 'bench API',
      scope: BENCH_CLIENT.scope,
      access_token_format: 'jwt',
      access_token_ttl: 60,
    }),
  });
  if (resource.status !== 201) throw new Error(`no resource server: ${await resource.text()}`);
  return { subject, creds: { clientId: body.client.client_id, secret: body.client_secret } };
}

type SubjectResult = {
  description: string;
  clientCredentials?: WorkloadResult;
  jwtClientCredentials?: WorkloadResult;
  introspection?: WorkloadResult;
  peakRssMb: number;
};

/** Starts every subject that BENCH_SUBJECTS asks for (all by default), each ready to be measured. */
async function startSubjects(dir: string): Promise<Subject[]> {
  const wanted = (name: string) => !ONLY || ONLY.includes(name);
  const store = REDIS_URL ? `Redis (${REDIS_URL.replace(/\/\/[^@]*@/, '//')})` : 'embedded SQLite';
  const subjects: Subject[] = [];
  for (const workers of [1, 2]) {
    const name = workers === 1 ? 'tessera' : 'tessera-2-workers';
    if (!wanted(name)) continue;
    const { subject, creds } = await tesseraSubject(workers, dir);
    subjects.push({
      name,
      description: `Tessera, ${workers} worker${workers > 1 ? 's' : ''}, ${store}, argon2id secrets`,
      running: subject,
      workloads: await oauthWorkloads(subject.url, creds),
    });
  }
  for (const adapter of ['memory', 'redis', 'example-redis'] as const) {
    const name = `baseline-${adapter}`;
    if (!wanted(name)) continue;
    const running = await startProcess(
      '0',
      path.join(HERE, 'subjects/baseline.js'),
      ['$PORT', adapter, REDIS_URL ?? 'redis://127.0.0.1:6379/15', JWT_ALG],
      {},
      '/.well-known/openid-configuration',
    );
    subjects.push({
      name,
      description: `plain oidc-provider, ${adapter} adapter, plaintext secret`,
      running,
      workloads: await oauthWorkloads(running.url, BENCH_CLIENT),
    });
  }
  if (wanted('bare-koa')) {
    const running = await startProcess('0', path.join(HERE, 'subjects/bare-koa.js'), ['$PORT'], {}, '/');
    subjects.push({
      name: 'bare-koa',
      description: 'bare Koa + @koa/router, a JSON answer (introspection-sized)',
      running,
      workloads: {
        introspection: {
          url: `${running.url}/oauth/introspect`,
          method: 'POST',
          headers: { 'content-type': FORM },
          body: form({ token: 'x' }),
        },
      },
    });
  }
  return subjects;
}

const ALL_KINDS = ['clientCredentials', 'jwtClientCredentials', 'introspection'] as const;
type Kind = (typeof ALL_KINDS)[number];
/** The workloads BENCH_WORKLOADS asks for (all by default). */
const KINDS = ALL_KINDS.filter((kind) => !ONLY_WORKLOADS || ONLY_WORKLOADS.includes(kind));

/** Requests per workload in the command count: enough that background commands round away. */
const COUNTED_REQUESTS = 500;

/**
 * Redis commands per request of each subject's workloads, from `INFO commandstats` (calls made
 * inside scripts included): the stats are reset, `COUNTED_REQUESTS` requests are made (10 at a
 * time), and every command but the reset and the reading itself is divided by them. The other
 * subjects idle meanwhile; Tessera's one background read (the key ring, twice a second) adds
 * well under 0.01 per request.
 */
async function countRedisCommands(
  subjects: Subject[],
): Promise<Record<string, Partial<Record<Kind, Record<string, number>>>>> {
  if (!REDIS_URL) return {};
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  const counts: Record<string, Partial<Record<Kind, Record<string, number>>>> = {};
  try {
    for (const subject of subjects) {
      if (subject.name === 'bare-koa' || subject.name === 'tessera-2-workers') continue;
      for (const kind of KINDS) {
        const spec = subject.workloads[kind];
        if (!spec) continue;
        await redis.config('RESETSTAT');
        let left = COUNTED_REQUESTS;
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            while (left > 0) {
              left -= 1;
              const res = await fetch(spec.url, {
                method: spec.method,
                headers: spec.headers,
                body: spec.body,
              });
              if (!res.ok) throw new Error(`${spec.url}: ${res.status} while counting commands`);
              await res.arrayBuffer();
            }
          }),
        );
        const stats = await redis.info('commandstats');
        const perRequest: Record<string, number> = {};
        for (const [, command, calls] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
          if (!command || command === 'info' || command.startsWith('config')) continue;
          perRequest[command] = Math.round((Number(calls) / COUNTED_REQUESTS) * 100) / 100;
        }
        perRequest.total = Math.round(Object.values(perRequest).reduce((sum, n) => sum + n, 0) * 100) / 100;
        (counts[subject.name] ??= {})[kind] = perRequest;
      }
    }
  } finally {
    redis.disconnect();
  }
  return counts;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-bench-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const results: Record<string, SubjectResult> = {};
  let subjects: Subject[] = [];
  const headToHead: Record<string, number | null> = {};
  let commands: Awaited<ReturnType<typeof countRedisCommands>> = {};
  try {
    log('starting subjects');
    subjects = await startSubjects(dir);
    const runs = new Map<string, LoadResult[]>();
    for (const kind of KINDS) {
      for (const subject of subjects) {
        const spec = subject.workloads[kind];
        if (spec) await load(spec, WARMUP);
      }
      // Rounds go through every subject in turn, so a change in the machine's state (other
      // tenants, Redis) touches all of them alike and each round's ratios are fair. Each round
      // starts one subject later: on these machines the first run after a pause is measurably
      // faster, and no subject should always get it.
      for (let round = 1; round <= RUNS; round += 1) {
        const shift = (round - 1) % subjects.length;
        for (const subject of [...subjects.slice(shift), ...subjects.slice(0, shift)]) {
          const spec = subject.workloads[kind];
          if (!spec) continue;
          log(`${kind} round ${round}: ${subject.name}`);
          const key = `${subject.name}/${kind}`;
          runs.set(key, [...(runs.get(key) ?? []), await measuredRun(spec, DURATION)]);
        }
      }
    }
    for (const [kind, baseline] of HEAD_TO_HEAD.filter(([kind]) => KINDS.includes(kind))) {
      headToHead[`${kind} vs ${baseline}`] = await measureHeadToHead(subjects, kind, baseline, log);
    }
    log('counting Redis commands per request');
    commands = await countRedisCommands(subjects);
    for (const subject of subjects) {
      const of = (kind: Kind) => runs.get(`${subject.name}/${kind}`);
      const cc = of('clientCredentials');
      const jwt = of('jwtClientCredentials');
      const intro = of('introspection');
      results[subject.name] = {
        description: subject.description,
        ...(cc ? { clientCredentials: summarise(cc) } : {}),
        ...(jwt ? { jwtClientCredentials: summarise(jwt) } : {}),
        ...(intro ? { introspection: summarise(intro) } : {}),
        peakRssMb: peakRssMb(subject.running.child.pid!),
      };
    }
  } finally {
    for (const subject of subjects) await subject.running.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  /** The median over rounds of one subject's figure divided by another's in the same round. */
  const pairedRatio = (
    a: WorkloadResult | undefined,
    b: WorkloadResult | undefined,
    pick: (r: LoadResult) => number,
  ) => {
    if (!a || !b) return null;
    const each = a.runs.map((run, i) => pick(run) / pick(b.runs[i]!));
    return Math.round(summary(each).median * 100) / 100;
  };
  const t = results.tessera;
  const example = results['baseline-example-redis'];
  const base = results['baseline-redis'];
  const rps = (r: LoadResult) => r.requestsPerSecond;
  const ratios = {
    clientCredentialsVsExampleRedis: pairedRatio(t?.clientCredentials, example?.clientCredentials, rps),
    clientCredentialsVsBaselineRedis: pairedRatio(t?.clientCredentials, base?.clientCredentials, rps),
    jwtVsExampleRedis: pairedRatio(t?.jwtClientCredentials, example?.jwtClientCredentials, rps),
    introspectionVsExampleRedis: pairedRatio(t?.introspection, example?.introspection, rps),
    p99VsExampleRedis: pairedRatio(t?.clientCredentials, example?.clientCredentials, (r) => r.p99),
    introspectionVsBareKoa: pairedRatio(t?.introspection, results['bare-koa']?.introspection, rps),
    twoWorkersVsOne: pairedRatio(results['tessera-2-workers']?.clientCredentials, t?.clientCredentials, rps),
    headToHead,
  };
  const atLeast = (value: number | null | undefined, bound: number) =>
    value === null || value === undefined ? null : value >= bound;
  const atMost = (value: number | null | undefined, bound: number | undefined) =>
    value === null || value === undefined || bound === undefined ? null : value <= bound;
  const total = (subject: string, kind: Kind) => commands[subject]?.[kind]?.total;
  const targets = {
    'client credentials >= 1.3x example-redis (head to head)': atLeast(
      headToHead['clientCredentials vs baseline-example-redis'],
      1.3,
    ),
    'client credentials >= 0.9x baseline-redis (head to head)': atLeast(
      headToHead['clientCredentials vs baseline-redis'],
      0.9,
    ),
    'JWT client credentials >= 1.0x (head to head)': atLeast(
      headToHead['jwtClientCredentials vs baseline-redis'],
      1.0,
    ),
    'introspection >= 1.2x example-redis (head to head)': atLeast(
      headToHead['introspection vs baseline-example-redis'],
      1.2,
    ),
    'p99 <= example-redis p99': atMost(ratios.p99VsExampleRedis, 1),
    'Redis commands per opaque token <= 4': atMost(total('tessera', 'clientCredentials'), 4),
    'Redis commands per JWT <= 2': atMost(total('tessera', 'jwtClientCredentials'), 2),
    'Redis commands per introspection <= example-redis + 1': atMost(
      total('tessera', 'introspection'),
      (total('baseline-example-redis', 'introspection') ?? NaN) + 1,
    ),
    'peak RSS <= 250 MB per worker': t
      ? Math.max(t.peakRssMb, results['tessera-2-workers']?.peakRssMb ?? 0) <= 250
      : null,
  };
  const output = {
    date: new Date().toISOString(),
    machine: {
      cpus: CORES,
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      pinned: TASKSET && CORES >= 2,
    },
    settings: {
      durationSeconds: DURATION,
      runs: RUNS,
      connections: CONNECTIONS,
      warmupSeconds: WARMUP,
      jwtAlg: JWT_ALG,
    },
    subjects: Object.fromEntries(
      Object.entries(results).map(([name, r]) => [
        name,
        {
          ...r,
          clientCredentials: r.clientCredentials && { ...r.clientCredentials, runs: undefined },
          jwtClientCredentials: r.jwtClientCredentials && { ...r.jwtClientCredentials, runs: undefined },
          introspection: r.introspection && { ...r.introspection, runs: undefined },
          redisCommandsPerRequest: commands[name],
        },
      ]),
    ),
    ratios,
    targets,
  };
  writeFileSync(path.join(ROOT, 'bench/results.json'), `${JSON.stringify(output, null, 2)}\n`);
  process.stdout.write(
    `${table(results)}\n\n${commandTable(commands)}\n\n${JSON.stringify({ ratios, targets }, null, 2)}\n`,
  );
}

/** The pairs loaded head to head: Tessera's workload against that of each baseline named. */
const HEAD_TO_HEAD: [Kind, string][] = [
  ['clientCredentials', 'baseline-example-redis'],
  ['clientCredentials', 'baseline-redis'],
  ['jwtClientCredentials', 'baseline-redis'],
  ['introspection', 'baseline-example-redis'],
];

/**
 * Tessera and a baseline loaded at the same time, both on core 0 (when pinned), each by its
 * own load generator on core 1, for BENCH_RUNS rounds: the median over rounds of Tessera's
 * requests divided by the baseline's. Sharing one core, each gets about half of it, so the ratio
 * is that of the CPU each spends per request; and since both run through the same moments of the
 * machine, a slow spell of this shared host touches both alike, which rounds taken one after the
 * other cannot promise. Null unless both subjects run.
 */
async function measureHeadToHead(
  subjects: Subject[],
  kind: Kind,
  baselineName: string,
  log: (line: string) => void,
): Promise<number | null> {
  const tessera = subjects.find((s) => s.name === 'tessera')?.workloads[kind];
  const baseline = subjects.find((s) => s.name === baselineName)?.workloads[kind];
  if (!tessera || !baseline) return null;
  const ratios: number[] = [];
  for (let round = 1; round <= RUNS; round += 1) {
    log(`${kind} head-to-head round ${round}: tessera with ${baselineName}`);
    const [t, b] = await Promise.all([measuredRun(tessera, DURATION), measuredRun(baseline, DURATION)]);
    ratios.push(t.total / b.total);
  }
  return Math.round(summary(ratios).median * 100) / 100;
}

/** Redis commands per request, by subject and workload, with the commands that make them up. */
function commandTable(commands: Awaited<ReturnType<typeof countRedisCommands>>): string {
  const rows = Object.entries(commands).flatMap(([subject, kinds]) =>
    KINDS.filter((kind) => kinds[kind]).map((kind) => {
      const { total, ...each } = kinds[kind]!;
      const detail = Object.entries(each)
        .filter(([, n]) => n > 0)
        .map(([command, n]) => `${command} ${n}`)
        .join(', ');
      return `| ${subject} | ${kind} | ${total} | ${detail} |`;
    }),
  );
  if (rows.length === 0) return '';
  return [
    '| subject | workload | Redis commands/request | of which |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

function table(results: Record<string, SubjectResult>): string {
  const fmt = (s: Summary | undefined, digits = 0) =>
    s ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : '—';
  const rows = [
    [
      'subject',
      'client credentials/s',
      'p50 ms',
      'p99 ms',
      `JWT (${JWT_ALG})/s`,
      'introspection/s',
      'peak RSS MB',
    ],
    ...Object.entries(results).map(([name, r]) => [
      name,
      fmt(r.clientCredentials?.requestsPerSecond),
      fmt(r.clientCredentials?.p50, 1),
      fmt(r.clientCredentials?.p99, 1),
      fmt(r.jwtClientCredentials?.requestsPerSecond),
      fmt(r.introspection?.requestsPerSecond),
      r.peakRssMb.toFixed(0),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

await main();
