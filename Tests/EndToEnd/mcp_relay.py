"""Run a command and relay its stdio, recording every line both ways: the MCP transcript.

Usage: python3 mcp_relay.py TRANSCRIPT_DIR COMMAND [ARGS...]

The SDK clients spawn this instead of hyperstack-rpc, so a test can read exactly what crossed
the wire (client.jsonl, server.jsonl) and the server's stderr (stderr.log), then scan them for
secrets or check that a cancelled request got no response. Ends when the command does, with
its exit status; closes the command's stdin when its own stdin closes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading


def main() -> int:
    directory, command = sys.argv[1], sys.argv[2:]
    os.makedirs(directory, exist_ok=True)
    stderr = open(os.path.join(directory, "stderr.log"), "ab")
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)

    def client_to_server() -> None:
        with open(os.path.join(directory, "client.jsonl"), "ab") as record:
            for line in sys.stdin.buffer:
                record.write(line)
                record.flush()
                try:
                    child.stdin.write(line)
                    child.stdin.flush()
                except BrokenPipeError:
                    break
        try:
            child.stdin.close()
        except BrokenPipeError:
            pass

    threading.Thread(target=client_to_server, daemon=True).start()
    with open(os.path.join(directory, "server.jsonl"), "ab") as record:
        for line in child.stdout:
            record.write(line)
            record.flush()
            try:
                sys.stdout.buffer.write(line)
                sys.stdout.buffer.flush()
            except BrokenPipeError:
                break
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
