import { request } from 'node:http';
import type { Clock } from '../../time/clock.js';
import { deadline } from '../../time/deadline.js';

/**
 * nodeos's HTTP API, by node:http rather than fetch: fetch's client gives up
 * waiting for response headers after 5 minutes, and get_integrity_hash on
 * mainnet state can take longer (spring#1271).
 */
export interface ChainInfo {
  head_block_num: number;
  head_block_id: string;
  chain_id?: string;
  server_version_string?: string;
  [key: string]: unknown;
}

export interface IntegrityHash {
  head_block_id: string;
  integrity_hash: string;
}

export class NodeosHttpError extends Error {
  override readonly name = 'NodeosHttp';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export interface HttpDeps {
  clock: Clock;
}

export async function postJson<T>(deps: HttpDeps, url: string, options: { timeoutMs: number; signal?: AbortSignal; expectStatus: number }): Promise<T> {
  const limit = deadline(deps.clock, options.timeoutMs, `POST ${new URL(url).pathname}`, options.signal);
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, signal: limit.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== options.expectStatus) {
            reject(new NodeosHttpError(`${new URL(url).pathname} answered ${res.statusCode}: ${text.slice(0, 300)}`, res.statusCode));
            return;
          }
          try {
            resolve(JSON.parse(text) as T);
          } catch {
            reject(new NodeosHttpError(`${new URL(url).pathname} answered invalid JSON: ${text.slice(0, 300)}`));
          }
        });
      });
      req.on('error', (error) => reject(limit.signal.aborted ? limit.signal.reason : error));
      req.end('{}');
    });
  } finally {
    limit.clear();
  }
}

export function getInfo(deps: HttpDeps, base: string, timeoutMs: number, signal?: AbortSignal): Promise<ChainInfo> {
  return postJson<ChainInfo>(deps, `${base}/v1/chain/get_info`, { timeoutMs, signal, expectStatus: 200 });
}

/** `POST /v1/producer/get_integrity_hash`: HTTP 201, may take minutes. */
export function getIntegrityHash(deps: HttpDeps, base: string, timeoutMs: number, signal?: AbortSignal): Promise<IntegrityHash> {
  return postJson<IntegrityHash>(deps, `${base}/v1/producer/get_integrity_hash`, { timeoutMs, signal, expectStatus: 201 });
}
