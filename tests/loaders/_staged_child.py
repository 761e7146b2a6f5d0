"""A staged loader for the kill tests: loads BUNDLE into SCENARIO with every load staged
(`tx_max_rows=1`), says where it is on stdout, and stops at POINT until it is killed.

POINT `staging`: after the first staged batch is committed (the scenario itself untouched);
`switched`: right after the switch committed, before the old version is deleted."""

from __future__ import annotations

import sys
import time

from graph.db import Database
from graph.settings import Settings
from graph.sync import digest_of, sync_scenario
from loaders import limits_from, read_bundle


def main(path: str, scenario: str, point: str) -> None:
    settings = Settings()
    bundle = read_bundle(path, limits_from(settings))
    print("read", flush=True)

    def progress(done: int, total: int) -> None:
        print(f"step {done}/{total}", flush=True)
        if (point == "staging" and done == 1) or (point == "switched" and done == total):
            print(point, flush=True)
            time.sleep(600)

    with Database.from_settings(settings, start_local=False) as db:
        sync_scenario(
            db, scenario, bundle.entities, bundle_digest=digest_of(bundle.entities), progress=progress, tx_max_rows=1
        )
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
