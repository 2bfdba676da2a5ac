// Opening handshake (RFC 6455 4), done by hand so the drivers control every byte.
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

export interface ClientHandshake {
  socket: net.Socket;
  /** Bytes received after the response head: the first frames. */
  head: Buffer;
  extensions: string | undefined;
}

/** Connect and upgrade as a client. Rejects with a reason when the server's response breaks
 *  RFC 6455 4.1 (the client MUST _Fail the WebSocket Connection_ then). */
export function clientHandshake(url: URL, path: string, extensions: string | undefined, timeoutMs: number): Promise<ClientHandshake> {
  return new Promise((resolve, reject) => {
    const port = Number(url.port || 80);
    const socket = net.connect({ host: url.hostname, port });
    socket.setNoDelay(true);
    const key = randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => fail(`no handshake response within ${timeoutMs} ms`), timeoutMs);
    function fail(reason: string): void {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(reason));
    }
    socket.on('error', (e) => fail(`connect/handshake error: ${e.message}`));
    socket.on('close', () => fail('connection closed during the handshake'));
    socket.on('connect', () => {
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: ${url.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
      ];
      if (extensions) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 16384) fail('response head larger than 16 KiB');
        return;
      }
      socket.removeListener('data', onData);
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      clearTimeout(timer);
      const [status = '', ...headerLines] = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map<string, string[]>();
      for (const l of headerLines) {
        const c = l.indexOf(':');
        if (c <= 0) {
          fail(`malformed header line "${l}"`);
          return;
        }
        const k = l.slice(0, c).trim().toLowerCase();
        headers.set(k, [...(headers.get(k) ?? []), l.slice(c + 1).trim()]);
      }
      const one = (k: string) => headers.get(k)?.join(', ');
      const problem = !/^HTTP\/1\.1 101( |$)/.test(status)
        ? `status line "${status}" is not 101 (RFC 6455 4.1)`
        : one('upgrade')?.toLowerCase() !== 'websocket'
          ? `Upgrade header "${one('upgrade')}" (RFC 6455 4.1)`
          : !(one('connection') ?? '')
                .toLowerCase()
                .split(',')
                .map((s) => s.trim())
                .includes('upgrade')
            ? `Connection header "${one('connection')}" (RFC 6455 4.1)`
            : one('sec-websocket-accept') !== acceptKey(key)
              ? `Sec-WebSocket-Accept "${one('sec-websocket-accept')}" is wrong (RFC 6455 4.1)`
              : headers.has('sec-websocket-protocol')
                ? 'Sec-WebSocket-Protocol in response but none requested (RFC 6455 4.1)'
                : !extensions && headers.has('sec-websocket-extensions')
                  ? 'Sec-WebSocket-Extensions in response but none offered (RFC 6455 4.1)'
                  : undefined;
      if (problem) {
        fail(problem);
        return;
      }
      resolve({ socket, head: buf.subarray(end + 4), extensions: one('sec-websocket-extensions') });
    };
    socket.on('data', onData);
  });
}

/** The problems in a client's upgrade request, judged as RFC 6455 4.2.1 lists them. */
export function checkClientRequest(
  method: string | undefined,
  httpVersion: string,
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const h = (k: string) => {
    const v = headers[k];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const key = h('sec-websocket-key');
  if (method !== 'GET') return `method ${method} is not GET (RFC 6455 4.1)`;
  if (httpVersion !== '1.1') return `HTTP/${httpVersion} instead of HTTP/1.1 (RFC 6455 4.1)`;
  if (!h('host')) return 'no Host header (RFC 6455 4.1)';
  if (h('upgrade')?.toLowerCase() !== 'websocket') return `Upgrade header "${h('upgrade')}" (RFC 6455 4.1)`;
  if (
    !(h('connection') ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim())
      .includes('upgrade')
  )
    return `Connection header "${h('connection')}" (RFC 6455 4.1)`;
  if (h('sec-websocket-version') !== '13') return `Sec-WebSocket-Version "${h('sec-websocket-version')}" (RFC 6455 4.1)`;
  if (!key || Buffer.from(key, 'base64').length !== 16 || Buffer.from(key, 'base64').toString('base64') !== key)
    return `Sec-WebSocket-Key "${key}" is not 16 random bytes in base64 (RFC 6455 4.1)`;
  return undefined;
}

export function serverResponse(key: string, extensions: string | undefined): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(key)}`];
  if (extensions) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
  return lines.join('\r\n') + '\r\n\r\n';
}
