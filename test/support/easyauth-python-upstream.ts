import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Plain upstreams in another language for the reverse proxy's tests: `python3 -m http.server` serving
 * a directory, and a few lines of Python that echo the request headers back as JSON (so a test can see
 * exactly what the app received).
 */
export interface PythonUpstream {
  readonly url: string;
  close(): Promise<void>;
}

const ECHO = `
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Echo(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get('content-length') or 0)
        body = self.rfile.read(length).decode() if length else ''
        out = json.dumps({'method': self.command, 'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()}, 'body': body}).encode()
        self.send_response(200)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_DELETE = _answer
    def log_message(self, *args):
        pass
ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Echo).serve_forever()
`;

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`python3 exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${url} did not come up`);
}

async function start(args: (port: number) => string[], cwd?: string): Promise<PythonUpstream> {
  // A free port: python binds it; a collision surfaces as an exit and a retry.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn('python3', args(port), { cwd, stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(url, child);
    } catch {
      child.kill();
      continue;
    }
    return {
      url,
      close: async () => {
        if (child.exitCode === null) {
          child.kill();
          await new Promise((resolve) => child.once('exit', resolve));
        }
      },
    };
  }
  throw new Error('could not start the python upstream');
}

export function startPythonEcho(): Promise<PythonUpstream> {
  const dir = mkdtempSync(join(tmpdir(), 'behalf-echo-'));
  writeFileSync(join(dir, 'echo.py'), ECHO);
  return start((port) => [join(dir, 'echo.py'), String(port)]);
}

/** `python3 -m http.server` over a directory holding `index.html` with `content`. */
export function startPythonHttpServer(content: string): Promise<PythonUpstream> {
  const dir = mkdtempSync(join(tmpdir(), 'behalf-static-'));
  writeFileSync(join(dir, 'index.html'), content);
  return start((port) => ['-m', 'http.server', String(port), '--bind', '127.0.0.1'], dir);
}
