"""A Client(sandbox=True) session on the wheel's bundled server, and the lookup order.

    python session.py BUNDLED_DIR VERSION        (test_wheel.sh runs it in a fresh venv)
"""

import os
import sys
from importlib.metadata import version as installed_version

import hyperstack_rpc
from hyperstack_rpc import Client, resolve_binary

bundled, version = sys.argv[1], sys.argv[2]
server = os.path.join(bundled, "hyperstack-rpc")
# The version, from its one source, in the metadata and the package.
assert installed_version("hyperstack-rpc") == version, f"the wheel's metadata says {installed_version('hyperstack-rpc')}"
assert hyperstack_rpc.__version__ == version, hyperstack_rpc.__version__
assert resolve_binary() == server, f"resolve_binary() is {resolve_binary()}, not the bundled {server}"
with Client(sandbox=True) as client:
    assert os.readlink(f"/proc/{client.pid}/exe") == server, os.readlink(f"/proc/{client.pid}/exe")
    assert client.server_info["serverInfo"] == {"name": "hyperstack-rpc", "version": version}, client.server_info
    created = client.generate("wheel-test", "from the wheel test")
    assert created.secret and created.key.name == "wheel-test", created
    assert [key.name for key in client.list().keys] == ["wheel-test"], client.list()
    assert client.delete(created.key.id).id == created.key.id
    assert len(client.list().keys) == 0
# The order: an explicit path, then $HYPERSTACK_RPC_BIN, then the bundled binary, then PATH.
os.environ["HYPERSTACK_RPC_BIN"] = "/bin/true"
assert resolve_binary() == "/bin/true" and resolve_binary("/bin/false") == "/bin/false"
os.environ["HYPERSTACK_RPC_BIN"] = ""
assert resolve_binary() == server
print("session and lookup order: ok")
