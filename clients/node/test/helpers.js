// Shared setup for tests that run the real hyperstack-rpc binary in sandbox mode.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { HyperstackClient } from '../index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** $HYPERSTACK_RPC_BIN, else the debug build of this repository. */
export const SERVER_BIN = process.env.HYPERSTACK_RPC_BIN ?? resolve(here, '../../../.build/debug/hyperstack-rpc');

/** $HYPERSTACK_SANDBOX_BIN, else the hyperstack-sandbox beside the server binary. */
export const SANDBOX_BIN = process.env.HYPERSTACK_SANDBOX_BIN ?? join(dirname(SERVER_BIN), 'hyperstack-sandbox');

/** CI sets this: a missing binary then fails the test instead of skipping it. */
export const IN_CI = !['', '0', 'false', 'no'].includes((process.env.CI ?? '').trim().toLowerCase());

/** A `skip` value for tests that need hyperstack-sandbox: the reason when it is missing (never in CI). */
export function sandboxMissing() {
  return !IN_CI && !existsSync(SANDBOX_BIN) ? `hyperstack-sandbox not found at ${SANDBOX_BIN} (set HYPERSTACK_SANDBOX_BIN)` : false;
}

/**
 * A real `hyperstack-sandbox` serving the upstream API over HTTP on a free port, with `args` added.
 * Resolves once it has printed its base URL; `stop()` ends it.
 */
export async function startHttpSandbox(...args) {
  const child = spawn(SANDBOX_BIN, ['--host', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.resume();
  const baseUrl = await new Promise((resolveUrl, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('hyperstack-sandbox printed no URL in 30 s')), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`hyperstack-sandbox exited ${code} before printing its URL`)));
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        child.stdout.resume();
        resolveUrl(text.slice(0, newline).trim());
      }
    });
  });
  child.removeAllListeners('exit');
  return {
    baseUrl,
    stop: () => new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
    }),
  };
}

export function requireServer() {
  if (!existsSync(SERVER_BIN)) {
    throw new Error(`hyperstack-rpc not found at ${SERVER_BIN}. Run \`swift build\` in the repository root or set HYPERSTACK_RPC_BIN.`);
  }
}

/**
 * A sandboxed client with the test-only methods enabled. Any API key from the
 * developer's environment is removed so a test can never reach the real API.
 */
export async function startSandboxClient(options = {}) {
  requireServer();
  return HyperstackClient.start({
    path: SERVER_BIN,
    sandbox: true,
    ...options,
    env: { HYPERSTACK_API_KEY: undefined, HYPERSTACK_API_URL: undefined, HYPERSTACK_RPC_TEST_METHODS: '1', ...options.env },
  });
}

/** Unique-per-run key name so repeated runs against a persistent sandbox do not collide. */
export function uniqueName(prefix) {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * One test's XDG_RUNTIME_DIR (a fresh 0700 directory), so no two tests share a daemon; `env` goes
 * to every client and command of the test. It sits directly in the temporary directory because a
 * socket path must fit in 108 bytes. `stop()` ends the daemon started in it, if any
 * (`daemon stop --remote unix:SOCKET`, else SIGKILL to its pid), and removes the directory.
 */
export class DaemonRuntime {
  constructor() {
    this.directory = mkdtempSync(join(tmpdir(), 'hs-xdg-'));
    chmodSync(this.directory, 0o700);
    this.env = { XDG_RUNTIME_DIR: this.directory, HYPERSTACK_RPC_REMOTE: undefined };
  }

  /** Runs `hyperstack-rpc ...args` in this runtime, stdin empty, at most 30 s. */
  command(...args) {
    const env = { ...process.env, ...this.env };
    for (const name of ['HYPERSTACK_RPC_REMOTE', 'HYPERSTACK_API_KEY']) delete env[name];
    return spawnSync(SERVER_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
  }

  /** `daemon status`'s one JSON object; throws unless it exits 0 with exactly that. */
  status() {
    const done = this.command('daemon', 'status');
    if (done.status !== 0) throw new Error(`daemon status exited ${done.status}; stderr: ${done.stderr.slice(-2000)}`);
    return JSON.parse(done.stdout);
  }

  stop() {
    try {
      const done = this.command('daemon', 'status');
      if (done.status !== 0) return; // 3: no daemon; anything else: a binary without the daemon, which started none
      const { pid, socket } = JSON.parse(done.stdout);
      // `daemon stop` returns once the daemon is gone (it waits up to about 15 s for that).
      const stopped = this.command('daemon', 'stop', '--remote', `unix:${socket}`);
      if (stopped.status === 0 && !processAlive(pid)) return;
      const left = processAlive(pid);
      if (left) process.kill(pid, 'SIGKILL');
      throw new Error(`daemon stop exited ${stopped.status}${left ? ` and left pid ${pid} running (killed)` : ''}; `
        + `stderr: ${stopped.stderr.slice(-2000)}`);
    } finally {
      rmSync(this.directory, { recursive: true, force: true });
    }
  }
}

/** Whether `pid` runs; a zombie (a detached daemon nobody has reaped yet) counts as gone. */
export function processAlive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 1).trim().split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}
