"""The team's last 30 days in figures, for the Orders page's chart: orders made and paid per day (in the
account's zone), and per operator. Counted from the archive's rows as they stand; an order counts on
the day it was made, paid or not (JustClick's record of when it was paid is not kept)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from webapp.attempts.outcomes import MADE
from webapp.attempts.team_orders import state_of
from webapp.storage.interfaces import OrderArchive

DAYS = 30


@dataclass
class Figures:
    orders: int = 0
    paid: int = 0
    paid_amount: Decimal = Decimal(0)

    def add(self, row: dict) -> None:
        self.orders += 1
        if state_of(row) == "paid":
            self.paid += 1
            self.paid_amount += _amount(row)


@dataclass
class Chart:
    days: list[tuple[date, Figures]]  # oldest first, every day of the period
    operators: list[tuple[str, Figures]]  # most orders first
    total: Figures = field(default_factory=Figures)

    @property
    def most(self) -> int:
        """The most orders of one day (at least 1: the chart's scale)."""
        return max([figures.orders for _, figures in self.days] + [1])


#: The figures last counted: a page opened again within the same minute, with no order made since,
#: shows them again rather than read a month of orders once more (a payment shows within the minute).
_counted: dict[tuple, Chart] = {}


def last_days(archive: OrderArchive, now: datetime, zone: str | None) -> Chart:
    newest = archive.rows(0, now.timestamp() + 1, limit=1)
    key = (archive, zone, int(now.timestamp() // 60), newest[0]["id"] if newest else None)
    if key not in _counted:
        _counted.clear()
        _counted[key] = _count(archive, now, zone)
    return _counted[key]


def _count(archive: OrderArchive, now: datetime, zone: str | None) -> Chart:
    tz = ZoneInfo(zone) if zone else UTC
    today = now.astimezone(tz).date()
    first = today - timedelta(days=DAYS - 1)
    days = {first + timedelta(days=n): Figures() for n in range(DAYS)}
    operators: dict[str, Figures] = defaultdict(Figures)
    total = Figures()
    for row in archive.rows(datetime.combine(first, time(), tz).timestamp(), now.timestamp() + 1):
        if row.get("outcome") not in MADE:
            continue
        day = datetime.fromisoformat(row["at"]).astimezone(tz).date()
        if day in days:
            days[day].add(row)
            operators[row.get("operator_name") or row.get("operator") or "—"].add(row)
            total.add(row)
    ranked = sorted(operators.items(), key=lambda item: (-item[1].orders, item[0]))
    return Chart(sorted(days.items()), ranked, total)


def _amount(row: dict) -> Decimal:
    invoice = row.get("invoice") if isinstance(row.get("invoice"), dict) else {}
    try:
        return Decimal(str(invoice.get("sum_to_pay") or 0))
    except InvalidOperation:
        return Decimal(0)
