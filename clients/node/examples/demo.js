// The Node example: drive hyperstack-rpc against its embedded sandbox and show what happens.
//
//   node examples/demo.js            (in this folder, or in a project that installed the package)
//
// It lists the keys, generates one (the secret comes back exactly once), renames it, deletes it,
// and prints every apiKeys.didChange notification as it arrives. The server is found as the
// client always finds it: $HYPERSTACK_RPC_BIN, else the binary the npm package carries, else
// `hyperstack-rpc` on PATH. It imports the package by name, so the same file runs here (a
// package may import itself) and, copied, in a project that ran `npm install hyperstack-rpc-*.tgz`.
import { HyperstackClient } from 'hyperstack-rpc';

const client = await HyperstackClient.start({ sandbox: true, args: ['--log-level', 'warning'] });
try {
  const { name, version } = client.serverInfo;
  console.log(`connected to ${name} ${version} (embedded sandbox)`);
  client.on('didChange', (change) => {
    const parts = [];
    if (change.added.length) parts.push(`added ${change.added.map((key) => `#${key.id} '${key.name}'`).join(', ')}`);
    if (change.updated.length) parts.push(`updated ${change.updated.map((key) => `#${key.id} '${key.name}'`).join(', ')}`);
    if (change.removed.length) parts.push(`removed ${change.removed.map((id) => `#${id}`).join(', ')}`);
    console.log(`  ↳ didChange revision ${change.revision} (${change.cause}): ${parts.join('; ')}`);
  });

  let listing = await client.list();
  console.log(`list: ${listing.keys.length} keys at revision ${listing.revision}`);

  const created = await client.generate('demo-key', 'made by the demo');
  const { secret } = created.key;
  console.log(`generate: #${created.key.id} '${created.key.name}', revision ${created.revision}`);
  console.log(`  secret returned once: ${secret.slice(0, 4)}…${secret.slice(-4)} (${secret.length} characters; store it now)`);

  listing = await client.list();
  for (const key of listing.keys) console.log(`list: #${key.id} '${key.name}' masked as ${key.maskedKey} (fromCache=${listing.fromCache})`);

  const renamed = await client.update(created.key.id, 'demo-key-renamed');
  console.log(`update: #${renamed.key.id} is now '${renamed.key.name}'`);

  const deleted = await client.delete(created.key.id);
  console.log(`delete: #${deleted.id}, revision ${deleted.revision}`);

  console.log(`list: ${(await client.list()).keys.length} keys left`);
} finally {
  await client.close();
}
console.log('done: the server shut down cleanly');
