"""The throughput and round-trip peer: a JSON-RPC server built the way pylsp builds one.

It uses python-lsp-jsonrpc (``pylsp_jsonrpc``) exactly as the Python LSP Server does:
``JsonRpcStreamReader`` on stdin, ``JsonRpcStreamWriter`` on stdout (LSP
Content-Length framing), and an ``Endpoint`` whose dispatcher answers synchronously.
``apiKeys.list`` returns the same result object hyperstack-rpc returned for the
same 20 keys (read from the file given as the only argument, captured by the bench
from the real server), so both sides serialise the same payload; ``$/ping`` returns {}.

    python pylsp_peer.py LIST_RESULT.json
"""

import json
import sys

from pylsp_jsonrpc.endpoint import Endpoint
from pylsp_jsonrpc.streams import JsonRpcStreamReader, JsonRpcStreamWriter


def main() -> None:
    with open(sys.argv[1], "rb") as handle:
        list_result = json.loads(handle.read())["result"]

    dispatcher = {
        "initialize": lambda params: {"serverInfo": {"name": "pylsp-jsonrpc-peer", "version": "0"}, "capabilities": {}},
        "apiKeys.list": lambda params: list_result,
        "$/ping": lambda params: {},
        "shutdown": lambda params: None,
    }
    writer = JsonRpcStreamWriter(sys.stdout.buffer)
    reader = JsonRpcStreamReader(sys.stdin.buffer)
    endpoint = Endpoint(dispatcher, writer.write)
    reader.listen(endpoint.consume)  # returns at end of input
    endpoint.shutdown()


if __name__ == "__main__":
    main()
