// End-to-end: `remote: 'auto'` and `remote: 'unix:PATH'` against the real shared daemon (issue 12).
// It fails, never skips, against a binary without --remote: an option silently ignored must not pass.
// The test has its own XDG_RUNTIME_DIR, so its own daemon, stopped afterwards.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { DaemonRuntime, processAlive, startSandboxClient, uniqueName } from './helpers.js';

let runtime;
const clients = [];
beforeEach(() => { runtime = new DaemonRuntime(); });
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  runtime.stop();
});

async function start(remote) {
  const client = await startSandboxClient({ remote, env: runtime.env });
  clients.push(client);
  return client;
}

/** The next didChange `client` emits, or a rejection after `ms`. */
function nextChange(client, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no apiKeys.didChange within ${ms} ms`)), ms);
    client.once('didChange', (change) => { clearTimeout(timer); resolve(change); });
  });
}

test("remote: 'auto' starts one daemon; a 'unix:PATH' client shares its store and gets its changes pushed", async () => {
  const first = await start('auto');
  const before = await first.list();
  const status = runtime.status();
  assert.ok(status.socket.startsWith(join(runtime.directory, 'hyperstack-rpc', 'daemon-')), status.socket);
  assert.ok(status.socket.endsWith('.sock'), status.socket);
  assert.ok(processAlive(status.pid) && status.pid !== first.pid, `daemon pid ${status.pid}`);

  const second = await start(`unix:${status.socket}`);
  const shared = runtime.status();
  assert.deepEqual([shared.pid, shared.sessions], [status.pid, 2]);
  assert.deepEqual(shared.stores.map((store) => [store.upstream, store.sessions]), [['sandbox', 2]]);

  const own = [];
  first.on('didChange', (change) => own.push(change));
  const pushed = nextChange(second, 10_000);
  const generated = await first.generate(uniqueName('node-remote'));
  // The session's own didChange still comes before its response, with the same revision.
  assert.deepEqual(own.map((change) => [change.cause, change.revision]), [['generate', generated.revision]]);
  assert.ok(generated.revision > before.revision);

  // Standalone, each --sandbox server has a sandbox of its own: only the shared daemon can show the
  // second client the first one's key, and push it with no polling.
  const change = await pushed;
  assert.deepEqual([change.cause, change.revision, change.added.map((key) => key.id)],
    ['generate', generated.revision, [generated.key.id]]);
  assert.ok(!JSON.stringify(change).includes(generated.key.secret), 'another session saw the secret');
  assert.ok((await second.list()).keys.some((key) => key.id === generated.key.id));
});
