"""The pricing options of the command line, by name, give what the command line gives."""

import datetime as dt
import gzip
import io
import shutil
import subprocess

import pyarrow.csv as pacsv
import pytest

import wabill
from conftest import EXAMPLE, ROOT
from lines import of_csv, of_table

LOG = EXAMPLE / "log.csv"
ACCOUNTS = EXAMPLE / "accounts.csv"
TARIFFS = [EXAMPLE.parent / "tariffs" / "per-message.toml", EXAMPLE.parent / "tariffs" / "per-user.toml"]
CARDS = ROOT / "fixtures" / "cards"
Y2026 = ROOT / "fixtures" / "y2026"
DUMP = ROOT / "fixtures" / "webhooks" / "month.ndjson"


def cli_lines(cli, tmp_path, *args):
    """The lines `wabill price ARGS --lines` writes."""
    out = tmp_path / "cli-lines.csv"
    subprocess.run([cli, "price", *map(str, args), "--lines", out], check=True, capture_output=True)
    return of_csv(out)


def test_an_unknown_option_or_a_bad_value_is_named():
    with pytest.raises(wabill.WabillError, match=r"^unknown option allowance \(the options: rates, "):
        wabill.price(LOG, allowance=5)
    with pytest.raises(wabill.WabillError, match="^unknown option allowance "):
        wabill.price_batches(LOG, allowance=None)
    with pytest.raises(wabill.WabillError, match="^dedup_days: not a whole number: a week$"):
        wabill.compare(LOG, TARIFFS, dedup_days="a week")
    with pytest.raises(wabill.WabillError, match="^sort: not true or false: yes$"):
        wabill.price(LOG, sort="yes")
    with pytest.raises(wabill.WabillError, match="^reorder_window: must be positive: 0h$"):
        wabill.reconcile(DUMP, reorder_window="0h")


def test_an_option_takes_the_values_the_command_line_takes():
    """One value where the command line takes one; whole seconds; a date, not a date and time."""
    with pytest.raises(wabill.WabillError, match=r"^accounts: one value, not a list"):
        wabill.price(LOG, accounts=[ACCOUNTS, ACCOUNTS])
    with pytest.raises(wabill.WabillError, match="^not whole seconds: 0:00:01.500000$"):
        wabill.reconcile(DUMP, reorder_window=dt.timedelta(seconds=1.5))
    with pytest.raises(wabill.WabillError, match="^a date, not a date and time: 2025-08-01 00:00:00$"):
        wabill.price(LOG, rates_date=dt.datetime(2025, 8, 1))
    with pytest.raises(wabill.WabillError, match="^reorder_window: too long: 9999999999999999s$"):
        wabill.reconcile(DUMP, reorder_window="9999999999999999s")
    with pytest.raises(wabill.WabillError, match="^strict_accounts: needs accounts"):
        wabill.price(LOG, strict_accounts=True)
    assert wabill.reconcile(DUMP, reorder_window=dt.timedelta(hours=1)).messages.num_rows > 0


def test_a_failed_run_leaves_no_parquet_file(tmp_path):
    out = tmp_path / "lines.parquet"
    with pytest.raises(wabill.WabillError):
        wabill.price_to_parquet(LOG, out, accounts=ACCOUNTS, rates_date="1999-01-01")
    assert list(tmp_path.iterdir()) == []
    assert wabill.price_to_parquet(LOG, out, accounts=ACCOUNTS) == 386
    assert [p.name for p in tmp_path.iterdir()] == ["lines.parquet"]


def test_metas_card_files_price_as_wabills_card():
    """Meta's list-rate card as published, CSV or XLSX, dated by `@DATE` or `rates_effective`."""
    # The INR card has no price for some markets of the log: those rows are skipped alike.
    options = dict(accounts=EXAMPLE / "accounts-inr.csv", rates_date=dt.date(2026, 10, 1), skip_invalid=True)
    ours = of_table(wabill.price(LOG, rates=CARDS / "card-inr.csv", **options).lines)
    as_csv = wabill.price(LOG, rates=f"{CARDS / 'meta-list-inr.csv'}@2026-10-01", **options)
    as_xlsx = wabill.price(LOG, rates=[CARDS / "meta-list-inr.xlsx"], rates_effective="2026-10-01", **options)
    assert of_table(as_csv.lines) == of_table(as_xlsx.lines) == ours
    assert set(as_csv.lines.column("currency").to_pylist()) == {"INR"}
    assert as_csv.counts["priced"] > 300
    with pytest.raises(wabill.WabillError, match="carries no date"):
        wabill.price(LOG, rates=CARDS / "meta-list-inr.csv", **options)


def test_aliases_and_the_allowance_price_as_the_cli(cli, tmp_path):
    options = dict(accounts=Y2026 / "accounts.csv", aliases=Y2026 / "aliases.csv", service_allowance=6)
    priced = wabill.price(Y2026 / "log.csv", skip_invalid=True, **options)
    args = ["--accounts", options["accounts"], "--aliases", options["aliases"], "--service-allowance", 6]
    assert of_table(priced.lines) == cli_lines(cli, tmp_path, Y2026 / "log.csv", "--skip-invalid", *args)
    without = wabill.price(Y2026 / "log.csv", skip_invalid=True, accounts=options["accounts"])
    assert of_table(without.lines) != of_table(priced.lines)


def test_the_dedup_window_is_in_days(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "timestamp,id,business,user,direction,category,status\n"
        "2025-09-10T09:00:00Z,m1,B1,33612345678,mt,marketing,\n"
        "2025-09-13T09:00:00Z,m1,B1,33612345678,mt,marketing,\n"
    )
    assert wabill.price(log).counts["duplicates"] == 1
    assert wabill.price(log, dedup_days=2).counts["duplicates"] == 0


def test_webhook_logs_take_the_reorder_window_and_a_format(cli, tmp_path):
    expected = cli_lines(cli, tmp_path, DUMP, "--reorder-window", "1h")
    for window in ("1h", dt.timedelta(hours=1)):
        assert of_table(wabill.price(DUMP, reorder_window=window).lines) == expected
    renamed = tmp_path / "month.log"
    shutil.copy(DUMP, renamed)
    assert wabill.price(renamed, input_format="webhooks").counts == wabill.price(DUMP).counts
    with pytest.raises(wabill.WabillError, match="month.log"):
        wabill.price(renamed, input_format="csv")


def test_strict_accounts_refuse_a_business_the_file_lacks():
    typo = ROOT / "fixtures" / "small" / "accounts-typo.csv"
    with pytest.warns(wabill.WabillWarning) as caught:
        assert wabill.price(LOG, accounts=typo).counts["priced"] == 386
    # What the CLI says after its counts, the files named as given.
    golden = (ROOT / "fixtures" / "golden" / "accounts-typo.stderr.txt").read_text().splitlines()[1:]
    notes = [str(w.message).replace(f"{ROOT}/", "") for w in caught]
    assert notes == [line.removeprefix("wabill: ") for line in golden]
    with pytest.raises(wabill.WabillError, match=r"log.csv:119: column business: not in the accounts file"):
        wabill.price(LOG, accounts=typo, strict_accounts=True)
    with pytest.raises(wabill.WabillError, match="not in the accounts file"):
        wabill.price_batches(LOG, accounts=typo, strict_accounts=True).read_all()
    with pytest.raises(wabill.WabillError, match="not in the accounts file"):
        wabill.reconcile(LOG, accounts=typo, strict_accounts=True)


def test_the_summary_groups_by_a_column_of_the_log(cli):
    summary = wabill.price(LOG, ACCOUNTS, group_by=["campaign", "month"]).summary
    assert summary.column_names[:3] == ["campaign", "month", "currency"]
    out = subprocess.run(
        [cli, "price", LOG, "--accounts", ACCOUNTS, "--group-by", "campaign,month", "--format", "csv"],
        check=True,
        capture_output=True,
    ).stdout
    golden = pacsv.read_csv(io.BytesIO(out))
    assert sorted(summary.column("campaign").to_pylist()) == sorted(golden.column("campaign").to_pylist())
    with pytest.raises(wabill.WabillError, match="campaing"):
        wabill.price(LOG, group_by=["campaing"])


def test_gzip_logs_and_files_are_read_by_their_first_bytes(tmp_path):
    expected = of_table(wabill.price(LOG, ACCOUNTS, tariff=TARIFFS[0]).lines)
    packed = [(LOG, tmp_path / "log.csv.gz"), (ACCOUNTS, tmp_path / "accounts"), (TARIFFS[0], tmp_path / "tariff")]
    for plain, gz in packed:
        with open(plain, "rb") as f, gzip.open(gz, "wb") as g:
            g.write(f.read())
    priced = wabill.price(tmp_path / "log.csv.gz", tmp_path / "accounts", tariff=tmp_path / "tariff")
    assert of_table(priced.lines) == expected
    streamed = wabill.price_batches(tmp_path / "log.csv.gz", tmp_path / "accounts", tariff=TARIFFS[0])
    assert of_table(streamed.read_all()) == expected


def test_compare_bills_without_lines_as_the_cli(cli, tmp_path):
    packed = tmp_path / "log.csv.gz"
    with open(LOG, "rb") as f, gzip.open(packed, "wb") as g:
        g.write(f.read())
    table = wabill.compare(packed, TARIFFS, accounts=ACCOUNTS, dedup_days=7, service_allowance=1000)
    args = ["--tariff", TARIFFS[0], "--tariff", TARIFFS[1], "--format", "csv"]
    out = subprocess.run([cli, "compare", LOG, "--accounts", ACCOUNTS, *args], check=True, capture_output=True)
    rows = out.stdout.decode().strip().splitlines()
    assert len(rows) == table.num_rows + 1
    assert rows[0].split(",") == table.column_names
