"""The main job: drive hyperstack-rpc against its embedded sandbox and show what happens.

    python3 clients/python/examples/demo.py [--binary PATH]

It lists the keys, generates one (the secret comes back exactly once), renames it,
deletes it, and prints every apiKeys.didChange notification as it arrives.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# In a checkout, use the client beside this file; a copy elsewhere uses the installed package.
SOURCE = Path(__file__).resolve().parents[1] / "src"
if (SOURCE / "hyperstack_rpc").is_dir():
    sys.path.insert(0, str(SOURCE))

from hyperstack_rpc import Client, KeyChange  # noqa: E402


def show_change(change: KeyChange) -> None:
    parts = []
    if change.added:
        parts.append("added " + ", ".join(f"#{key.id} {key.name!r}" for key in change.added))
    if change.updated:
        parts.append("updated " + ", ".join(f"#{key.id} {key.name!r}" for key in change.updated))
    if change.removed:
        parts.append("removed " + ", ".join(f"#{key_id}" for key_id in change.removed))
    print(f"  ↳ didChange revision {change.revision} ({change.cause}): {'; '.join(parts)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--binary",
        help="the hyperstack-rpc executable (default: the client's lookup: $HYPERSTACK_RPC_BIN, else the "
        "binary the wheel carries, else a checkout's .build, else PATH)",
    )
    args = parser.parse_args()

    with Client(args.binary, sandbox=True, extra_args=["--log-level", "warning"]) as client:
        info = client.server_info["serverInfo"]
        print(f"connected to {info['name']} {info['version']} (embedded sandbox)")
        client.on_change(show_change)

        listing = client.list()
        print(f"list: {len(listing.keys)} keys at revision {listing.revision}")

        created = client.generate("demo-key", "made by the demo")
        secret = created.secret
        print(f"generate: #{created.key.id} {created.key.name!r}, revision {created.revision}")
        print(f"  secret returned once: {secret[:4]}…{secret[-4:]} ({len(secret)} characters; store it now)")

        listing = client.list()
        for key in listing.keys:
            print(f"list: #{key.id} {key.name!r} masked as {key.masked_key} (fromCache={listing.from_cache})")

        renamed = client.update(created.key.id, "demo-key-renamed")
        print(f"update: #{renamed.id} is now {renamed.name!r}")

        deleted = client.delete(created.key.id)
        print(f"delete: #{deleted.id}, revision {deleted.revision}")

        print(f"list: {len(client.list().keys)} keys left")
    print("done: the server shut down cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
