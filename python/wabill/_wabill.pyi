"""The native module of wabill (see ``wabill``)."""

from typing import Any, Dict, List, Optional, Tuple

import pyarrow as pa

class WabillError(ValueError):
    """A bad log, configuration or file: wabill's message, positioned
    (``FILE:LINE: column NAME: what is wrong (the value)``)."""

def price(
    logs: List[Any],
    accounts: Optional[str] = None,
    rules: str = "auto",
    rates: Optional[str] = None,
    markets: Optional[str] = None,
    tariffs: List[str] = ...,
    rates_date: Optional[str] = None,
    sort: bool = False,
    skip_invalid: bool = False,
    group_by: Optional[List[str]] = None,
    naive_zone: Optional[str] = None,
) -> Dict[str, Any]: ...
def price_stream(
    logs: List[Any],
    accounts: Optional[str] = None,
    rules: str = "auto",
    rates: Optional[str] = None,
    markets: Optional[str] = None,
    tariffs: List[str] = ...,
    rates_date: Optional[str] = None,
    sort: bool = False,
    skip_invalid: bool = False,
    naive_zone: Optional[str] = None,
) -> pa.RecordBatchReader: ...
def reconcile(
    logs: List[Any],
    accounts: Optional[str] = None,
    analytics: List[Tuple[str, Optional[str]]] = ...,
    tolerance: str = "0.01",
    rules: str = "auto",
    rates: Optional[str] = None,
    markets: Optional[str] = None,
    templates: Optional[str] = None,
    rates_date: Optional[str] = None,
    sort: bool = False,
    skip_invalid: bool = False,
    naive_zone: Optional[str] = None,
) -> Dict[str, Any]: ...
