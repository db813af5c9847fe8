"""Seeded sample receivables: customers, invoices, cash, collections work and books.

Why: demos, tests and benchmarks need data with real structure. Each customer is planted
with one payment behaviour (prompt, stretcher, deteriorating, disorganised, new) so that
aging, DSO, credit checks, the risk model and the persona clustering have something true
to find; the planted truth goes to behaviours.csv (it is not imported into the store).

Customers are simulated in chunks of CHUNK, each from its own child of SeedSequence(seed),
and appended to the open CSV files: memory stays bounded at 10M invoices and the same
arguments give byte-identical files. Amounts are whole cents until they are written.
"""

import csv
import datetime
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

CHUNK = 1000  # customers simulated together
NEVER = np.int64(1 << 40)  # a day number later than any date
COLUMNS = {
    "customers.csv": "customer_id,name,segment,industry,country,currency,"
    "payment_terms_days,credit_limit,credit_limit_reviewed_on,risk_rating,salesperson,"
    "parent_id",
    "invoices.csv": "invoice_id,customer_id,invoice_date,due_date,amount,doc_type,"
    "currency,disputed,dispute_reason,po_number,written_off_on,applies_to",
    "payments.csv": "payment_id,customer_id,payment_date,amount,invoice_id,method,reference",
    "financials.csv": "period_end,revenue,credit_sales,cogs,inventory,accounts_payable",
    "activities.csv": "activity_id,customer_id,invoice_id,activity_date,kind,"
    "promised_date,promised_amount,outcome",
    "behaviours.csv": "customer_id,behaviour",
}

BEHAVIOURS = ["prompt", "stretcher", "deteriorating", "disorganised", "new"]
PROMPT, STRETCHER, DETERIORATING, DISORGANISED, NEW = range(5)
BEHAVIOUR_SHARE = [0.35, 0.20, 0.15, 0.15, 0.15]
# Planted habits, per behaviour in the order above; a (low, high) pair means each
# customer draws its own value from that range.
HABITS = {
    "late_mean": (-2, (15, 35), 1, (5, 25), (-3, 30)),  # days paid after due
    "late_sd": (3, 4, 4, (15, 30), (3, 12)),
    "late_at_end": (0, 0, (60, 130), 0, 0),  # where a deteriorating mean drifts to
    "dispute_rate": (0.02, 0.02, 0.05, (0.2, 0.3), 0.04),
    "unresolved": (0.03, 0.02, 0.1, 0.08, 0.05),  # disputes never settled
    "credit_rate": (0.015, 0.015, 0.02, 0.06, 0.02),  # returns and allowances
    "partial_rate": (0.06, 0.06, 0.07, 0.3, 0.08),  # paid in two parts
    "never_paid": (0.0005, 0, 0.002, 0.004, 0.002),
    "no_remittance": (0.005, 0.005, 0.01, 0.25, 0.01),  # cash that names no invoice
    "duplicate": (0.001, 0.001, 0.002, 0.1, 0.002),  # an invoice paid twice
    "late_fee": (0.01, 0.01, 0.03, 0.03, 0.015),  # debit memos among documents
    "promise_rate": (0.1, 0.15, 0.5, 0.3, 0.3),
    "broken_rate": (0.1, 0.03, 0.15, 0.35, 0.2),
    "over_limit": (0.01, 0.01, 0.3, 0.15, 0.02),
    "stale_review": (0.17, 0.17, 0.7, 0.17, 0),  # limit reviewed over 2 years ago
    "risk": ((1.5, 2.5), (1, 2), (2.5, 4), (2.5, 4), (2, 4)),
    "size": (1, 1.5, 1, 1, 1),  # stretchers are the big, strong accounts
}
HABIT_RANGES = {k: np.array([v if isinstance(v, tuple) else (v, v) for v in row])
                for k, row in HABITS.items()}  # fmt: skip
SEGMENTS = ["Enterprise", "Mid-market", "Small business", "Public sector"]
SEGMENT_SHARE = np.array([  # per behaviour
    [0.10, 0.30, 0.48, 0.12], [0.35, 0.45, 0.10, 0.10], [0.08, 0.32, 0.55, 0.05],
    [0.10, 0.30, 0.50, 0.10], [0.03, 0.17, 0.75, 0.05]])  # fmt: skip
INVOICES_PER_MONTH = np.array([11.0, 6.3, 2.3, 4.5])  # per segment
MEDIAN_AMOUNT = np.array([12000.0, 4000.0, 800.0, 6000.0])
USES_PO = np.array([0.95, 0.7, 0.3, 0.95])
TERMS = np.array([15, 30, 45, 60])
TERMS_SHARE = np.array([  # per segment
    [0, 0.35, 0.35, 0.30], [0.05, 0.60, 0.25, 0.10], [0.35, 0.55, 0.10, 0],
    [0, 0.50, 0.30, 0.20]])  # fmt: skip
COUNTRIES = ["US", "DE", "FR", "NL", "GB"]
COUNTRY_SHARE = [0.72, 0.08, 0.05, 0.05, 0.10]
LEGAL_FORM = ["Inc", "GmbH", "SAS", "B.V.", "Ltd"]
CURRENCIES = ["USD", "EUR", "GBP"]
COUNTRY_CURRENCY = np.array([0, 1, 1, 1, 2])
USD_RATE = np.array([1.0, 1.08, 1.27])  # fixed rates for the USD financials
METHODS = ["ACH", "check", "wire", "card", "SEPA", "BACS"]
REFERENCE_PREFIX = ["ACH", "CHK", "FT", "CARD", "SEPA", "BACS"]
METHOD_SHARE = np.array([  # per country
    [0.55, 0.30, 0.10, 0.05, 0, 0], *[[0, 0, 0.10, 0, 0.90, 0]] * 3,
    [0, 0, 0.15, 0, 0, 0.85]])  # fmt: skip
INDUSTRIES = {  # industry: words that end a company's name in it
    "Manufacturing": ["Manufacturing", "Industries", "Fabrication", "Components"],
    "Wholesale": ["Distribution", "Supply", "Trading", "Wholesale"],
    "Retail": ["Retail", "Stores", "Outfitters", "Market"],
    "Construction": ["Construction", "Builders", "Contracting", "Materials"],
    "Technology": ["Systems", "Technologies", "Software", "Networks"],
    "Logistics": ["Logistics", "Freight", "Transport", "Shipping"],
    "Food & beverage": ["Foods", "Beverages", "Provisions", "Farms"],
    "Healthcare": ["Health", "Medical", "Clinics", "Care"],
    "Education": ["University", "College", "School District", "Academy"],
    "Government": ["County", "City Council", "Water Authority", "Transit Authority"],
}
INDUSTRY_NAMES = list(INDUSTRIES)
PUBLIC_INDUSTRIES = [7, 8, 9]
NAME_WORDS = """Acme Apex Atlas Beacon Bright Cascade Cedar Summit Crescent Delta Eagle
    Evergreen Falcon Frontier Granite Harbor Highland Horizon Iron Keystone Lakeside
    Liberty Maple Meridian Northwind Oakridge Orion Pacific Patriot Pinnacle Pioneer
    Prairie Redwood Riverside Sterling Silverline Sunrise Titan Trinity Union Vanguard
    Westbrook Willow Zenith Aurora Birch Coastal Copper Emerald Golden Heritage
    Lighthouse Magnolia Noble Polaris Quantum Sapphire""".split()  # noqa: SIM905
PLACES = ["North", "South", "East", "West", "Central", "Metro", "Coast", "Valley"]
SALESPEOPLE = ["Maria Lopez", "James Carter", "Anna Schmidt", "David Chen",
               "Sophie Martin", "Tom Baker", "Priya Patel", "Lars de Vries"]  # fmt: skip
SEASON = np.array([0.95, 0.96, 1.02, 0.99, 1.0, 1.01, 0.97, 0.96, 1.02, 1.04, 1.05, 1.03])
DISPUTE_REASONS = ["pricing", "quantity", "missing PO", "duplicate billing",
                   "damaged goods", "not received"]  # fmt: skip
DISPUTE_REASON_SHARE = [0.30, 0.25, 0.20, 0.10, 0.10, 0.05]
MISSING_PO = DISPUTE_REASONS.index("missing PO")
CREDIT_CHANCE = np.array([0.8, 0.8, 0.0, 1.0, 0.7, 0.5])  # dispute ends in a credit memo
CREDIT_LOW = np.array([0.05, 0.10, 0, 1.0, 0.10, 1.0])  # share of the invoice credited
CREDIT_HIGH = np.array([0.20, 0.40, 0, 1.0, 0.60, 1.0])

KINDS = ["call", "email", "letter", "dunning", "promise", "dispute", "note"]
CALL, EMAIL, LETTER, DUNNING, PROMISE, DISPUTE, NOTE = range(7)
CALLED = ["left voicemail", "reached AP", "no answer", "AP says in payment run",
          "asked for copy invoice", None]  # fmt: skip
EMAILED = ["sent statement", "sent copy invoice", "asked for payment date", None]
COLLECTION_STEPS = [  # (days past due from, to, kind, outcomes, chance) while open
    (1, 5, DUNNING, ["level 1 reminder"], 0.5),
    (10, 20, EMAIL, EMAILED, 0.35),
    (25, 35, CALL, CALLED, 0.45),
    (40, 50, DUNNING, ["level 2 reminder"], 0.5),
    (60, 75, CALL, CALLED, 0.6),
    (90, 100, LETTER, ["final notice sent"], 0.7),
    (120, 150, NOTE, ["account on credit hold", "escalated to sales"], 0.5),
]
KEPT, BROKEN = "kept", "broken"
CREDITED, TO_PAY = "dispute resolved: credit issued", "dispute resolved: customer to pay"
SAYS_PAID = "customer says paid: remittance requested"
OUTCOMES = sorted(
    {o for step in COLLECTION_STEPS for o in step[3] if o}
    | {KEPT, BROKEN, CREDITED, TO_PAY, SAYS_PAID}
    | {f"customer disputes {r}" for r in DISPUTE_REASONS}
)
# the header is written by hand: pyarrow would quote it
WRITE_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none")


def generate(
    out_dir, customers=400, years=3, seed=7, end_date=datetime.date(2026, 10, 31)
) -> dict[str, int]:
    """Writes the CSV files below into out_dir (created if missing).

    Returns {file_name: rows_written}.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cal = _calendar(end_date, years)
    ids = dict.fromkeys(["invoice", "credit_memo", "debit_memo", "payment", "activity"], 0)
    rows = dict.fromkeys(COLUMNS, 0)
    credit_sales = np.zeros(len(cal.month_start))
    with ExitStack() as stack:
        files = {name: stack.enter_context(open(out / name, "wb")) for name in COLUMNS}
        for name, f in files.items():
            f.write((COLUMNS[name] + "\n").encode())

        def append(name, table):
            assert ",".join(table.column_names) == COLUMNS[name], name
            pacsv.write_csv(table, files[name], write_options=WRITE_OPTIONS)
            rows[name] += table.num_rows

        for k, first in enumerate(range(0, customers, CHUNK)):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, k)))
            tables, sales = _chunk(rng, first, min(CHUNK, customers - first), cal, ids)
            credit_sales += sales
            for name, table in tables.items():
                append(name, table)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
        append("financials.csv", _financials(rng, cal, credit_sales))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))
    rows["fx_rates.csv"] = _fx_rates(rng, cal, out / "fx_rates.csv")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,)))
    rows.update(_credit_files(rng, out, end_date))
    return rows


APPROVERS = ["R. Okafor (credit manager)", "L. Berg (CFO)"]
ORDER_STATUS = ["open", "shipped", "invoiced", "cancelled"]
ORDER_STATUS_SHARE = [0.6, 0.25, 0.1, 0.05]


def _credit_files(rng, out: Path, end_date) -> dict[str, int]:
    """Sales orders not yet invoiced (a quarter of the customers, in the last 45 days) and the
    credit limit history behind the customers' current limits (a third had a lower limit
    before their last review), drawn from customers.csv as written."""
    with open(out / "customers.csv", encoding="utf-8") as f:
        customers = list(csv.DictReader(f))
    orders, limits = [], []
    for c in customers:
        limit = float(c["credit_limit"]) if c["credit_limit"] else None
        if rng.random() < 0.25:
            for k in range(int(rng.integers(1, 4))):
                day = end_date - datetime.timedelta(days=int(rng.integers(0, 45)))
                base = limit or 20_000.0
                amount = round(base * rng.uniform(0.02, 0.12), 2)
                status = ORDER_STATUS[int(rng.choice(len(ORDER_STATUS), p=ORDER_STATUS_SHARE))]
                orders.append([f"SO-{c['customer_id'][-6:]}-{k + 1}", c["customer_id"],
                               day.isoformat(), f"{amount:.2f}", c["currency"], status])  # fmt: skip
        reviewed = c["credit_limit_reviewed_on"]
        if limit is None or not reviewed:
            continue
        approver = APPROVERS[int(limit >= 250_000)]
        if rng.random() < 0.33:
            earlier = datetime.date.fromisoformat(reviewed) - datetime.timedelta(
                days=int(rng.integers(300, 900))
            )
            before = float(_round_up(limit * rng.choice([0.5, 0.6, 0.75])))
            limits.append([c["customer_id"], earlier.isoformat(), f"{before:.2f}",
                           earlier.isoformat(), APPROVERS[0]])  # fmt: skip
        limits.append([c["customer_id"], reviewed, f"{limit:.2f}", reviewed, approver])
    header = {
        "orders.csv": "order_id,customer_id,order_date,amount,currency,status",
        "credit_limits.csv": "customer_id,effective_from,credit_limit,reviewed_on,approved_by",
    }
    for name, body in (("orders.csv", orders), ("credit_limits.csv", limits)):
        with open(out / name, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header[name].split(","))
            writer.writerows(body)
    return {"orders.csv": len(orders), "credit_limits.csv": len(limits)}


def _fx_rates(rng, cal, path) -> int:
    """ECB-style reference rates, `Date, USD, GBP`, units per euro on each weekday, drifting
    around the sample's fixed rates (USD_RATE); the euro itself has no column. Returns rows."""
    days = np.arange(cal.month_start[0], cal.end + 1)
    days = days[(days + 3) % 7 < 5]  # day 0 (1 Jan 1970) was a Thursday: Monday to Friday
    usd_per_eur = USD_RATE[1] * np.exp(np.cumsum(rng.normal(0, 0.004, len(days))))
    gbp_per_eur = USD_RATE[1] / USD_RATE[2] * np.exp(np.cumsum(rng.normal(0, 0.003, len(days))))
    with open(path, "w", encoding="utf-8") as f:
        f.write("Date,USD,GBP\n")
        for day, usd, gbp in zip(days, usd_per_eur, gbp_per_eur, strict=True):
            f.write(f"{np.datetime64(int(day), 'D')},{usd:.4f},{gbp:.5f}\n")
    return len(days)


def _calendar(end_date, years):
    """The history: `years` × 12 months ending with end_date's month, as day numbers."""
    end_month = np.datetime64(end_date, "M")
    months = np.arange(end_month - 12 * years + 1, end_month + 1)
    start = months.astype("datetime64[D]").astype(np.int64)
    last = (months + 1).astype("datetime64[D]").astype(np.int64) - 1
    end = np.int64((end_date - datetime.date(1970, 1, 1)).days)
    month_of_year = months.astype(np.int64) % 12
    growth = 1 + 0.06 * np.arange(len(months)) / 12  # the business grows ~6% a year
    season = SEASON[month_of_year] * growth
    return SimpleNamespace(end=end, month_start=start, month_last=np.minimum(last, end),
                           month_days=last - start + 1, month_of_year=month_of_year,
                           season=season)  # fmt: skip


def _chunk(rng, first, n, cal, ids):
    """Simulates customers first..first+n: their tables, and monthly credit sales in USD."""
    c = _draw_customers(rng, first, n, cal)
    d = _draw_documents(rng, c, cal)
    s = _settle(rng, c, d, cal.end)
    docs = _documents_table(rng, c, d, s, cal, ids)
    month = np.searchsorted(cal.month_start, docs.day, side="right") - 1
    usd = docs.cents * USD_RATE[c.currency[docs.cust]] / 100
    sales = np.bincount(month, weights=usd, minlength=len(cal.month_start))
    return {
        "customers.csv": _customers_table(rng, c, d, s, cal),
        "invoices.csv": docs.table,
        "payments.csv": _payments_table(rng, c, d, s, cal.end, ids),
        "activities.csv": _activities_table(rng, c, d, s, cal.end, ids),
        "behaviours.csv": pa.table(
            {"customer_id": c.id, "behaviour": _labels(BEHAVIOURS, c.behaviour)}
        ),
    }, sales


def _draw_customers(rng, first, n, cal):
    """Who the customers are, and the habits their planted behaviour gives them."""
    b = rng.choice(5, n, p=BEHAVIOUR_SHARE)
    c = SimpleNamespace(n=n, behaviour=b)
    for name, ranges in HABIT_RANGES.items():
        setattr(c, name, rng.uniform(ranges[b, 0], ranges[b, 1]))
    # sorted, unique, with gaps, across chunks: 0000100004, 0000100012, ...
    c.id = _numbered("", 100_000 + 7 * np.arange(first, first + n) + rng.integers(0, 7, n), 10)
    c.segment = _pick(rng, SEGMENT_SHARE[b])
    c.country = rng.choice(5, n, p=COUNTRY_SHARE)
    c.currency = COUNTRY_CURRENCY[c.country]
    c.terms = TERMS[_pick(rng, TERMS_SHARE[c.segment])]
    public = rng.choice(PUBLIC_INDUSTRIES, n)
    c.industry = np.where(c.segment == 3, public, rng.integers(0, 8, n))
    c.salesperson = rng.integers(0, len(SALESPEOPLE), n)
    c.method = _pick(rng, METHOD_SHARE[c.country])
    uses_po = rng.random(n) < USES_PO[c.segment]
    c.po_style = np.where(uses_po, rng.integers(0, 2, n), -1)  # PO-… or SAP-style 45…
    c.volume = INVOICES_PER_MONTH[c.segment] * rng.lognormal(-0.08, 0.4, n)
    c.size *= MEDIAN_AMOUNT[c.segment] * rng.lognormal(0, 0.5, n)
    c.start = np.where(b == NEW, cal.end - rng.integers(15, 181, n), cal.month_start[0])
    c.onset = cal.end - rng.integers(365, 549, n)  # when a deteriorating one slips
    c.risk = np.clip(np.rint(c.risk + rng.normal(0, 0.6, n)), 1, 5).astype(np.int64)
    return c


def _draw_documents(rng, c, cal):
    """Invoices and debit memos: seasonal Poisson counts per customer-month."""
    m = len(cal.month_start)
    lo = np.maximum(cal.month_start, c.start[:, None])
    days = np.clip(cal.month_last - lo + 1, 0, None)
    counts = rng.poisson(c.volume[:, None] * cal.season * days / cal.month_days)
    counts[counts.sum(1) == 0, m - 1] = 1  # every customer has at least one invoice
    cell = np.repeat(np.arange(c.n * m), counts.ravel())
    cust = cell // m
    day = lo.ravel()[cell] + (rng.random(len(cell)) * days.ravel()[cell]).astype(np.int64)
    weekday = (day + 3) % 7  # Monday = 0: billing runs on working days
    day = np.clip(day - (weekday == 5) + (weekday == 6), c.start[cust], cal.end)
    order = np.lexsort((day, cust))
    cust, day = cust[order], day[order]
    debit = rng.random(len(day)) < c.late_fee[cust]
    amount = c.size[cust] * np.where(debit, 0.05, 1.0) * rng.lognormal(0, 0.9, len(day))
    cents = np.maximum(np.rint(amount * 100), 500).astype(np.int64)
    return SimpleNamespace(cust=cust, day=day, debit=debit, cents=cents)


def _settle(rng, c, d, end):
    """How each document ends: disputes, credits, payments (in parts, unapplied, over)."""
    n, cu, invoice = len(d.day), d.cust, ~d.debit
    s = SimpleNamespace(due=d.day + c.terms[cu])
    det = c.behaviour[cu] == DETERIORATING
    s.slip = np.where(det, np.clip((d.day - c.onset[cu]) / (end - c.onset[cu]), 0, 1), 0)
    mean = c.late_mean[cu] + s.slip * (c.late_at_end[cu] - c.late_mean[cu])
    late = np.rint(rng.normal(mean, c.late_sd[cu] + 10 * s.slip)).astype(np.int64)
    pay = np.maximum(s.due + late, d.day)
    # disputes hold payment until resolved; most end in a credit memo
    s.disputed = invoice & (rng.random(n) < c.dispute_rate[cu] + 0.05 * s.slip)
    s.reason = np.where(s.disputed, rng.choice(6, n, p=DISPUTE_REASON_SHARE), -1)
    s.resolved_on = d.day + rng.integers(10, 71, n)
    unresolved = s.disputed & (rng.random(n) < c.unresolved[cu])
    r = np.maximum(s.reason, 0)
    s.dispute_credit = s.disputed & ~unresolved & (rng.random(n) < CREDIT_CHANCE[r])
    held = np.maximum(pay, s.resolved_on + rng.integers(0, 21, n))
    pay = np.where(s.disputed, held, pay)
    other_credit = invoice & ~s.disputed & (rng.random(n) < c.credit_rate[cu])
    before_pay = d.day + 1 + (rng.random(n) * np.maximum(pay - d.day - 1, 0)).astype(int)
    s.cm_on = np.where(s.dispute_credit, s.resolved_on, before_pay)
    share = np.where(rng.random(n) < 0.1, 1.0, rng.uniform(0.05, 0.5, n))
    share = np.where(s.dispute_credit, rng.uniform(CREDIT_LOW[r], CREDIT_HIGH[r]), share)
    s.has_cm = s.dispute_credit | other_credit
    s.cm_cents = np.where(s.has_cm, -np.rint(d.cents * share).astype(np.int64), 0)
    s.pay = _banking_day(np.where(s.has_cm, np.maximum(pay, s.cm_on), pay))
    s.net = net = d.cents + s.cm_cents
    never = unresolved | (rng.random(n) < c.never_paid[cu] + 0.22 * s.slip)
    s.paid = (net > 0) & ~never
    # short payments: the rest is paid later, credited (disorganised) or never paid
    s.partial = s.paid & (net >= 2) & (rng.random(n) < c.partial_rate[cu] + 0.3 * s.slip)
    s.p1 = np.where(s.partial, np.rint(net * rng.uniform(0.3, 0.8, n)), net).astype(int)
    s.p2 = net - s.p1
    short_credit = s.partial & invoice & ~s.has_cm & (rng.random(n) < 0.4)
    s.short_credit = short_credit & (c.behaviour[cu] == DISORGANISED)
    s.cm_on = np.where(s.short_credit, s.pay + rng.integers(5, 41, n), s.cm_on)
    s.cm_cents = np.where(s.short_credit, -s.p2, s.cm_cents)
    s.has_cm |= s.short_credit
    wait = rng.integers(10, 61, n) + (s.slip * rng.integers(0, 61, n)).astype(int)
    s.pay2 = _banking_day(s.pay + wait)
    s.second = s.partial & ~s.short_credit & (rng.random(n) >= 0.02 + 0.3 * s.slip)
    over = s.paid & ~s.partial & (rng.random(n) < 0.004)  # a little too much
    extra = np.clip(np.rint(net * rng.uniform(0.001, 0.02, n)), 100, 50_000)
    s.p1 = np.where(over, s.p1 + extra.astype(np.int64), s.p1)
    # cash without remittance stays unapplied unless cash application matched it since
    s.no_remittance = rng.random(n) < c.no_remittance[cu]
    s.unapplied1 = s.no_remittance & ((s.pay > end - 60) | (rng.random(n) < 0.15))
    s.unapplied2 = (rng.random(n) < c.no_remittance[cu]) & (rng.random(n) < 0.15)
    s.duplicate = s.paid & ~s.partial & (rng.random(n) < c.duplicate[cu])  # unapplied too
    s.duplicate_on = _banking_day(s.pay + rng.integers(3, 31, n))
    # write-offs: a deteriorating customer's unpaid invoice, at a month close 150+ days due
    wo_on = _month_end(s.due + 150 + rng.integers(0, 91, n))
    s.written_off = never & (net > 0) & det & (wo_on <= end) & (rng.random(n) < 0.8)
    s.wo_on = np.where(s.written_off, wo_on, NEVER)
    settled = np.where(net == 0, s.cm_on, NEVER)
    settled = np.where(s.paid & ~s.partial, s.pay, settled)
    settled = np.where(s.second, s.pay2, settled)
    settled = np.where(s.short_credit, s.cm_on, settled)
    s.open_until = np.minimum(np.minimum(settled, s.wo_on), end + 1)
    s.first_pay = np.where(s.paid, s.pay, NEVER)
    applied = np.where(s.paid & (s.pay <= end) & ~s.unapplied1, s.p1, 0)
    applied += np.where(s.second & (s.pay2 <= end) & ~s.unapplied2, s.p2, 0)
    credited = np.where(s.has_cm & (s.cm_on <= end), s.cm_cents, 0)
    s.open_at_end = np.where(s.written_off, 0, np.maximum(d.cents + credited - applied, 0))
    return s


def _documents_table(rng, c, d, s, cal, ids):
    """invoices.csv rows: invoices, debit memos, credit memos, and unapplied credits."""
    cm = s.has_cm & (s.cm_on <= cal.end)
    # about one credit memo in five credits no invoice in particular (rebates, goodwill)
    k = rng.binomial(int(cm.sum()), 0.25)
    weight = np.bincount(d.cust, minlength=c.n) * (1 + 2 * (c.behaviour == DISORGANISED))
    free = np.sort(rng.choice(c.n, k, p=weight / weight.sum()))
    free_day = c.start[free] + (rng.random(k) * (cal.end - c.start[free] + 1)).astype(int)
    free_cents = np.rint(c.size[free] * rng.lognormal(-1.5, 0.7, k) * 100)
    n = len(d.day)
    kind = np.concatenate([np.where(d.debit, 2, 0), np.ones(cm.sum() + k, np.int64)])
    cust = np.concatenate([d.cust, d.cust[cm], free])
    day = np.concatenate([d.day, s.cm_on[cm], free_day])
    due = np.concatenate([s.due, s.cm_on[cm], free_day])
    cents = np.concatenate([d.cents, s.cm_cents[cm], -np.maximum(free_cents, 100)])
    source = np.concatenate([np.arange(n), np.flatnonzero(cm), np.full(k, -1)])
    order = np.lexsort((source, kind, day, cust))
    kind, cust, day, due, cents, source = (a[order] for a in (kind, cust, day, due, cents, source))
    number = np.zeros(len(kind), np.int64)
    for code, name in enumerate(["invoice", "credit_memo", "debit_memo"]):
        mine = kind == code
        number[mine] = ids[name] + np.arange(1, mine.sum() + 1)
        ids[name] += int(mine.sum())
    digits = _numbered("", number, 8)  # INV00000001, CM0000001, DM0000001
    digits = pc.if_else(pa.array(kind == 0), digits, pc.utf8_slice_codeunits(digits, 1))
    doc_id = pc.binary_join_element_wise(_labels(["INV", "CM", "DM"], kind), digits, "")
    is_cm = kind == 1
    row_of = np.empty(n, np.int64)  # where each invoice/debit memo landed
    row_of[source[~is_cm]] = np.flatnonzero(~is_cm)
    src = np.maximum(source, 0)
    own = ~is_cm & (source >= 0)
    po_style = np.where(own & (s.reason[src] != MISSING_PO), c.po_style[cust], -1)
    po_digits = _numbered("", rng.integers(0, 10**8, len(kind)), 8)
    po = pc.binary_join_element_wise(_labels(["PO-", "45"], po_style), po_digits, "")
    credited = pa.array(row_of[src], mask=~(is_cm & (source >= 0)))
    table = pa.table({
        "invoice_id": doc_id,
        "customer_id": c.id.take(cust),
        "invoice_date": _dates(day),
        "due_date": _dates(due),
        "amount": _money(cents),
        "doc_type": _labels(["invoice", "credit_memo", "debit_memo"], kind),
        "currency": _labels(CURRENCIES, c.currency[cust]),
        "disputed": pa.array(own & s.disputed[src]),
        "dispute_reason": _labels(DISPUTE_REASONS, np.where(own, s.reason[src], -1)),
        "po_number": po,
        "written_off_on": _dates(s.wo_on[src], own & s.written_off[src]),
        "applies_to": doc_id.take(credited),
    })  # fmt: skip
    s.doc_id = doc_id.take(pa.array(row_of))
    return SimpleNamespace(table=table, cust=cust, day=day, cents=cents)


def _payments_table(rng, c, d, s, end, ids):
    """payments.csv rows: one per paid document, two for partials, none after end_date."""
    first, second = s.paid & (s.pay <= end), s.second & (s.pay2 <= end)
    again = s.duplicate & (s.duplicate_on <= end)
    doc = np.concatenate([np.flatnonzero(first), np.flatnonzero(second), np.flatnonzero(again)])
    day = np.concatenate([s.pay[first], s.pay2[second], s.duplicate_on[again]])
    cents = np.concatenate([s.p1[first], s.p2[second], s.p1[again]])
    unapplied = np.concatenate([s.unapplied1[first], s.unapplied2[second], again[again]])
    order = np.lexsort((doc, day, d.cust[doc]))
    doc, day, cents, unapplied = doc[order], day[order], cents[order], unapplied[order]
    cust, n = d.cust[doc], len(doc)
    method = np.where(rng.random(n) < 0.08, 2, c.method[cust])  # the odd wire
    serial = _numbered("", rng.integers(0, 10**9, n), 9)
    table = pa.table({
        "payment_id": _numbered("PAY", ids["payment"] + np.arange(1, n + 1), 9),
        "customer_id": c.id.take(cust),
        "payment_date": _dates(day),
        "amount": _money(cents),
        "invoice_id": s.doc_id.take(pa.array(doc, mask=unapplied)),
        "method": _labels(METHODS, method),
        "reference": pc.binary_join_element_wise(
            _labels(REFERENCE_PREFIX, method), serial, ""),
    })  # fmt: skip
    ids["payment"] += n
    return table


def _activities_table(rng, c, d, s, end, ids):
    """activities.csv rows: collectors' work on past-due documents, promises, disputes."""
    n, cu = len(d.day), d.cust
    open_days = s.open_until - s.due  # days past due while still open (up to end)
    parts = []  # per activity: doc, date, kind, outcome, promised_date, promised_cents

    def add(mask, date, kind, outcome, promised=None, amount=None):
        i = np.flatnonzero(mask)
        cols = [date, np.full(n, kind), np.broadcast_to(outcome, n), promised, amount]
        parts.append([i] + [np.full(len(i), -1) if a is None else a[i] for a in cols])

    for low, high, kind, texts, chance in COLLECTION_STEPS:
        dpd = rng.integers(low, high + 1, n)
        codes = np.array([OUTCOMES.index(t) if t else -1 for t in texts])
        outcome = codes[rng.integers(0, len(texts), n)]
        add((dpd < open_days) & (rng.random(n) < chance), s.due + dpd, kind, outcome)
    # promises to pay: kept ones are made days before the money arrives
    promise = (open_days >= 10) & (rng.random(n) < c.promise_rate[cu])
    broken = promise & (rng.random(n) < c.broken_rate[cu] + 0.65 * s.slip)
    kept = promise & ~broken & (s.first_pay <= end) & (s.first_pay - s.due >= 3)
    made = np.maximum(s.first_pay - rng.integers(2, 11, n), s.due + 1)
    promised = s.first_pay + rng.integers(0, 4, n)
    add(kept, made, PROMISE, OUTCOMES.index(KEPT), promised, s.p1)
    made = s.due + 3 + (rng.random(n) * np.maximum(open_days - 11, 0)).astype(int)
    for _ in range(2):  # who broke one promise often breaks the next
        promised = made + rng.integers(3, 11, n)
        broken &= (promised < np.minimum(s.first_pay, s.open_until)) & (promised <= end)
        add(broken, made, PROMISE, OUTCOMES.index(BROKEN), promised, s.net)
        broken &= rng.random(n) < 0.5 + 0.4 * s.slip
        made = promised + rng.integers(3, 11, n)
    wait = np.minimum(s.resolved_on - d.day - 2, 20)
    raised = d.day + 2 + (rng.random(n) * wait).astype(int)
    said = np.array([OUTCOMES.index(f"customer disputes {r}") for r in DISPUTE_REASONS])
    add(s.disputed, raised, DISPUTE, said[np.maximum(s.reason, 0)])
    how = np.where(s.dispute_credit, OUTCOMES.index(CREDITED), OUTCOMES.index(TO_PAY))
    add(s.disputed & (s.dispute_credit | s.paid), s.resolved_on, NOTE, how)
    chased = s.paid & s.no_remittance & (s.pay < s.due + 30)  # looked unpaid
    add(chased, s.pay + rng.integers(7, 31, n), NOTE, OUTCOMES.index(SAYS_PAID))

    cols = [np.concatenate(col) for col in zip(*parts, strict=True)]
    keep = np.flatnonzero(cols[1] <= end)
    doc, day, kind = (col[keep] for col in cols[:3])
    keep = keep[np.lexsort((kind, doc, day, cu[doc]))]
    doc, day, kind, outcome, promised, cents = (col[keep] for col in cols)
    k, is_promise = len(doc), kind == PROMISE
    table = pa.table({
        "activity_id": _numbered("ACT", ids["activity"] + np.arange(1, k + 1), 8),
        "customer_id": c.id.take(cu[doc]),
        "invoice_id": s.doc_id.take(pa.array(doc)),
        "activity_date": _dates(day),
        "kind": _labels(KINDS, kind),
        "promised_date": _dates(promised, is_promise),
        "promised_amount": _money(cents, is_promise),
        "outcome": _labels(OUTCOMES, outcome),
    })  # fmt: skip
    ids["activity"] += k
    return table


def _customers_table(rng, c, d, s, cal):
    """customers.csv rows; credit limits follow each customer's typical balance."""
    n, b = c.n, c.behaviour
    months = np.maximum((cal.end - c.start) / 30.4, 1)
    monthly = np.bincount(d.cust, weights=d.cents, minlength=n) / 100 / months
    usual_late = np.where(b == DETERIORATING, 1, np.maximum(c.late_mean, 0))
    typical = monthly * (c.terms + usual_late + 10) / 30
    limit = _round_up(typical * np.where(b == STRETCHER, 3, rng.uniform(1.5, 3, n)))
    # the planted few end over their limit; the rest were given room
    exposure = np.bincount(d.cust, weights=s.open_at_end, minlength=n) / 100
    over = rng.random(n) < c.over_limit
    short = np.minimum(limit, _round_up(exposure * rng.uniform(0.6, 0.9, n)))
    room = np.maximum(limit, _round_up(exposure * rng.uniform(1.15, 1.6, n)))
    limit = np.where(over, short, room)
    ago = np.where(
        rng.random(n) < c.stale_review, rng.integers(731, 1461, n), rng.integers(20, 731, n)
    )
    reviewed = np.where(b == NEW, c.start - rng.integers(0, 15, n), cal.end - ago)
    has_review = (b == NEW) | (rng.random(n) >= 0.03)
    names, brands, used = [], [], set()
    for i in range(n):
        endings = INDUSTRIES[INDUSTRY_NAMES[c.industry[i]]]
        word, ending = NAME_WORDS[rng.integers(len(NAME_WORDS))], endings[rng.integers(4)]
        brand = next(x for x in _brands(word, ending) if x not in used)
        used.add(brand)
        brands.append(brand)
        names.append(brand if c.segment[i] == 3 else f"{brand} {LEGAL_FORM[c.country[i]]}")
    # a few customers belong to an enterprise group, named after their parent
    parent = np.full(n, -1)
    heads = np.flatnonzero((c.segment == 0) & (b != NEW))
    child = (rng.random(n) < 0.05) & (b != NEW) & np.isin(c.segment, [1, 2])
    for i in np.flatnonzero(child) if len(heads) else []:
        parent[i] = heads[rng.integers(len(heads))]
        place = PLACES[rng.integers(len(PLACES))]
        brand = next(x for x in _brands(brands[parent[i]], place) if x not in used)
        used.add(brand)
        names[i] = f"{brand} {LEGAL_FORM[c.country[i]]}"
        c.industry[i], c.salesperson[i] = c.industry[parent[i]], c.salesperson[parent[i]]
    return pa.table({
        "customer_id": c.id,
        "name": pa.array(names),
        "segment": _labels(SEGMENTS, c.segment),
        "industry": _labels(INDUSTRY_NAMES, c.industry),
        "country": _labels(COUNTRIES, c.country),
        "currency": _labels(CURRENCIES, c.currency),
        "payment_terms_days": pa.array(c.terms),
        "credit_limit": _money(np.rint(limit * 100)),
        "credit_limit_reviewed_on": _dates(reviewed, has_review),
        "risk_rating": pa.array(c.risk),
        "salesperson": _labels(SALESPEOPLE, c.salesperson),
        "parent_id": c.id.take(pa.array(np.maximum(parent, 0), mask=parent < 0)),
    })  # fmt: skip


def _financials(rng, cal, credit_sales):
    """financials.csv: the books around the receivables, in USD, one row a month."""
    m = len(credit_sales)
    wave = np.sin(2 * np.pi * (cal.month_of_year - 7) / 12)  # stock builds before Q4
    revenue = credit_sales * rng.uniform(1.04, 1.06, m)  # plus some cash sales
    cogs = revenue * np.clip(0.65 + 0.02 * wave + rng.normal(0, 0.01, m), 0.6, 0.7)
    inventory = cogs * np.clip(2 + 0.35 * wave + rng.normal(0, 0.05, m), 1.5, 2.5)
    payable = cogs * np.clip(1.25 + 0.15 * wave + rng.normal(0, 0.04, m), 1, 1.5)
    columns = [revenue, credit_sales, cogs, inventory, payable]
    names = COLUMNS["financials.csv"].split(",")
    money = [_money(np.rint(v * 100)) for v in columns]
    return pa.table([_dates(cal.month_last), *money], names=names)


def _brands(word, ending):
    """Trading names, plainest first; a place or a number tells namesakes apart."""
    yield f"{word} {ending}"
    yield from (f"{word} {place} {ending}" for place in PLACES)
    yield from (f"{word} {ending} {k}" for k in range(2, 1 << 30))


def _pick(rng, probs):
    """One category per row, each row with its own probabilities."""
    u = rng.random(len(probs))[:, None]
    return np.minimum((u >= probs.cumsum(1)).sum(1), probs.shape[1] - 1)


def _banking_day(day):
    """Cash arriving on a Saturday or Sunday is posted the next Monday."""
    weekday = (day + 3) % 7  # day 0, 1970-01-01, was a Thursday
    return day + np.where(weekday == 5, 2, 0) + (weekday == 6)


def _month_end(day):
    """The last day of each day's month (write-offs are booked at month close)."""
    month = day.astype("datetime64[D]").astype("datetime64[M]")
    return (month + 1).astype("datetime64[D]").astype(np.int64) - 1


def _round_up(x):
    """Credit limits are round: two significant digits, at least 1,000."""
    step = 10.0 ** np.floor(np.log10(np.maximum(x, 1000)) - 1)
    return np.maximum(np.ceil(x / step) * step, 1000)


def _numbered(prefix, numbers, width):
    """Zero-padded identifiers (INV00000042, 0000611365), built without a Python loop."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers):  # ids outgrow their width rather than wrap
        width = max(width, len(str(numbers.max())))
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (numbers[:, None] // powers % 10 + 48).astype(np.uint8)
    head = np.broadcast_to(np.frombuffer(prefix.encode(), np.uint8), (len(numbers), len(prefix)))
    raw = np.hstack([head, digits])
    return pa.array(raw.view(f"S{raw.shape[1]}").ravel()).cast(pa.string())


def _labels(labels, codes):
    """Text for category codes; a negative code is an empty field."""
    codes = np.asarray(codes)
    return pa.array(labels).take(pa.array(codes, mask=codes < 0))


def _dates(days, valid=None):
    """ISO dates from day numbers; rows not valid are empty fields."""
    mask = None if valid is None else ~np.asarray(valid)
    return pa.array(np.asarray(days).astype(np.int32), type=pa.date32(), mask=mask)


def _money(cents, valid=None):
    """DECIMAL(18,2) from whole cents, exactly, so every amount is written with 2 decimals."""
    cents = np.asarray(cents).astype(np.int64)
    words = np.stack([cents, cents >> 63], axis=1)  # 128-bit two's complement
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    buffers = [bitmap, pa.py_buffer(words)]
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), buffers)
