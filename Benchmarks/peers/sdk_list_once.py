"""Row 7's peer: the official SDK lists the keys once from a fresh Python process, then exits.

The shell one-shot as a script would write it: import the SDK, configure it, one
`ApiKeyApi.get_api_key()` against the HTTP sandbox, print the keys as JSON (as
`hyperstack-rpc call apiKeys.list` does), exit. Imports nothing the task does not need,
so the process start is the SDK's own cost. The key comes from HYPERSTACK_API_KEY, as
ours does; a wrong key count exits 1, which spawntime counts as a failure.

    HYPERSTACK_API_KEY=... python sdk_list_once.py BASE_URL
"""

import json
import os
import sys

import hyperstack

EXPECTED_KEYS = 20


def main() -> int:
    configuration = hyperstack.Configuration(host=sys.argv[1])
    configuration.api_key["apiKey"] = os.environ["HYPERSTACK_API_KEY"]
    keys = hyperstack.ApiKeyApi(hyperstack.ApiClient(configuration)).get_api_key().api_keys or []
    sys.stdout.write(json.dumps({"keys": [key.to_dict() for key in keys]}, default=str) + "\n")
    if len(keys) != EXPECTED_KEYS:
        print(f"sdk_list_once: expected {EXPECTED_KEYS} keys, got {len(keys)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
