"""Runs the DfE SSDA903 rules (PyPI csc-validator-be-903, lac_validator) on an export.

Usage: validate903.py DIR YEAR LA_ONS_CODE [EXCLUDED_RULE ...]

Rule 218 (URN required) is counted without short-break rows (LS V3/V4): rule 214 forbids a
URN on them, so no short-break foster placement can pass both.

Reads DIR/header.csv, episodes.csv, uasc.csv and oc2.csv as "This year" files (no previous
year), runs the rule set of the collection year, and prints every error in a rule that
touches the Header, Episodes or OC2 tables, with its count and message. Exits 1 when any
such rule not excluded found an error or failed to run, else 0.
"""
import importlib
import logging
import sys
from pathlib import Path

logging.disable(logging.CRITICAL)

from lac_validator import lac_validator  # noqa: E402
from lac_validator.utils import process_uploaded_files  # noqa: E402

IN_SCOPE = {"Header", "Episodes", "OC2"}
# VALIDATE903_SHOW=N prints the first N rows behind each error (a child's rows: never in CI logs).
SHOW = int(__import__("os").environ.get("VALIDATE903_SHOW", "0"))


def ruleset_for(year: int) -> str:
    """lac2025_26 for the year ending 31 March 2026; the newest set the package has."""
    wanted = f"lac{year - 1}_{str(year)[2:]}"
    rules = Path(importlib.import_module("lac_validator").__file__).parent / "rules"
    have = sorted(p.name for p in rules.iterdir() if p.is_dir() and p.name.startswith("lac"))
    return wanted if wanted in have else max(n for n in have if n <= wanted)


def main() -> int:
    out, year, la = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    excluded = set(sys.argv[4:])
    files = [str(out / f) for f in ("header.csv", "episodes.csv", "uasc.csv", "oc2.csv")]
    uploaded = process_uploaded_files({"This year": files})
    ruleset = ruleset_for(year)
    registry = importlib.import_module(f"lac_validator.rules.{ruleset}").registry
    metadata = {"collectionYear": f"{year}", "localAuthority": la}
    v = lac_validator.LacValidator(metadata=metadata, files=uploaded, registry=registry)
    failed = 0
    ran = 0
    for code, rule in registry.items():
        tables = set(rule.tables)
        if not tables & IN_SCOPE:
            continue
        if code in v.fails:
            note = "excluded" if code in excluded else "ERROR"
            print(f"{note}: rule {code} failed to run")
            failed += code not in excluded
            continue
        if code in v.dones:
            ran += 1
        count = 0
        for table, df in v.ds_results.items():
            col = f"ERR_{code}"
            if hasattr(df, "columns") and col in df.columns:
                hits = df[col].fillna(False).astype(bool)
                if code == "218" and "LS" in df.columns:
                    hits &= ~df["LS"].isin(["V3", "V4"])
                count += int(hits.sum())
        if count:
            note = "excluded" if code in excluded else "ERROR"
            print(f"{note}: rule {code} ({', '.join(sorted(tables))}): {count} row(s): {rule.message}")
            if SHOW:
                for table, df in v.ds_results.items():
                    col = f"ERR_{code}"
                    if hasattr(df, "columns") and col in df.columns:
                        rows = df[df[col].fillna(False).astype(bool)]
                        if len(rows):
                            print(rows.drop(columns=[c for c in df.columns if c.startswith("ERR_")]).head(SHOW).to_string())
            failed += code not in excluded
    print(f"{ruleset}: {ran} rules on header, episodes and OC2 ran; {failed} with errors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
