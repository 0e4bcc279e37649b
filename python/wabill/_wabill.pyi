"""The native module of wabill (see ``wabill``)."""

import datetime
import os
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, TypedDict, Union

import pyarrow as pa
from typing_extensions import Unpack

Path = Union[str, os.PathLike]

class WabillError(ValueError):
    """A bad log, configuration or file: wabill's message, positioned
    (``FILE:LINE: column NAME: what is wrong (the value)``)."""

class PricingOptions(TypedDict, total=False):
    """The pricing options of the command line by name (``--rates-date`` is ``rates_date``),
    besides ``accounts``, ``rules`` and ``rates``, which every function takes as parameters:
    ``accounts`` the accounts CSV (business, waba, portfolio, timezone, currency, country,
    auth_intl_from), ``rules`` ``"auto"`` (each event's date's rule set) or one of nbp,
    cbp-2022, cbp-2023, pmp-2025, pmp-2026, ``rates`` a rate card or a list of them, each
    ``FILE[@DATE[@CURRENCY]]``: wabill's dated CSV, or Meta's list-rate or tier card as
    published, CSV or XLSX, in force from DATE (its bare ``$`` tokens in CURRENCY); the files
    make one card. A value may be a string as the command line takes it; a name that is none of
    these raises :class:`WabillError` naming it."""

    #: From when Meta's card files named without ``@DATE`` apply.
    rates_effective: Union[str, datetime.date]
    #: A markets table instead of the embedded one: wabill's dated CSV, or Meta's
    #: calling-code table (``FILE@DATE``).
    markets: Path
    #: Refuse a log whose businesses are not all in the accounts file (else each is warned of
    #: and priced with the defaults: its own WABA, UTC, USD).
    strict_accounts: bool
    #: An aliases CSV (``phone,bsuid``): each row's phone number and business-scoped user id
    #: are one person (one window, one pair state).
    aliases: Path
    #: Price every event with the card in force on this local date.
    rates_date: Union[str, datetime.date]
    #: Accept an unsorted log (read whole into memory to sort it).
    sort: bool
    #: Skip bad rows (each in ``rejects``) instead of stopping at the first.
    skip_invalid: bool
    #: The IANA zone of timestamps written without an offset (e.g. ``"Europe/Paris"``).
    naive_zone: str
    #: A log path's format; by default its name (``.json``, ``.jsonl``, ``.ndjson``) or first
    #: byte tells.
    input_format: Literal["csv", "webhooks"]
    #: A row repeating a message id seen less than this many days before is a duplicate
    #: (default 7).
    dedup_days: int
    #: pmp-2026: free non-template messages per business number per local month (default
    #: 1000).
    service_allowance: int
    #: Webhook logs: how long, in event time, a message may still receive statuses
    #: (``"24h"``, ``"90m"``, ``"2d"`` or a ``datetime.timedelta`` of whole seconds; default 24 hours).
    reorder_window: Union[str, datetime.timedelta]
    #: Webhook logs: the sender's ``id,category`` file (a template category, or ``service``
    #: for a non-template; wins over Meta's category).
    templates: Path

class _Options(PricingOptions, total=False):
    accounts: Optional[Path]
    rules: str
    rates: Union[Path, Sequence[Path], None]

def price(
    logs: List[Any],
    tariffs: List[str] = ...,
    group_by: Optional[List[str]] = None,
    **options: Unpack[_Options],
) -> Dict[str, Any]: ...
def price_stream(
    logs: List[Any],
    tariffs: List[str] = ...,
    **options: Unpack[_Options],
) -> pa.RecordBatchReader: ...
def compare(
    logs: List[Any],
    tariffs: List[str],
    **options: Unpack[_Options],
) -> Dict[str, Any]: ...
def reconcile(
    logs: List[Any],
    analytics: List[Tuple[str, Optional[str]]] = ...,
    tolerance: str = "0.01",
    **options: Unpack[_Options],
) -> Dict[str, Any]: ...
