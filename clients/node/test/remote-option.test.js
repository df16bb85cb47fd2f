// The `remote` option without a server: what the client really spawns, and what it refuses.
// The "server" is a stand-in script that writes down the argv and environment it got, then exits 7.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HyperstackClient, ServerDiedError } from '../index.js';

const REMOTE_ENV = 'HYPERSTACK_RPC_REMOTE';

describe('the remote option', () => {
  let dir;
  let recorder;
  const record = () => join(dir, 'record.json');
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hs-node-remote-'));
    recorder = join(dir, 'fake-hyperstack-rpc');
    writeFileSync(recorder, `#!${process.execPath}
require('node:fs').writeFileSync(process.env.RECORD_TO, JSON.stringify({ argv: process.argv.slice(2), env: process.env }));
process.exit(7);
`);
    chmodSync(recorder, 0o700);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts a client on the recorder; resolves to the argv (without the binary) and environment it got. */
  async function spawned(options) {
    rmSync(record(), { force: true });
    await assert.rejects(
      HyperstackClient.start({ ...options, path: recorder, env: { ...options.env, RECORD_TO: record() } }),
      (error) => error instanceof ServerDiedError && error.exitCode === 7,
    );
    return JSON.parse(readFileSync(record(), 'utf8'));
  }

  /** Runs `body` with HYPERSTACK_RPC_REMOTE set to `value` (undefined: unset) in this process's environment. */
  async function withCallerRemote(value, body) {
    const saved = process.env[REMOTE_ENV];
    if (value === undefined) delete process.env[REMOTE_ENV]; else process.env[REMOTE_ENV] = value;
    try {
      return await body();
    } finally {
      if (saved === undefined) delete process.env[REMOTE_ENV]; else process.env[REMOTE_ENV] = saved;
    }
  }

  for (const remote of ['auto', 'unix:/run/user/1000/hyperstack-rpc/daemon-0123456789abcdef.sock']) {
    test(`remote: ${remote} becomes --remote, and the API key stays in the environment`, () => withCallerRemote(undefined, async () => {
      const { argv, env } = await spawned({ remote, apiKey: 'k-secret-123', baseUrl: 'http://127.0.0.1:1/v1' });
      assert.deepEqual(argv, ['--framing', 'lsp', '--remote', remote, '--base-url', 'http://127.0.0.1:1/v1']);
      assert.ok(!argv.join(' ').includes('k-secret-123'));
      assert.equal(env.HYPERSTACK_API_KEY, 'k-secret-123');
      assert.equal(env[REMOTE_ENV], undefined);
    }));
  }

  test('no remote (undefined or null) is standalone and passes nothing', () => withCallerRemote(undefined, async () => {
    for (const remote of [undefined, null]) {
      const { argv, env } = await spawned({ remote, sandbox: true });
      assert.deepEqual(argv, ['--framing', 'lsp', '--sandbox']);
      assert.equal(env[REMOTE_ENV], undefined);
    }
  }));

  test('no remote leaves the caller\'s HYPERSTACK_RPC_REMOTE to the server; remote and env override it', () => withCallerRemote('auto', async () => {
    let { argv, env } = await spawned({ sandbox: true });
    assert.ok(!argv.includes('--remote'));
    assert.equal(env[REMOTE_ENV], 'auto'); // the server reads it itself
    ({ argv } = await spawned({ sandbox: true, remote: 'unix:/tmp/other.sock' }));
    assert.equal(argv[argv.indexOf('--remote') + 1], 'unix:/tmp/other.sock');
    ({ argv, env } = await spawned({ sandbox: true, env: { [REMOTE_ENV]: undefined } }));
    assert.ok(!argv.includes('--remote'));
    assert.equal(env[REMOTE_ENV], undefined);
  }));

  for (const remote of ['', 'AUTO', ' auto', 'auto ', 'unix:', 'unix', 'unix:/tmp/a\0b', 'tcp:127.0.0.1:1', 1, true, {}]) {
    test(`remote: ${JSON.stringify(remote)} is a TypeError before anything is spawned`, async () => {
      const expected = (error) => error instanceof TypeError
        && /remote must be undefined .*'auto'.*'unix:PATH'.*, not /.test(error.message);
      // A path that does not exist: reaching spawn would be a ServerDiedError instead.
      assert.throws(() => new HyperstackClient({ path: '/nonexistent/hyperstack-rpc', remote }), expected);
      await assert.rejects(HyperstackClient.start({ path: '/nonexistent/hyperstack-rpc', remote }), expected);
    });
  }
});
