// Sessions through the installed npm package, on the binaries it carries.
//
//   node session.mjs VERSION RUNTIME_DIR      (test_npm.sh runs it in the project that installed the tarball)
//
// A standalone sandbox session runs node_modules/hyperstack-rpc/bin/hyperstack-rpc; a remote: 'auto'
// one, in the private RUNTIME_DIR, has become the thin forwarder beside it by the time it answers.
// Then the lookup order: the path option, then $HYPERSTACK_RPC_BIN, then the bundled binary.
import assert from 'node:assert/strict';
import { readlinkSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { HyperstackClient } from 'hyperstack-rpc';

const [version, runtimeDir] = process.argv.slice(2);
const packageDir = realpathSync(dirname(createRequire(import.meta.url).resolve('hyperstack-rpc/package.json')));
const server = join(packageDir, 'bin', 'hyperstack-rpc');
// Not exported by the package (its exports are "." and package.json), so imported by its file.
const { resolveBinary } = await import(pathToFileURL(join(packageDir, 'src', 'client.js')).href);
const exe = (client) => readlinkSync(`/proc/${client.pid}/exe`);

let client = await HyperstackClient.start({ sandbox: true });
try {
  assert.equal(exe(client), server, 'a sandbox session runs the bundled hyperstack-rpc');
  assert.deepEqual(client.serverInfo, { name: 'hyperstack-rpc', version });
  const { key } = await client.generate('npm-test', 'from the npm test');
  assert.ok(key.secret);
  assert.deepEqual((await client.list()).keys.map((k) => k.name), ['npm-test']);
  await client.delete(key.id);
} finally {
  await client.close();
}

client = await HyperstackClient.start({ sandbox: true, remote: 'auto', env: { XDG_RUNTIME_DIR: runtimeDir } });
try {
  assert.deepEqual((await client.list()).keys, []);
  assert.equal(exe(client), join(packageDir, 'bin', 'hyperstack-rpc-forwarder'), 'a remote session runs the bundled forwarder');
} finally {
  await client.close();
}

assert.equal(resolveBinary(undefined, { env: {} }), server);
assert.equal(resolveBinary(undefined, { env: { HYPERSTACK_RPC_BIN: '/bin/true' } }), '/bin/true');
assert.equal(resolveBinary('/bin/false', { env: { HYPERSTACK_RPC_BIN: '/bin/true' } }), '/bin/false');
console.log('sessions and lookup order: ok');
