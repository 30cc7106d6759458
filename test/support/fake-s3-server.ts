import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Tiny S3-shaped HTTP servers on 127.0.0.1, for the two things a real server
 * cannot be made to do on demand, and for nothing else (conditional
 * semantics are tested on a real server only):
 *
 * - `scriptedS3Server(answer)`: answers each request as the test says
 *   (a 500 or 409 to a conditional PUT, a far-off Date header, silence), to
 *   prove the backend types ambiguous outcomes;
 * - `ignoringS3Server()`: an object store that ignores If-None-Match and
 *   If-Match, like s3rver and other popular fakes, to prove the capability
 *   probe refuses such a store.
 */
export interface FakeS3Server {
  endpoint: string;
  /** Requests seen, in order: method, path (with query), and the conditional headers. */
  requests: Array<{ method: string; url: string; ifMatch?: string; ifNoneMatch?: string }>;
  close(): Promise<void>;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (the client's timeout must fire). */
  silent?: boolean;
}

export function scriptedS3Server(answer: (req: IncomingMessage) => ScriptedAnswer): Promise<FakeS3Server> {
  return serve(async (req, res) => {
    await drain(req);
    const a = answer(req);
    if (a.silent) return;
    res.writeHead(a.status, { 'content-type': 'application/xml', ...a.headers });
    res.end(a.body ?? '');
  });
}

/** An S3 error body as S3 sends it. */
export function s3ErrorXml(code: string, message = code): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

export function ignoringS3Server(): Promise<FakeS3Server> {
  const objects = new Map<string, Buffer>();
  return serve(async (req, res) => {
    const body = await drain(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const id = `${bucket}/${key}`;
    const etag = (b: Buffer): string => `"${createHash('md5').update(b).digest('hex')}"`;
    const found = objects.get(id);
    if (req.method === 'PUT') {
      objects.set(id, body); // conditional headers ignored, as the fakes do
      res.writeHead(200, { etag: etag(body) }).end();
    } else if (req.method === 'DELETE') {
      objects.delete(id);
      res.writeHead(204).end();
    } else if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2') {
      const prefix = `${bucket}/${url.searchParams.get('prefix') ?? ''}`;
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      const contents = keys.map((k) => `<Contents><Key>${k.slice(bucket.length + 1)}</Key><ETag>${etag(objects.get(k)!)}</ETag><Size>${objects.get(k)!.length}</Size><LastModified>${new Date().toISOString()}</LastModified></Contents>`);
      res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><IsTruncated>false</IsTruncated>${contents.join('')}</ListBucketResult>`);
    } else if (!found) {
      res.writeHead(404, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : s3ErrorXml('NoSuchKey'));
    } else {
      res.writeHead(200, { etag: etag(found), 'content-length': found.length, 'last-modified': new Date().toUTCString() });
      res.end(req.method === 'HEAD' ? undefined : found);
    }
  });
}

async function serve(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<FakeS3Server> {
  const requests: FakeS3Server['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      ...(req.headers['if-match'] ? { ifMatch: String(req.headers['if-match']) } : {}),
      ...(req.headers['if-none-match'] ? { ifNoneMatch: String(req.headers['if-none-match']) } : {}),
    });
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function drain(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
