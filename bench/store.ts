/**
 * npm run bench:store -- request latency of the store backends.
 *
 * For the file backend (a temp directory) and S3 (a throwaway Ceph RGW
 * started here, or the endpoint in REPLAY_S3_ENDPOINT with
 * REPLAY_S3_ACCESS_KEY_ID / REPLAY_S3_SECRET_ACCESS_KEY), one request at a
 * time:
 *   create      put(create) of a new 300-byte key; and of an existing one (refused)
 *   cas         put(update(etag)) of one key, chained
 *   get         get of a 300-byte object
 *   list(1000)  one list page of 1,000 keys
 * and, on S3, what the client costs over the wire: the same GET as a plain
 * node:http request (the object is public-read, so no signing), as a bare
 * SDK GetObject, and through the Store.
 *
 * Env: BENCH_ROUNDS (default 200; list: a fifth of it).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AlreadyExistsError } from '../src/store/errors.js';
import { createFileStore } from '../src/store/file.js';
import { createS3Store } from '../src/store/s3.js';
import { parseS3Url } from '../src/store/s3-url.js';
import { create, overwrite, update, type Store } from '../src/store/store.js';
import { systemClock } from '../src/time/system-clock.js';
import { startRgw, type RunningRgw } from '../test/support/rgw.js';

// The project supports Node 20 on purpose; the SDK's notice about future versions is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const rounds = Number(process.env.BENCH_ROUNDS ?? 200);
const body = randomBytes(150).toString('hex');

interface Row {
  backend: string;
  op: string;
  n: number;
  p50: number;
  p99: number;
}

async function time(n: number, op: (i: number) => Promise<unknown>): Promise<{ n: number; p50: number; p99: number }> {
  await op(-1); // warm-up: connections, caches
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await op(i);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { n, p50: samples[Math.floor(n / 2)]!, p99: samples[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]! };
}

async function storeOps(backend: string, store: Store): Promise<Row[]> {
  const rows: Row[] = [];
  const run = randomBytes(3).toString('hex');
  rows.push({ backend, op: 'create', ...(await time(rounds, (i) => store.put(`b-${run}/create/${i}`, body, create))) });
  rows.push({ backend, op: 'create, key exists (refused)', ...(await time(rounds, async () => {
    const refused = await store.put(`b-${run}/create/0`, body, create).then(() => false, (e: unknown) => e instanceof AlreadyExistsError);
    if (!refused) throw new Error('a create of an existing key was not refused');
  })) });
  let { etag } = await store.put(`b-${run}/cas`, body, create);
  rows.push({ backend, op: 'cas', ...(await time(rounds, async (i) => (etag = (await store.put(`b-${run}/cas`, `${body}${i}`, update(etag))).etag))) });
  await store.put(`b-${run}/get`, body, create);
  rows.push({ backend, op: 'get', ...(await time(rounds, () => store.get(`b-${run}/get`))) });
  const keys = Array.from({ length: 1000 }, (_, i) => `b-${run}/list/${String(i).padStart(4, '0')}`);
  for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((k) => store.put(k, 'x', overwrite)));
  rows.push({ backend, op: 'list(1000)', ...(await time(Math.max(10, rounds / 5), async () => {
    const page = await store.list({ prefix: `b-${run}/list/`, limit: 1000 });
    if (page.items.length !== 1000) throw new Error(`listed ${page.items.length}, expected 1000`);
  })) });
  return rows;
}

/** The same small GET three ways: raw HTTP (public-read object, no signing), bare SDK, and the Store. */
async function clientOverhead(s3: { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string }, bucket: string, store: Store): Promise<Row[]> {
  const client = new S3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw/get', Body: body, ACL: 'public-read' }));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const rawGet = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(`${s3.endpoint}/${bucket}/raw/get`, { agent }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`raw GET answered ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  const rows: Row[] = [
    { backend: 's3', op: 'GET, plain node:http (unsigned)', ...(await time(rounds, rawGet)) },
    { backend: 's3', op: 'GET, bare SDK GetObject (signed)', ...(await time(rounds, async () => {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'raw/get' }));
      await out.Body!.transformToByteArray();
    })) },
    { backend: 's3', op: 'GET, Store.get (S3 backend)', ...(await time(rounds, () => store.get('raw/get'))) },
  ];
  agent.destroy();
  client.destroy();
  return rows;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'bench-store-'));
  let rgw: RunningRgw | undefined;
  try {
    const file = createFileStore(dir, { clock: systemClock });
    rows.push(...(await storeOps('file', file)));
    await file.close();

    const env = process.env;
    const s3 = env.REPLAY_S3_ENDPOINT
      ? { endpoint: env.REPLAY_S3_ENDPOINT, accessKeyId: env.REPLAY_S3_ACCESS_KEY_ID ?? '', secretAccessKey: env.REPLAY_S3_SECRET_ACCESS_KEY ?? '', region: env.REPLAY_S3_REGION ?? 'us-east-1' }
      : (rgw = await startRgw((line) => console.error(line)));
    const bucket = `bench-store-${randomBytes(4).toString('hex')}`;
    const admin = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    admin.destroy();
    const store = createS3Store(parseS3Url(`s3://${bucket}/?endpoint=${s3.endpoint}&region=${s3.region}`), {
      clock: systemClock,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    rows.push(...(await storeOps(rgw ? 's3 (Ceph RGW)' : 's3', store)));
    rows.push(...(await clientOverhead(s3, bucket, store)));
    await store.close();
  } finally {
    await rgw?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\nbench:store on ${hostname()}: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| backend | operation | n | p50 ms | p99 ms |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.backend} | ${r.op} | ${r.n} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`);
}

await main();
