// generate with `secretFile`, and `accessToken`, against the real hyperstack-rpc (and hyperstack-sandbox).
// With a secret file the server writes the secret to a new 0600 file and the answer carries only its
// path; the `trace` option sees every message, and none holds the secret. The access token is checked
// the strict way: a sandbox that generates only with `Authorization: Bearer TOKEN`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

import { HyperstackClient, InvalidParams, RpcError, SecretNotWritten, Unauthorized } from '../index.js';
import { SERVER_BIN, sandboxMissing, startHttpSandbox, startSandboxClient, uniqueName } from './helpers.js';

function mode(path) {
  return lstatSync(path).mode & 0o777;
}

/** Every message both ways, as JSON text, for the leak checks. */
function recorder() {
  const messages = [];
  const trace = (direction, message) => messages.push(JSON.stringify(message));
  return { messages, trace, text: () => messages.join('\n') };
}

describe('generate with secretFile', () => {
  let dir;
  let secretsDir;
  let allowed;
  let client;
  const wire = recorder();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hs-node-secrets-'));
    secretsDir = join(dir, 'secrets');
    allowed = join(dir, 'allowed');
    mkdirSync(secretsDir, { mode: 0o700 });
    mkdirSync(allowed, { mode: 0o700 });
    client = await startSandboxClient({
      args: ['--secrets-dir', secretsDir, '--allow-secrets-in', allowed],
      trace: wire.trace,
    });
  });
  after(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the capability is reported', () => {
    assert.equal(client.supportsSecretFile, true);
  });

  test('a relative path lands 0600 in --secrets-dir; the answer has the path and no secret', async () => {
    const name = uniqueName('node-secret');
    const result = await client.generate(name, 'to a file', { secretFile: 'ci/runner.key', timeout: 30_000 });
    const expected = join(secretsDir, 'ci', 'runner.key');
    assert.equal(result.secretFile, expected);
    assert.ok(isAbsolute(result.secretFile));
    assert.equal('secret' in result.key, false, 'no secret in the answer');
    assert.equal(result.key.name, name);
    assert.equal(result.key.description, 'to a file');
    assert.equal(mode(expected), 0o600);
    assert.equal(statSync(join(secretsDir, 'ci')).mode & 0o777, 0o700);
    const text = readFileSync(expected, 'utf8');
    assert.match(text, /^[^\n]+\n$/, 'the secret and a newline');
    const secret = text.slice(0, -1);
    assert.ok(result.key.maskedKey.endsWith(secret.slice(-4)));
    assert.equal(wire.text().includes(secret), false, 'the secret crossed the pipe');
    assert.equal(client.stderrTail.join('\n').includes(secret), false, 'the secret is in the server log');
    const sent = wire.messages.map((m) => JSON.parse(m)).filter((m) => m.method === 'apiKeys.generate').at(-1);
    assert.deepEqual(sent.params, { name, description: 'to a file', secretFile: 'ci/runner.key' });
  });

  test('an absolute path under --allow-secrets-in is allowed', async () => {
    const path = join(allowed, 'abs.key');
    const result = await client.generate(uniqueName('node-secret-abs'), undefined, { secretFile: path });
    assert.equal(result.secretFile, path);
    assert.equal(mode(path), 0o600);
    assert.equal(wire.text().includes(readFileSync(path, 'utf8').trim()), false);
  });

  for (const [label, requested, fragment] of [
    ['an existing file', 'taken.key', 'never overwritten'],
    ['a .. component', '../escape.key', '..'],
    ['an absolute path outside the roots', 'OUTSIDE', 'outside'],
    ['an empty path', '', 'empty'],
    ['a symlink out of the directory', 'link/x.key', 'secretFile'],
  ]) {
    test(`${label} is InvalidParams on the field secretFile, and no key is created`, async () => {
      writeFileSync(join(secretsDir, 'taken.key'), 'already here\n', { mode: 0o600 });
      const elsewhere = join(dir, 'elsewhere');
      mkdirSync(elsewhere, { recursive: true, mode: 0o700 });
      if (!existsSync(join(secretsDir, 'link'))) symlinkSync(elsewhere, join(secretsDir, 'link'));
      const path = requested === 'OUTSIDE' ? join(dir, 'outside.key') : requested;
      const before = (await client.list({ refresh: true })).keys.map((key) => key.id);
      await assert.rejects(client.generate(uniqueName('node-refused'), null, { secretFile: path }), (error) => {
        assert.ok(error instanceof InvalidParams && error instanceof RpcError, String(error));
        assert.equal(error.code, -32602);
        assert.equal(error.data?.field, 'secretFile');
        assert.ok(error.message.includes(fragment), error.message);
        return true;
      });
      assert.deepEqual((await client.list({ refresh: true })).keys.map((key) => key.id), before);
      assert.equal(readFileSync(join(secretsDir, 'taken.key'), 'utf8'), 'already here\n');
      assert.deepEqual(readdirSync(elsewhere), []);
      assert.equal(existsSync(join(dir, 'outside.key')) || existsSync(join(dir, 'escape.key')), false);
    });
  }

  test('a non-string secretFile is a TypeError, and nothing is sent', async () => {
    const count = wire.messages.length;
    await assert.rejects(client.generate('node-bad-type', null, { secretFile: 42 }), TypeError);
    assert.equal(wire.messages.length, count);
  });

  test('without secretFile the old signature still returns the secret', async () => {
    const result = await client.generate(uniqueName('node-inline'), 'inline', { timeout: 30_000 });
    assert.equal(typeof result.key.secret, 'string');
    assert.equal(result.secretFile, undefined);
  });
});

test('a key whose file cannot be written rejects with SecretNotWritten (1505) naming the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hs-node-nofile-'));
  try {
    const secretsDir = join(dir, 'secrets');
    mkdirSync(secretsDir, { mode: 0o700 });
    // ulimit -f 0: the file can be created but not written, as on a full disk.
    const wrapper = join(dir, 'no-room.sh');
    writeFileSync(wrapper, `#!/bin/sh\ntrap "" XFSZ\nulimit -f 0\nexec "${SERVER_BIN}" "$@"\n`);
    chmodSync(wrapper, 0o700);
    const client = await startSandboxClient({ path: wrapper, args: ['--secrets-dir', secretsDir] });
    try {
      const name = uniqueName('node-lost');
      const error = await client.generate(name, null, { secretFile: 'lost.key' }).then(
        () => assert.fail('generate should have failed'), (e) => e);
      assert.ok(error instanceof SecretNotWritten && error instanceof RpcError, String(error));
      assert.equal(error.code, 1505);
      assert.equal(error.data.key.name, name);
      assert.equal(error.data.secretFile, join(secretsDir, 'lost.key'));
      assert.equal(existsSync(join(secretsDir, 'lost.key')), false, 'the partial file is removed');
      const ids = (await client.list({ refresh: true })).keys.map((key) => key.id);
      assert.ok(ids.includes(error.data.key.id), 'the key was created: the error names it so it can be deleted');
      await client.delete(error.data.key.id);
    } finally {
      await client.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('accessToken', { skip: sandboxMissing() }, () => {
  const apiKey = `nodekey${randomBytes(16).toString('hex')}`;
  const token = `nodetok${randomBytes(20).toString('hex')}`;
  let sandbox;
  before(async () => {
    sandbox = await startHttpSandbox('--api-key', apiKey, '--access-token', token, '--generate-requires-access-token');
  });
  after(() => sandbox?.stop());

  const options = (extra) => ({
    path: SERVER_BIN,
    baseUrl: sandbox.baseUrl,
    apiKey,
    env: { HYPERSTACK_ACCESS_TOKEN: undefined, HYPERSTACK_RPC_REMOTE: undefined, HYPERSTACK_API_URL: undefined },
    ...extra,
  });

  test('without it this sandbox refuses generate (so the next test is not vacuous)', async () => {
    const client = await HyperstackClient.start(options());
    try {
      await assert.rejects(client.generate(uniqueName('node-no-token')), Unauthorized);
    } finally {
      await client.close();
    }
  });

  test('it reaches the server through the environment, never the argv', async () => {
    const wire = recorder();
    const client = await HyperstackClient.start(options({ accessToken: token, trace: wire.trace }));
    try {
      const cmdline = readFileSync(`/proc/${client.pid}/cmdline`, 'utf8');
      assert.equal(cmdline.includes(token), false, 'the token is on the argv');
      assert.equal(cmdline.includes(apiKey), false, 'the key is on the argv');
      const environ = readFileSync(`/proc/${client.pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes(`HYPERSTACK_ACCESS_TOKEN=${token}`));
      const result = await client.generate(uniqueName('node-with-token'));
      assert.equal(typeof result.key.secret, 'string', 'generate succeeded: the bearer token arrived');
      assert.equal(wire.text().includes(token), false, 'the token is in a message');
      assert.equal(client.stderrTail.join('\n').includes(token), false, 'the token is in the server log');
    } finally {
      await client.close();
    }
  });
});
