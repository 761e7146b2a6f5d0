"""Import benchmark: `python -m bench import`.

Generates its own inputs: a 3,500-row public-sector AI inventory (the columns of
examples/import/ai-inventory.csv, read through that example's mapping) and an ArchiMate exchange
file of 1,000 elements and 2,000 relationships. Times, each in a child process as a user runs
them, `tomgraph import mapped` and the `tomgraph load` of its output (target: both under 10 s),
and `tomgraph import archimate` (target: under 5 s). Floors measured in the same run: the start-up
of the CLI (`tomgraph --help`, paid by every command), and the plain write of the loaded bundle
(bench/load.py's floor)."""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from bench.common import database, run_child
from graph.sync import delete_scenario

REPO = Path(__file__).resolve().parent.parent
MAPPING = REPO / "examples" / "import" / "ai-inventory.mapping.yaml"
SCENARIO = "bench-import"
FLOOR_SCENARIO = "bench-floor"
STAGES = (
    "Initiated",
    "Acquisition and/or Development",
    "Implementation and Assessment",
    "Operation and Maintenance",
    "Retired",
)
IMPACTS = ("Rights-Impacting", "Safety-Impacting", "Both", "Neither", "Neither", "Neither")


def write_inventory(path: Path, rows: int, seed: int = 0) -> None:
    """An inventory CSV of `rows` use cases over 25 agencies, 150 bureaus and 120 vendors."""
    import csv

    rng = random.Random(seed)
    header = [
        "Use Case ID",
        "Agency",
        "Agency Abbreviation",
        "Bureau",
        "Use Case Name",
        "Topic Area",
        "Stage of Development",
        "Development Method",
        "Vendor Name",
        "Rights-Impacting or Safety-Impacting",
    ]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(rows):
            agency = rng.randrange(25)
            vendors = "; ".join(f"Vendor {rng.randrange(120)}" for _ in range(rng.choice((0, 1, 1, 2))))
            writer.writerow(
                [
                    f"AG{agency}-{i:05d}",
                    f"Agency {agency}",
                    f"AG{agency}",
                    f"Bureau {agency}.{rng.randrange(6)}",
                    f"Use case {i}",
                    rng.choice(("Government Services", "Mission-Enabling", "Health", "Law and Justice")),
                    rng.choice(STAGES),
                    rng.choice(("Developed in-house", "Developed with contracting resources")),
                    vendors,
                    rng.choice(IMPACTS),
                ]
            )


def write_archimate(path: Path, elements: int, seed: int = 0) -> None:
    """An exchange file (3.x) of `elements` elements of the mapped types and twice as many relationships."""
    rng = random.Random(seed)
    kinds = ("BusinessActor", "BusinessRole", "ApplicationComponent", "DataObject", "BusinessProcess", "Node")
    ids = [f"id-e{i}" for i in range(elements)]
    types = {i: kinds[n % len(kinds)] for n, i in enumerate(ids)}
    by_type: dict[str, list[str]] = {}
    for element_id, kind in types.items():
        by_type.setdefault(kind, []).append(element_id)
    rules = [
        ("Assignment", "BusinessActor", "BusinessRole"),
        ("Assignment", "BusinessRole", "BusinessProcess"),
        ("Serving", "ApplicationComponent", "ApplicationComponent"),
        ("Serving", "ApplicationComponent", "BusinessProcess"),
        ("Access", "BusinessProcess", "DataObject"),
        ("Access", "ApplicationComponent", "DataObject"),
        ("Composition", "BusinessActor", "BusinessActor"),
        ("Serving", "Node", "ApplicationComponent"),
    ]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<model xmlns="http://www.opengroup.org/xsd/archimate/3.0/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" identifier="id-model">',
        '<name xml:lang="en">benchmark</name>',
        "<elements>",
    ]
    for n, element_id in enumerate(ids):
        props = ""
        if types[element_id] == "ApplicationComponent" and n % 4 == 0:
            props = '<properties><property propertyDefinitionRef="pd-ai"><value>true</value></property></properties>'
        out.append(
            f'<element identifier="{element_id}" xsi:type="{types[element_id]}">'
            f"<name>{escape(f'Element {n}')}</name>{props}</element>"
        )
    out.append("</elements><relationships>")
    for n in range(2 * elements):
        rel, source_type, target_type = rules[n % len(rules)]
        source, target = rng.choice(by_type[source_type]), rng.choice(by_type[target_type])
        out.append(f'<relationship identifier="id-r{n}" source="{source}" target="{target}" xsi:type="{rel}"/>')
    out.append("</relationships>")
    out.append(
        '<propertyDefinitions><propertyDefinition identifier="pd-ai" type="boolean"><name>ai</name>'
        "</propertyDefinition></propertyDefinitions></model>"
    )
    path.write_text("\n".join(out), encoding="utf-8")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the child, its peak RSS in MB) of `python -m …args`."""
    cpu = _children_cpu()
    wall, rss = run_child(args)
    return wall, _children_cpu() - cpu, rss


def _floor_child(bundle: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--floor-child", bundle], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(rows: int, elements: int) -> dict[str, object]:
    db = database()
    with tempfile.TemporaryDirectory(prefix="tomgraph-bench-import-") as tmp:
        work = Path(tmp)
        inventory, bundle = work / "inventory.csv", work / "inventory.yaml"
        model, model_bundle = work / "model.xml", work / "model.yaml"
        write_inventory(inventory, rows)
        write_archimate(model, elements)
        try:
            for scenario in (SCENARIO, FLOOR_SCENARIO):
                delete_scenario(db, scenario)
            startup_s, startup_cpu, _ = _timed(["cli.main", "--help"])
            mapped_s, mapped_cpu, mapped_rss = _timed(
                ["cli.main", "import", "mapped", str(inventory), "--map", str(MAPPING), "--out", str(bundle)]
            )
            load_s, load_cpu, _ = _timed(["cli.main", "load", str(bundle), "--scenario", SCENARIO, "--quiet"])
            floor = _floor_child(str(bundle))
            archimate_s, archimate_cpu, _ = _timed(
                ["cli.main", "import", "archimate", str(model), "--out", str(model_bundle)]
            )
        finally:
            for scenario in (SCENARIO, FLOOR_SCENARIO):
                delete_scenario(db, scenario)
            db.close()
    return {
        "inventory_rows": rows,
        "cli_startup": {"s": round(startup_s, 2), "cpu_s": round(startup_cpu, 2)},
        "import_mapped": {"s": round(mapped_s, 2), "cpu_s": round(mapped_cpu, 2), "peak_rss_mb": round(mapped_rss, 1)},
        "load": {"s": round(load_s, 2), "cpu_s": round(load_cpu, 2)},
        "mapped_plus_load_s": round(mapped_s + load_s, 2),
        "load_floor": floor,
        "load_ratio_to_floor": round(load_s / floor["seconds"], 2),
        "archimate_elements": elements,
        "archimate_relationships": 2 * elements,
        "import_archimate": {"s": round(archimate_s, 2), "cpu_s": round(archimate_cpu, 2)},
        "import_archimate_ratio_to_startup": round(archimate_s / startup_s, 2),
        "targets_met": mapped_s + load_s < 10 and archimate_s < 5,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench import")
    parser.add_argument("--rows", type=int, default=3500)
    parser.add_argument("--elements", type=int, default=1000)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.rows, args.elements)))


if __name__ == "__main__":
    main(sys.argv[1:])
