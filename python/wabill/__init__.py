"""wabill prices recorded WhatsApp Business message logs under Meta's pricing rules of each era
and an aggregator's tariff, and explains every charge.

A log is a path (CSV, Meta's webhooks as NDJSON, Parquet; gzipped or not), a pyarrow Table or
RecordBatchReader, a pandas or Polars DataFrame, or anything with ``__arrow_c_stream__``; its
columns are wabill's log columns (``timestamp``, ``business``, ``user``, ``direction``, and the
optional ones). Priced lines come back as Arrow: every input column, then wabill's, money as
``decimal128(38, 10)``, the ``timestamp`` as ``timestamp[us, UTC]``. Every function takes the
pricing options of the command line by name, as keyword arguments (``PricingOptions`` in the
stubs: ``aliases=``, ``service_allowance=``, ``rates=["card.xlsx@2026-10-01"]``...).

>>> import wabill
>>> priced = wabill.price("fixtures/example/log.csv", accounts="fixtures/example/accounts.csv")  # doctest: +SKIP
>>> priced.lines.group_by("pricing_type").aggregate([("charge", "sum")])  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Union

import pyarrow as pa

from ._wabill import WabillError
from . import _wabill

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._wabill import PricingOptions

__all__ = [
    "price",
    "price_batches",
    "price_to_parquet",
    "compare",
    "reconcile",
    "Priced",
    "Reconciled",
    "WabillError",
    "WabillWarning",
    "MONEY",
]

class WabillWarning(UserWarning):
    """What the accounts file says of the logs' businesses: one it does not list (priced with
    the defaults: its own WABA, UTC, USD), or one it lists that no row names."""


#: A rate card file (``FILE[@DATE[@CURRENCY]]``), or a list of them that make one card.
_Cards = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]

#: The type of money in every table wabill returns.
MONEY = pa.decimal128(38, 10)


@dataclass(frozen=True)
class Priced:
    """What :func:`price` returns."""

    #: The priced lines: every input column, then wabill's (rules, pricing_model,
    #: pricing_type, pricing_category, market, country, tier, rate, rate_verified, charge,
    #: currency, and aggregator_fee with a tariff).
    lines: pa.Table
    #: Counts and charges by the grouping's keys (default: month, business, market,
    #: category, type) and currency.
    summary: pa.Table
    #: Each tariff's invoice lines, by the tariff's name.
    invoices: Dict[str, pa.Table] = field(default_factory=dict)
    #: rows read = priced + rejected; duplicates are priced lines.
    counts: Dict[str, int] = field(default_factory=dict)
    #: The rows skipped (with ``skip_invalid``): (file, line, message).
    rejects: List[tuple] = field(default_factory=list)


def _stream(log: Any) -> Any:
    """A log as the native module takes it: a path, or an Arrow C stream."""
    if isinstance(log, (str, os.PathLike)):
        return os.fspath(log)
    if isinstance(log, pa.Table):
        return log.to_reader()
    if isinstance(log, (pa.RecordBatchReader, pa.RecordBatch)):
        return log if isinstance(log, pa.RecordBatchReader) else pa.Table.from_batches([log]).to_reader()
    module = type(log).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(log, preserve_index=False).to_reader()
    if module == "polars":
        return log.to_arrow().to_reader()
    if hasattr(log, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(log)
    raise TypeError(f"a log is a path, a pyarrow Table or RecordBatchReader, or a DataFrame, not {type(log).__name__}")


def _logs(log: Any) -> List[Any]:
    if isinstance(log, (list, tuple)):
        return [_stream(one) for one in log]
    return [_stream(log)]


def _tariffs(tariff: Any) -> List[str]:
    if tariff is None:
        return []
    if isinstance(tariff, (str, os.PathLike)):
        return [os.fspath(tariff)]
    return [os.fspath(t) for t in tariff]


def _notes(result: Dict[str, Any]) -> None:
    """What the accounts file says of the logs' businesses, as warnings."""
    for note in result["notes"]:
        warnings.warn(note, WabillWarning, stacklevel=3)


def price(
    log: Any,
    accounts: Optional[Union[str, os.PathLike]] = None,
    rules: str = "auto",
    rates: Optional[_Cards] = None,
    tariff: Any = None,
    *,
    group_by: Optional[Sequence[str]] = None,
    **options: Unpack[PricingOptions],
) -> Priced:
    """Prices a log (or a list of logs, merged by timestamp) as ``wabill price`` does.

    ``tariff`` is a tariff file, or a list of them: each is billed. ``group_by`` groups the
    summary by the line's keys (month, business, waba, portfolio, market, country, category,
    type, rules, model) or any column of the log (e.g. ``campaign``). ``accounts``, ``rules``,
    ``rates`` and the keyword ``options`` are the pricing options of the command line
    (:class:`PricingOptions`). Raises :class:`WabillError` with wabill's positioned message
    (``FILE:LINE: column NAME: ...``) for a bad row, file or option; warns
    (:class:`WabillWarning`) of a business the accounts file does not list.
    """
    r = _wabill.price(
        _logs(log),
        tariffs=_tariffs(tariff),
        group_by=list(group_by) if group_by is not None else None,
        accounts=accounts,
        rules=rules,
        rates=rates,
        **options,
    )
    _notes(r)
    return Priced(
        lines=r["lines"],
        summary=r["summary"],
        invoices=dict(r["invoices"]),
        counts=dict(r["counts"]),
        rejects=list(r["rejects"]),
    )


def price_batches(
    log: Any,
    accounts: Optional[Union[str, os.PathLike]] = None,
    rules: str = "auto",
    rates: Optional[_Cards] = None,
    tariff: Any = None,
    **options: Unpack[PricingOptions],
) -> pa.RecordBatchReader:
    """The priced lines of :func:`price` as a stream: a ``pyarrow.RecordBatchReader`` whose
    batches (65,536 lines each) are priced on another thread a few batches ahead of the reader,
    so that memory stays as the CLI's whatever the log's size. Takes the options of
    :func:`price` but ``group_by``. A bad file or option raises :class:`WabillError` here; a
    bad row when its batch is read; with ``strict_accounts``, a business the accounts file lacks
    once the log is read, in place of the last batch. It warns of nothing (:func:`price`
    does)."""
    reader = _wabill.price_stream(
        _logs(log), tariffs=_tariffs(tariff), accounts=accounts, rules=rules, rates=rates, **options
    )
    return pa.RecordBatchReader.from_batches(reader.schema, _batches(reader))


def price_to_parquet(log: Any, path: Union[str, os.PathLike], **options: Any) -> int:
    """Writes the priced lines of :func:`price_batches` to a Parquet file as they are priced
    (zstd); the number of lines. Takes the options of :func:`price_batches`. The file is
    written under a temporary name beside it and renamed when the run succeeds: a run that
    fails leaves no file, as the command line does."""
    import pyarrow.parquet as pq

    reader = price_batches(log, **options)
    final = os.fspath(path)
    partial = os.path.join(os.path.dirname(final) or ".", "." + os.path.basename(final) + ".partial")
    lines = 0
    try:
        with pq.ParquetWriter(partial, reader.schema, compression="zstd") as w:
            for batch in reader:
                w.write_batch(batch)
                lines += batch.num_rows
        os.replace(partial, final)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    return lines


def _batches(reader: pa.RecordBatchReader) -> Iterable[pa.RecordBatch]:
    try:
        for batch in reader:
            yield batch
    except pa.ArrowException as e:
        raise WabillError(_message(e)) from None


def _message(e: Exception) -> str:
    # The pricing thread's message, without Arrow's wrapping.
    text = str(e)
    return text.split("External error: ", 1)[-1]


#: The columns of :func:`compare`'s table that are money.
_COMPARISON_MONEY = ["amount", "above_cheapest", "per_active_user", "per_delivered_message"]


def compare(
    log: Any,
    tariffs: Sequence[Union[str, os.PathLike]],
    accounts: Optional[Union[str, os.PathLike]] = None,
    rules: str = "auto",
    rates: Optional[_Cards] = None,
    **options: Unpack[PricingOptions],
) -> pa.Table:
    """Bills a log under several tariffs, as ``wabill compare`` does: a row per invoice, month
    and tariff, with its amount, whether it is the cheapest, how much above the cheapest, and
    the amount per active user and per delivered message (money as ``decimal128(38, 10)``).
    Keeps the tariffs' billings, not the priced lines: memory as the CLI's whatever the log's
    size. Takes the options of :func:`price` but ``group_by``."""
    import io

    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if len(tariffs) < 2:
        raise WabillError("compare needs at least two tariffs")
    r = _wabill.compare(
        _logs(log), tariffs=_tariffs(tariffs), accounts=accounts, rules=rules, rates=rates, **options
    )
    _notes(r)
    text = r["comparison"].encode()
    names = text.split(b"\n", 1)[0].decode().split(",")
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True)
    table = pacsv.read_csv(io.BytesIO(text), convert_options=convert)
    for name in _COMPARISON_MONEY:
        i = table.column_names.index(name)
        table = table.set_column(i, name, table[name].cast(MONEY))
    i = table.column_names.index("cheapest")
    return table.set_column(i, "cheapest", pc.equal(table["cheapest"], "yes"))


@dataclass(frozen=True)
class Reconciled:
    """What :func:`reconcile` returns."""

    #: Whether nothing disagrees: no message, no bucket's volume, no bucket's cost.
    agrees: bool
    #: A row per message on which wabill and Meta disagree, with a likely reason: the columns
    #: of ``wabill reconcile --disagreements`` (charges as money, ``line`` a count,
    #: ``meta_billable`` a boolean).
    disagreements: pa.Table
    #: The messages compared, by the words of each side's verdict: the rows of source
    #: ``messages`` of ``wabill reconcile --format csv``.
    messages: pa.Table
    #: Every bucket of every analytics response, wabill's and Meta's figures side by side:
    #: the other rows of ``wabill reconcile --format csv``.
    buckets: pa.Table
    #: The counts of the messages compared: compared, agree, disagree, by_kind (the
    #: disagreements by kind), without_verdict.
    compared: Dict[str, Any] = field(default_factory=dict)
    #: rows read = priced + rejected; duplicates are priced lines.
    counts: Dict[str, int] = field(default_factory=dict)


def _analytics(analytics: Any) -> List[tuple]:
    """Analytics responses as the native module takes them: (name, text or None for a file)."""
    if analytics is None:
        return []
    if isinstance(analytics, (str, os.PathLike, dict)):
        analytics = [analytics]
    out = []
    for i, a in enumerate(analytics, 1):
        if isinstance(a, dict):
            out.append((f"<analytics {i}>", json.dumps(a)))
        elif isinstance(a, str) and a.lstrip().startswith(("{", "[")):
            out.append((f"<analytics {i}>", a))
        else:
            out.append((os.fspath(a), None))
    return out


def reconcile(
    log: Any,
    accounts: Optional[Union[str, os.PathLike]] = None,
    analytics: Any = None,
    tolerance: str = "0.01",
    rules: str = "auto",
    rates: Optional[_Cards] = None,
    **options: Unpack[PricingOptions],
) -> Reconciled:
    """Checks a log (or a list of logs) against Meta, as ``wabill reconcile`` does: each
    message's line against Meta's verdict the log carries (a webhook dump's, or a CSV log's
    ``meta_*`` columns), and wabill's lines counted into the buckets of Meta's
    ``pricing_analytics`` (or ``conversation_analytics``) responses.

    ``analytics`` is a response or a list of them: paths, JSON texts or dicts.
    ``tolerance`` is how far apart a bucket's costs may be: an amount (``"0.01"``) or a share
    of Meta's cost (``"0.5%"``). Takes the options of :func:`price` but ``group_by`` (for a
    webhook dump, ``templates``: the sender's ``id,category`` file). Raises
    :class:`WabillError` with wabill's positioned message.
    """
    r = _wabill.reconcile(
        _logs(log),
        analytics=_analytics(analytics),
        tolerance=str(tolerance),
        accounts=accounts,
        rules=rules,
        rates=rates,
        **options,
    )
    _notes(r)
    return Reconciled(
        agrees=bool(r["agrees"]),
        disagreements=r["disagreements"],
        messages=r["messages"],
        buckets=r["buckets"],
        compared=dict(r["compared"]),
        counts=dict(r["counts"]),
    )
