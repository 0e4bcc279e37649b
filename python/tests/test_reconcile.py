"""wabill.reconcile on the realistic dump of fixtures/reconcile finds what `wabill reconcile`
finds (fixtures/golden/reconcile.*)."""

import csv
import json
import subprocess
from datetime import timezone
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

import wabill
from conftest import ROOT

HERE = ROOT / "fixtures" / "reconcile"
GOLDEN = ROOT / "fixtures" / "golden"
DUMP = HERE / "dump.ndjson"
ACCOUNTS = HERE / "accounts.csv"
TEMPLATES = HERE / "templates.csv"
ANALYTICS = [
    HERE / "pricing-analytics-104857600000001-2025-09.json",
    HERE / "pricing-analytics-204857600000002-2025-09.json",
    HERE / "conversation-analytics-104857600000001-2025-06.json",
]


def run(log, **options):
    options.setdefault("analytics", ANALYTICS)
    return wabill.reconcile(log, accounts=ACCOUNTS, templates=TEMPLATES, **options)


def golden_rows(name):
    with open(GOLDEN / name, newline="") as f:
        return list(csv.DictReader(f))


def as_golden(table):
    """A bucket table's rows as the CLI's CSV writes them, costs as numbers."""
    out = []
    for row in table.to_pylist():
        cells = {}
        for k, v in row.items():
            if v is None:
                v = ""
            elif k in ("start", "end"):
                v = v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            elif isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, Decimal):
                v = v.normalize()
            else:
                v = str(v)
            cells[k] = v
        out.append(cells)
    return out


def numbers(rows, money):
    return [{k: (Decimal(v).normalize() if k in money and v != "" else v) for k, v in r.items()} for r in rows]


@pytest.fixture(scope="module")
def result():
    return run(DUMP)


def test_the_counts_are_the_clis(result):
    golden = json.load(open(GOLDEN / "reconcile.json"))
    m = golden["messages"]
    assert result.compared == {
        "compared": m["compared"],
        "agree": m["agree"],
        "disagree": sum(m["disagree"].values()),
        "by_kind": m["disagree"],
        "without_verdict": m["without_verdict"],
    }
    assert result.agrees is golden["agrees"] is False
    assert result.counts == {"rows": 313, "priced": 313, "rejected": 0, "duplicates": 0}


def test_the_bucket_tables_are_the_clis_csv(result):
    golden = numbers(golden_rows("reconcile.csv"), {"wabill_cost", "meta_cost"})
    messages = [r for r in golden if r["source"] == "messages"]
    assert len(messages) == 12 and len(golden) == 49
    assert as_golden(result.messages) == messages
    assert as_golden(result.buckets) == golden[len(messages):]
    for table in (result.messages, result.buckets):
        assert table.schema.field("wabill_cost").type == wabill.MONEY
        assert table.schema.field("start").type == pa.timestamp("s", tz="UTC")


def test_the_disagreements_are_the_clis(result):
    money = {"wabill_charge", "meta_charge", "difference"}
    golden = numbers(golden_rows("reconcile.disagreements.csv"), money)
    d = result.disagreements
    assert d.column_names == list(golden[0].keys())
    for name in money:
        assert d.schema.field(name).type == wabill.MONEY
    got = []
    for row in d.to_pylist():
        got.append({
            k: (v.normalize() if isinstance(v, Decimal) else "" if v is None
                else ("true" if v else "false") if isinstance(v, bool) else str(v))
            for k, v in row.items()
        })
    for row in got:
        # The CLI's golden names the dump relative to the repository.
        row["file"] = row["file"].replace(f"{ROOT}/", "")
    assert got == golden


def test_analytics_as_json_texts_or_dicts_compare_alike(result):
    texts = [p.read_text() for p in ANALYTICS]
    as_dicts = run(DUMP, analytics=[json.loads(t) for t in texts])
    as_texts = run(DUMP, analytics=texts)
    for other in (as_dicts, as_texts):
        assert other.buckets.equals(result.buckets)
        assert other.compared == result.compared


@pytest.fixture(scope="module")
def converted(cli, tmp_path_factory):
    """The dump as wabill's CSV log, Meta's verdicts in meta_* columns, read by pandas."""
    out = tmp_path_factory.mktemp("convert") / "log.csv"
    subprocess.run(
        [cli, "convert", "--to", "csv", DUMP, "--templates", TEMPLATES, "--output", out],
        check=True,
        capture_output=True,
    )
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def test_an_altered_verdict_is_one_more_disagreement(result, converted):
    same = run(converted)
    assert same.compared == result.compared
    # A marketing template Meta agreed on, now said to be utility by Meta.
    agreed = set(converted.index[
        (converted["meta_pricing_category"] == "marketing") & (converted["meta_pricing_type"] == "regular")
    ])
    ids = set(result.disagreements["id"].to_pylist())
    row = next(i for i in sorted(agreed) if converted.at[i, "id"] not in ids)
    altered = converted.copy()
    altered.at[row, "meta_pricing_category"] = "utility"
    r = run(altered)
    assert r.compared["disagree"] == result.compared["disagree"] + 1
    assert r.compared["by_kind"]["pricing_category"] == result.compared["by_kind"]["pricing_category"] + 1
    assert converted.at[row, "id"] in r.disagreements["id"].to_pylist()


def test_a_bad_analytics_file_says_where(tmp_path):
    bad = tmp_path / "bad-analytics.json"
    bad.write_text('{"pricing_analytics": {"data": [{"data_points": [{"start": "soon"}]}]}}')
    place = r"bad-analytics\.json: \$\.pricing_analytics\.data\[0\]\.data_points\[0\]\.start"
    with pytest.raises(wabill.WabillError, match=place):
        run(DUMP, analytics=[bad])
    with pytest.raises(wabill.WabillError, match="missing.json"):
        run(DUMP, analytics=[tmp_path / "missing.json"])
    with pytest.raises(wabill.WabillError, match="tolerance"):
        run(DUMP, tolerance="a lot")
