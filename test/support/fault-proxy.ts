import { createHash } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A fault-injecting HTTP proxy on 127.0.0.1 between real S3 clients (replay
 * nodes, or an S3Store in the test) and a real S3 server (RGW), for the
 * fault-injection suites (issue 12):
 *
 *   const proxy = createFaultProxy({ upstream: s3.target.endpoint!, plan: { seed: 7, rates: { 'drop-reset': 0.05 } } });
 *   await proxy.start();
 *   const url = proxiedUrl(s3.url, proxy.endpoint);               // the same bucket, through the proxy
 *   cluster.join('a', [], { AWS_SDK_UA_APP_ID: 'a' });            // NodeProcess sets this by default
 *   proxy.rule({ match: (r) => r.method === 'PUT' && r.key.includes('/results/'), once: true,
 *                action: afterUpstream(async () => { node.signal('SIGKILL'); return 'silence'; }) });
 *   await proxy.outage(2000);                                      // refused, then back on the same port
 *   expect(proxy.acceptedWrites((k) => k.endsWith('/results/x.json'))).toHaveLength(1);
 *   await proxy.stop();
 *
 * - Requests are forwarded byte for byte, Host header included (SigV4 signs
 *   it; RGW checks the signature against the Host it receives), bodies
 *   streamed both ways over keep-alive connections.
 * - The client of a request is the `app/<id>` of its user agent: the AWS SDK
 *   appends it when the process has `AWS_SDK_UA_APP_ID=<id>` (read from the
 *   environment by @aws-sdk/core's NODE_APP_ID_CONFIG_OPTIONS). In-process
 *   clients share one environment: give each its own port with
 *   `clientEndpoint(id)` instead (a port's id wins over the user agent).
 * - Faults: a rule (`rule()`, checked first, in order) or the seeded plan.
 *   The plan's decision for the k-th request of client C depends only on
 *   (seed, C, k), never on arrival order across clients (`planDecision`).
 *   `error-500`/`error-503` answer without forwarding; `drop-reset` forwards,
 *   waits for the answer, then resets the client's connection (the write
 *   landed, the client cannot know); `drop-silent` forwards and never answers
 *   (the client's timeout fires; the socket is closed at stop); `delay`
 *   forwards late. A delayed or held request is forwarded even when its
 *   client gave up meanwhile: a late write lands, as on a real network.
 * - Every request is recorded (`requests()`), times on performance.now(),
 *   the harness's monotonic clock.
 *
 * Timing uses node:timers/promises, as the other test/support files do.
 */
export const FAULT_KINDS = ['error-500', 'error-503', 'drop-reset', 'drop-silent', 'delay'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A request as rules and plan predicates see it, before anything is decided. */
export interface ProxiedRequest {
  /** Arrival order at the proxy, from 1. */
  seq: number;
  /** The client id: the port's, or the user agent's `app/<id>`, or 'unknown'. */
  client: string;
  /** k: this request's number among its client's requests, from 1. */
  clientSeq: number;
  method: string;
  bucket: string;
  /** The object key: the path minus the bucket, decoded (it includes the store URL's prefix); '' for bucket requests. */
  key: string;
  query: Record<string, string>;
  /** A listing's prefix. */
  prefix?: string;
  ifMatch?: string;
  ifNoneMatch?: string;
}

export type RequestPredicate = (req: ProxiedRequest) => boolean;

/** What the proxy did to a request: a fault kind, a rule's hold, or nothing. */
export type AppliedFault = FaultKind | 'hold' | 'hold-answer' | 'none';

export interface RecordedRequest extends ProxiedRequest {
  fault: AppliedFault;
  /** Who decided the fault: a rule, the plan, or nobody. */
  by: 'rule' | 'plan' | 'none';
  /** The upstream status; undefined when not forwarded or upstream failed. */
  status?: number;
  upstreamError?: string;
  /** performance.now() at arrival, and when the exchange ended (answered, reset, or the silenced client gave up). */
  startMs: number;
  endMs?: number;
  /** The whole answer was handed to the client's connection. */
  delivered: boolean;
}

export interface FaultPlan {
  seed: number | string;
  /** Probability per request of each kind (their sum at most 1). */
  rates: Partial<Record<FaultKind, number>>;
  /** Only requests this accepts get the plan's faults (the decision is still made: k advances regardless). */
  when?: RequestPredicate;
  /** Range of a `delay`, in ms; default 50-500. */
  delayMs?: { min: number; max: number };
}

export type AnswerChoice = 'answer' | 'reset' | 'silence';

export type RuleAction =
  | FaultKind
  | { kind: 'delay'; ms: number }
  | { kind: 'hold'; until: Promise<void> }
  | { kind: 'hold-answer'; until: Promise<void> }
  | { kind: 'after-upstream'; decide: (recorded: RecordedRequest) => AnswerChoice | Promise<AnswerChoice> };

/** Wait for `until` before forwarding. */
export const hold = (until: Promise<void>): RuleAction => ({ kind: 'hold', until });
/** Forward at once, answer only after `until`. */
export const holdAnswer = (until: Promise<void>): RuleAction => ({ kind: 'hold-answer', until });
/** Forward, then let `decide` (which sees the upstream status) say what the client gets. */
export const afterUpstream = (decide: (recorded: RecordedRequest) => AnswerChoice | Promise<AnswerChoice>): RuleAction => ({ kind: 'after-upstream', decide });
/** Forward after exactly `ms`. */
export const delayBy = (ms: number): RuleAction => ({ kind: 'delay', ms });

export interface Rule {
  match: RequestPredicate;
  /** Removed after its first match. */
  once?: boolean;
  action: RuleAction;
}

export interface RuleHandle {
  /** Resolves with the record of the first request the rule matched. */
  readonly matched: Promise<RecordedRequest>;
  readonly hits: number;
  remove(): void;
}

export interface FaultProxyOptions {
  /** The S3 server, http://host:port. */
  upstream: string;
  plan?: FaultPlan;
  /** Default: a free port. */
  port?: number;
}

/** The plan's fault for the k-th request of `client`: a function of (seed, client, k) alone. */
export function planDecision(plan: FaultPlan, client: string, clientSeq: number): { fault: FaultKind | 'none'; delayMs: number } {
  const u = unitHash(plan.seed, client, clientSeq, 'fault');
  let edge = 0;
  for (const kind of FAULT_KINDS) {
    edge += plan.rates[kind] ?? 0;
    if (u < edge) {
      const { min, max } = plan.delayMs ?? { min: 50, max: 500 };
      const delayMs = kind === 'delay' ? Math.round(min + (max - min) * unitHash(plan.seed, client, clientSeq, 'delay')) : 0;
      return { fault: kind, delayMs };
    }
  }
  return { fault: 'none', delayMs: 0 };
}

/** The same s3:// store URL with its endpoint replaced by `endpoint` (the proxy's). */
export function proxiedUrl(storeUrl: string, endpoint: string): string {
  const [base, query = ''] = storeUrl.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.set('endpoint', endpoint);
  return `${base}?${params.toString().replace(/%3A/g, ':').replace(/%2F/g, '/')}`;
}

/** The `app/<id>` the AWS SDK puts in its user agent (user-agent in Node, x-amz-user-agent in browsers). */
export function clientIdOf(headers: IncomingMessage['headers']): string | undefined {
  for (const value of [headers['user-agent'], headers['x-amz-user-agent']]) {
    const match = /(?:^|\s)app\/(\S+)/.exec(String(value ?? ''));
    if (match) return match[1];
  }
  return undefined;
}

export function createFaultProxy(options: FaultProxyOptions): FaultProxy {
  return new FaultProxy(options);
}

/** What happens to one request: an error instead of forwarding, a wait before it, and what the client gets. */
interface Step {
  error?: 500 | 503;
  before?: Promise<unknown>;
  after: 'stream' | 'reset' | 'silence' | { until: Promise<void> } | { decide: (recorded: RecordedRequest) => AnswerChoice | Promise<AnswerChoice> };
}

const HALTED = Symbol('halted');

interface Listener {
  server: Server;
  port: number;
  sockets: Set<Socket>;
  /** The client id of every request on this port (dedicated ports). */
  client?: string;
}

export class FaultProxy {
  private readonly upstream: URL;
  private plan: FaultPlan | undefined;
  private readonly listeners: Listener[] = [];
  private readonly rules: Array<{ rule: Rule; hits: number; resolve: (r: RecordedRequest) => void }> = [];
  private readonly records: RecordedRequest[] = [];
  private readonly perClient = new Map<string, number>();
  private readonly upstreams = new Set<ClientRequest>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly agent = new Agent({ keepAlive: true, timeout: 30_000 });
  private readonly halt = new AbortController();
  private readonly halted: Promise<typeof HALTED>;
  private readonly windows: Array<{ startMs: number; endMs?: number }> = [];
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private outageOn = false;

  constructor(private readonly options: FaultProxyOptions) {
    this.upstream = new URL(options.upstream);
    this.setPlan(options.plan);
    this.halted = new Promise((resolve) => this.halt.signal.addEventListener('abort', () => resolve(HALTED), { once: true }));
  }

  /** Listens on 127.0.0.1 (idempotent; a stopped proxy does not start again). */
  start(): Promise<void> {
    this.starting ??= (async () => {
      if (this.stopping) throw new Error('fault proxy: stopped; create a new one');
      this.listeners.push(await this.listen({ port: this.options.port ?? 0 }));
    })();
    return this.starting;
  }

  /** Closes every port, connection and upstream request at once; held requests are dropped (idempotent). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.halt.abort();
      await Promise.all(this.listeners.map((l) => this.close(l)));
      for (const upstream of this.upstreams) upstream.destroy();
      this.agent.destroy();
      await Promise.allSettled([...this.inflight]);
    })();
    return this.stopping;
  }

  get port(): number {
    const main = this.listeners[0];
    if (!main) throw new Error('fault proxy: not started');
    return main.port;
  }

  /** http://127.0.0.1:<port>, for the store URL's endpoint= (see proxiedUrl). */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A port of its own for client `id` (for in-process clients, which share one AWS_SDK_UA_APP_ID). */
  async clientEndpoint(id: string): Promise<string> {
    await this.start();
    let listener = this.listeners.find((l) => l.client === id);
    if (!listener) {
      if (this.outageOn) throw new Error('fault proxy: no new ports during an outage');
      listener = await this.listen({ port: 0, client: id });
      this.listeners.push(listener);
    }
    return `http://127.0.0.1:${listener.port}`;
  }

  /** Replaces the random plan (undefined: none); rules stay. */
  setPlan(plan: FaultPlan | undefined): void {
    if (plan) {
      const sum = FAULT_KINDS.reduce((s, k) => s + (plan.rates[k] ?? 0), 0);
      if (sum > 1 + 1e-9 || FAULT_KINDS.some((k) => (plan.rates[k] ?? 0) < 0)) throw new RangeError(`fault plan rates must be >= 0 and sum to at most 1 (sum ${sum})`);
    }
    this.plan = plan;
  }

  /** A rule, checked before the plan and after the rules added earlier. */
  rule(rule: Rule): RuleHandle {
    let resolve!: (r: RecordedRequest) => void;
    const matched = new Promise<RecordedRequest>((r) => (resolve = r));
    const entry = { rule, hits: 0, resolve };
    this.rules.push(entry);
    return {
      matched,
      get hits() {
        return entry.hits;
      },
      remove: () => {
        const at = this.rules.indexOf(entry);
        if (at >= 0) this.rules.splice(at, 1);
      },
    };
  }

  /** Stops listening and resets every open connection (clients get ECONNREFUSED/resets) until endOutage. */
  async startOutage(): Promise<void> {
    if (this.outageOn || this.stopping) return;
    this.outageOn = true;
    this.windows.push({ startMs: performance.now() });
    await Promise.all(this.listeners.map((l) => this.close(l)));
  }

  /** Listens again, on the same ports. */
  async endOutage(): Promise<void> {
    if (!this.outageOn || this.stopping) return;
    for (const l of this.listeners) await new Promise<void>((resolve, reject) => {
      l.server.once('error', reject);
      l.server.listen(l.port, '127.0.0.1', () => (l.server.off('error', reject), resolve()));
    });
    this.outageOn = false;
    this.windows.at(-1)!.endMs = performance.now();
  }

  /** An outage of `ms` (cut short by stop). */
  async outage(ms: number): Promise<void> {
    await this.startOutage();
    await sleep(ms, undefined, { signal: this.halt.signal }).catch(() => undefined);
    await this.endOutage();
  }

  /** Outage windows so far, on performance.now(). */
  outages(): ReadonlyArray<{ startMs: number; endMs?: number }> {
    return this.windows.map((w) => ({ ...w }));
  }

  /** Every request so far, in arrival order (live objects: an open exchange fills in later). */
  requests(): readonly RecordedRequest[] {
    return [...this.records];
  }

  /** Requests by applied fault. */
  counts(): Record<AppliedFault, number> {
    const counts = Object.fromEntries([...FAULT_KINDS, 'hold', 'hold-answer', 'none'].map((k) => [k, 0])) as Record<AppliedFault, number>;
    for (const r of this.records) counts[r.fault]++;
    return counts;
  }

  /** Writes the server accepted (2xx PUT of an object, or a completed multipart upload), whatever the client saw. */
  acceptedWrites(keyMatches: (key: string) => boolean = () => true): RecordedRequest[] {
    return this.records.filter((r) => isAcceptedWrite(r) && keyMatches(r.key));
  }

  /** Resolves once every request so far has been answered, reset or silenced. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private async listen(at: { port: number; client?: string }): Promise<Listener> {
    const server = createServer((req, res) => {
      const done = this.exchange(req, res, listener.client).catch(() => void res.destroy());
      this.inflight.add(done);
      void done.finally(() => this.inflight.delete(done));
    });
    const listener: Listener = { server, port: at.port, sockets: new Set(), ...(at.client ? { client: at.client } : {}) };
    // Keep idle client connections as long as the client does: the proxy must not add resets of its own.
    server.keepAliveTimeout = 0;
    server.on('connection', (socket) => {
      listener.sockets.add(socket);
      socket.on('close', () => listener.sockets.delete(socket));
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, '127.0.0.1', () => (server.off('error', reject), resolve()));
    });
    listener.port = (server.address() as AddressInfo).port;
    return listener;
  }

  private close(listener: Listener): Promise<void> {
    const closed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
    for (const socket of listener.sockets) socket.destroy();
    return closed;
  }

  private async exchange(req: IncomingMessage, res: ServerResponse, portClient: string | undefined): Promise<void> {
    const rec = this.open(req, portClient);
    let clientGone = false;
    res.on('finish', () => (rec.delivered = true));
    res.on('close', () => {
      clientGone ||= !res.writableFinished;
      rec.endMs ??= performance.now();
    });
    const step = this.decide(rec);
    if (step.error) {
      await readAll(req).catch(() => undefined);
      await answerError(res, rec, step.error);
      return;
    }
    // Before forwarding: wait, reading the body meanwhile (forwarded even if the client has gone: a late write).
    let body: Buffer | undefined;
    if (step.before) {
      const bodyRead = readAll(req).catch(() => undefined);
      if ((await this.unlessHalted(step.before)) === HALTED) return;
      body = await bodyRead;
      if (!body) {
        rec.upstreamError = 'the client went away before sending its whole body; not forwarded';
        return;
      }
    }
    let up: IncomingMessage;
    try {
      up = await this.forward(req, rec, body);
    } catch (error) {
      rec.upstreamError = (error as Error).message;
      res.destroy();
      return;
    }
    rec.status = up.statusCode;
    if (step.after === 'stream') {
      if (clientGone) return void up.resume();
      res.writeHead(up.statusCode ?? 502, up.statusMessage, responseHeaders(up.rawHeaders));
      await new Promise<void>((resolve) => pipeline(up, res, () => resolve()));
      return;
    }
    // After forwarding: the answer waits for a decision, its body in memory (S3 answers here are small).
    const answer = await readAll(up).catch(() => undefined);
    if (answer === undefined) {
      rec.upstreamError = 'upstream answer cut off';
      res.destroy();
      return;
    }
    let choice: AnswerChoice;
    if (typeof step.after === 'string') choice = step.after;
    else if ('until' in step.after) {
      if ((await this.unlessHalted(step.after.until)) === HALTED) return;
      choice = 'answer';
    } else {
      const decide = step.after.decide;
      const decided = await this.unlessHalted(Promise.resolve().then(() => decide(rec)).catch((error: unknown) => {
        rec.upstreamError = `the rule's afterUpstream callback threw: ${String(error)}`;
        return 'reset' as const;
      }));
      if (decided === HALTED) return;
      choice = decided;
      rec.fault = choice === 'reset' ? 'drop-reset' : choice === 'silence' ? 'drop-silent' : 'none';
    }
    if (choice === 'reset') {
      rec.endMs = performance.now();
      req.socket.destroy();
    } else if (choice === 'answer' && !clientGone) {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, responseHeaders(up.rawHeaders));
      await endResponse(res, answer);
    }
    // silence: the connection stays open until the client gives up or the proxy stops.
  }

  private open(req: IncomingMessage, portClient: string | undefined): RecordedRequest {
    const client = portClient ?? clientIdOf(req.headers) ?? 'unknown';
    const clientSeq = (this.perClient.get(client) ?? 0) + 1;
    this.perClient.set(client, clientSeq);
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const query = Object.fromEntries(url.searchParams);
    const header = (name: string): string | undefined => (req.headers[name] === undefined ? undefined : String(req.headers[name]));
    const rec: RecordedRequest = {
      seq: this.records.length + 1,
      client,
      clientSeq,
      method: req.method ?? '',
      bucket: decodeURIComponent(bucket),
      key: rest.map(decodeURIComponent).join('/'),
      query,
      ...(query['prefix'] !== undefined ? { prefix: query['prefix'] } : {}),
      ...(header('if-match') !== undefined ? { ifMatch: header('if-match') } : {}),
      ...(header('if-none-match') !== undefined ? { ifNoneMatch: header('if-none-match') } : {}),
      fault: 'none',
      by: 'none',
      startMs: performance.now(),
      delivered: false,
    };
    this.records.push(rec);
    return rec;
  }

  /** What to do with a request: the first matching rule's action, else the plan's decision. Records the fault. */
  private decide(rec: RecordedRequest): Step {
    const entry = this.rules.find((e) => e.rule.match(rec));
    if (entry) {
      entry.hits++;
      if (entry.rule.once) this.rules.splice(this.rules.indexOf(entry), 1);
      entry.resolve(rec);
      rec.by = 'rule';
      const action = entry.rule.action;
      if (typeof action === 'string') return this.stepOf(rec, action, 0);
      switch (action.kind) {
        case 'delay':
          return this.stepOf(rec, 'delay', action.ms);
        case 'hold':
          rec.fault = 'hold';
          return { before: action.until, after: 'stream' };
        case 'hold-answer':
          rec.fault = 'hold-answer';
          return { after: { until: action.until } };
        case 'after-upstream':
          return { after: { decide: action.decide } };
      }
    }
    if (!this.plan) return { after: 'stream' };
    const { fault, delayMs } = planDecision(this.plan, rec.client, rec.clientSeq);
    if (fault === 'none' || (this.plan.when && !this.plan.when(rec))) return { after: 'stream' };
    rec.by = 'plan';
    return this.stepOf(rec, fault, delayMs);
  }

  private stepOf(rec: RecordedRequest, fault: FaultKind, delayMs: number): Step {
    rec.fault = fault;
    switch (fault) {
      case 'error-500':
        return { error: 500, after: 'stream' };
      case 'error-503':
        return { error: 503, after: 'stream' };
      case 'drop-reset':
        return { after: 'reset' };
      case 'drop-silent':
        return { after: 'silence' };
      case 'delay':
        return { before: sleep(delayMs, undefined, { signal: this.halt.signal }), after: 'stream' };
    }
  }

  private forward(req: IncomingMessage, rec: RecordedRequest, body: Buffer | undefined): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const upstream = httpRequest({
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        // Unchanged, Host included: the request is signed over them.
        headers: req.rawHeaders,
        agent: this.agent,
      }, resolve);
      this.upstreams.add(upstream);
      upstream.on('close', () => this.upstreams.delete(upstream));
      upstream.on('error', reject);
      if (body) upstream.end(body);
      else pipeline(req, upstream, (error) => error && reject(error));
      if (this.halt.signal.aborted) upstream.destroy(new Error(`fault proxy stopped (request ${rec.seq})`));
    });
  }

  /** `wait`'s value, or HALTED when the proxy stops first (a rejected wait counts as done). */
  private unlessHalted<T>(wait: Promise<T>): Promise<T | typeof HALTED> {
    return Promise.race([wait, this.halted]).catch(() => (this.halt.signal.aborted ? HALTED : (undefined as T)));
  }
}

/** A write the server accepted (2xx to a PUT of an object, or to a multipart completion), whatever the client saw. */
export function isAcceptedWrite(r: RecordedRequest): boolean {
  if (r.status === undefined || r.status < 200 || r.status >= 300) return false;
  if (r.method === 'PUT') return r.key !== '' && r.query['partNumber'] === undefined;
  return r.method === 'POST' && r.query['uploadId'] !== undefined;
}

/** Upstream's headers minus the hop-by-hop ones (this server manages its own connections). */
function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!/^(connection|keep-alive|transfer-encoding)$/i.test(raw[i]!)) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function answerError(res: ServerResponse, rec: RecordedRequest, status: 500 | 503): Promise<void> {
  const code = status === 503 ? 'SlowDown' : 'InternalError';
  const message = status === 503 ? 'Please reduce your request rate.' : 'We encountered an internal error. Please try again.';
  const body = rec.method === 'HEAD'
    ? ''
    : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><Resource>/${rec.bucket}/${rec.key}</Resource><RequestId>fault-proxy-${rec.seq}</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': `fault-proxy-${rec.seq}` });
  return endResponse(res, body);
}

/** Ends a response; resolves when it is handed over, or when the connection is gone. */
function endResponse(res: ServerResponse, body: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    res.once('close', resolve);
    res.end(body, () => resolve());
  });
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  if (!stream.complete) throw new Error('incomplete message');
  return Buffer.concat(chunks);
}

/** A number in [0, 1) from the inputs alone. */
function unitHash(seed: number | string, client: string, clientSeq: number, salt: string): number {
  const digest = createHash('sha256').update(`${String(seed)}\0${client}\0${clientSeq}\0${salt}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
