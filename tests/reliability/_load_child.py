"""A loader process for fault tests: loads BUNDLE into SCENARIO and says where it is on stdout.

Lines: `read` once the bundle is validated, `step D/N` after each written batch, `commit` once
the last batch is written (the transaction's final statement and commit come next), `done`."""

from __future__ import annotations

import sys

from graph.db import Database
from graph.settings import Settings
from graph.sync import digest_of, sync_scenario
from loaders import limits_from, read_bundle


def main(path: str, scenario: str) -> None:
    settings = Settings()
    bundle = read_bundle(path, limits_from(settings))
    print("read", flush=True)

    def progress(done: int, total: int) -> None:
        print(f"step {done}/{total}", flush=True)
        if done == total:
            print("commit", flush=True)

    with Database.from_settings(settings, start_local=False) as db:
        sync_scenario(db, scenario, bundle.entities, bundle_digest=digest_of(bundle.entities), progress=progress)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
