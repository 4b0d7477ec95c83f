"""Realistic, deterministic demo/test/benchmark bank transactions for five demo companies (Django-free).

The data is deliberately messy in the ways real bank exports are: merchant names printed the way
banks print them (with store numbers, reference ids and phone numbers), recurring payments,
refunds, fees, and vendors whose account depends on the amount or on context (Amazon, Costco,
checks, Venmo...).  A classifier evaluated on it must not look better than it would on real data,
so a vendor-name lookup alone cannot reach 100% accuracy.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import math
import random
import statistics
import string
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "ACCOUNT_TYPES",
    "AccountSpec",
    "CHART_OF_ACCOUNTS",
    "CompanySpec",
    "COMPANIES",
    "GeneratedTransaction",
    "chart_for",
    "generate_transactions",
    "write_csv",
]

ACCOUNT_TYPES = ("asset", "liability", "equity", "income", "expense")


@dataclass(frozen=True)
class AccountSpec:
    """One account of a chart of accounts."""

    code: str
    name: str
    type: str
    is_bank: bool = False


# Codes are stable: fixtures, rules and trained models refer to them.
CHART_OF_ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("1000", "Checking", "asset", is_bank=True),
    AccountSpec("1100", "Accounts Receivable", "asset"),
    AccountSpec("1200", "Undeposited Funds", "asset"),
    AccountSpec("1300", "Inventory", "asset"),
    AccountSpec("1400", "Prepaid Expenses", "asset"),
    AccountSpec("1500", "Equipment", "asset"),
    AccountSpec("2000", "Accounts Payable", "liability"),
    AccountSpec("2100", "Credit Card", "liability"),
    AccountSpec("2200", "Sales Tax Payable", "liability"),
    AccountSpec("2300", "Payroll Liabilities", "liability"),
    AccountSpec("2400", "Loan Payable", "liability"),
    AccountSpec("3000", "Owner's Equity", "equity"),
    AccountSpec("3100", "Owner's Draw", "equity"),
    AccountSpec("3900", "Retained Earnings", "equity"),
    AccountSpec("5000", "Cost of Goods Sold", "expense"),
    AccountSpec("6000", "Contract Labor", "expense"),
    AccountSpec("6100", "Office Supplies", "expense"),
    AccountSpec("6200", "Utilities", "expense"),
    AccountSpec("6300", "Software Subscriptions", "expense"),
    AccountSpec("6400", "Payroll Expenses", "expense"),
    AccountSpec("6500", "Travel & Transport", "expense"),
    AccountSpec("6600", "Shipping & Freight", "expense"),
    AccountSpec("6700", "Rent", "expense"),
    AccountSpec("6800", "Bank Fees", "expense"),
    AccountSpec("6900", "Meals & Entertainment", "expense"),
    AccountSpec("7000", "Advertising", "expense"),
    AccountSpec("7100", "Insurance", "expense"),
    AccountSpec("7200", "Professional Fees", "expense"),
    AccountSpec("7300", "Repairs & Maintenance", "expense"),
    AccountSpec("7400", "Taxes & Licenses", "expense"),
    AccountSpec("7500", "Dues & Memberships", "expense"),
    AccountSpec("8000", "Sales Revenue", "income"),
    AccountSpec("8100", "Refunds & Other Income", "income"),
    AccountSpec("8200", "Interest Income", "income"),
)


@dataclass(frozen=True)
class CompanySpec:
    """A demo company and the accounts it adds to the shared chart."""

    name: str
    slug: str
    industry: str
    extra_accounts: tuple[AccountSpec, ...] = ()


COMPANIES: tuple[CompanySpec, ...] = (
    CompanySpec(
        "Hamilton Coffee",
        "hamilton-coffee",
        "coffee shop",
        (
            AccountSpec("5100", "Packaging & Disposables", "expense"),
            AccountSpec("8050", "Catering Revenue", "income"),
        ),
    ),
    CompanySpec(
        "Cincy Web Builders",
        "cincy-web-builders",
        "web agency",
        (
            AccountSpec("5200", "Hosting & Infrastructure", "expense"),
            AccountSpec("8060", "Maintenance Retainers", "income"),
        ),
    ),
    CompanySpec(
        "Liberty Childcare",
        "liberty-childcare",
        "childcare",
        (
            AccountSpec("5300", "Food Program", "expense"),
            AccountSpec("7600", "Licensing & Training", "expense"),
            AccountSpec("8070", "Government Subsidies", "income"),
        ),
    ),
    CompanySpec(
        "Contreras RE",
        "contreras-re",
        "real estate",
        (
            AccountSpec("5400", "Commissions Paid", "expense"),
            AccountSpec("5500", "Staging & Listing Costs", "expense"),
            AccountSpec("8080", "Commission Income", "income"),
        ),
    ),
    CompanySpec(
        "Midwest Accounting",
        "midwest-accounting",
        "accounting firm",
        (
            AccountSpec("7800", "Continuing Education", "expense"),
            AccountSpec("8090", "Tax Preparation Fees", "income"),
        ),
    ),
)
_COMPANIES_BY_SLUG = {company.slug: company for company in COMPANIES}


def _company(company_slug: str) -> CompanySpec:
    """Look a company up by slug, naming the valid slugs when it is unknown."""
    try:
        return _COMPANIES_BY_SLUG[company_slug]
    except KeyError:
        known = ", ".join(sorted(_COMPANIES_BY_SLUG))
        raise ValueError(f"unknown company slug {company_slug!r} (known: {known})") from None


def chart_for(company_slug: str) -> tuple[AccountSpec, ...]:
    """Return the shared chart plus the company's extra accounts, ordered by code."""
    accounts = CHART_OF_ACCOUNTS + _company(company_slug).extra_accounts
    return tuple(sorted(accounts, key=lambda account: account.code))


@dataclass(frozen=True, slots=True)
class GeneratedTransaction:
    """One bank-statement line with the account a bookkeeper assigned to it."""

    date: datetime.date
    description: str
    counterparty: str
    amount: Decimal  # signed from the company's view: money in > 0, money out < 0
    currency: str
    account_code: str


# --------------------------------------------------------------------------------------------
# Generator model.  Amounts are integer cents throughout; `35_00` reads as $35.00.


@dataclass(frozen=True)
class _Use:
    """One way a vendor's transactions are booked: the account and its typical amount."""

    account: str
    weight: int
    typical_cents: int
    spread: float = 0.0  # log-normal sigma of the amount; 0 means a fixed amount


@dataclass(frozen=True)
class _Vendor:
    """A payee or payer as banks print it, and how its transactions are booked."""

    templates: tuple[str, ...]  # description variants; {fields} are filled per row
    uses: tuple[_Use, ...]
    counterparties: tuple[str, ...] = ()  # names an enriching bank may show; () = never any
    inflow: bool = False  # money in (deposits, payouts) rather than money out
    refundable: bool = False  # retail merchants occasionally refund a purchase


@dataclass(frozen=True)
class _Scheduled:
    """A recurring transaction: rent, subscriptions, payroll, utilities, daily card deposits."""

    vendor: _Vendor
    days: tuple[int, ...] = ()  # days of the month (31 = last day); () = every day
    months: tuple[int, ...] = ()  # () = every month
    ach: bool = True  # ACH/bank items post on business days: weekend dates roll to Monday


@dataclass(frozen=True)
class _Profile:
    """How one company's bank account behaves."""

    daily_rate: float  # unscheduled transactions on an average day
    weekday_weights: tuple[float, ...]  # Monday..Sunday activity multipliers
    month_weights: tuple[float, ...]  # January..December seasonality
    owner: str
    short_name: str  # how the company's own name appears in ACH descriptions
    mail_domain: str
    vendors: tuple[tuple[_Vendor, int], ...]  # unscheduled vendors and relative frequency
    schedule: tuple[_Scheduled, ...]


def _v(
    templates: tuple[str, ...] | str,
    *uses: tuple[str, int, int] | tuple[str, int, int, float],
    counterparties: tuple[str, ...] | str = (),
    inflow: bool = False,
    refundable: bool = False,
) -> _Vendor:
    """Build a vendor from (account, weight, typical_cents[, spread]) tuples; keeps tables short."""
    if isinstance(templates, str):
        templates = (templates,)
    if isinstance(counterparties, str):
        counterparties = (counterparties,)
    return _Vendor(
        templates=templates,
        uses=tuple(_Use(*use) for use in uses),
        counterparties=counterparties,
        inflow=inflow,
        refundable=refundable,
    )


# Weekly and yearly rhythms.
_OFFICE_WEEK = (1.2, 1.2, 1.2, 1.2, 1.1, 0.4, 0.2)
_RETAIL_WEEK = (1.0, 1.0, 1.0, 1.0, 1.1, 1.0, 0.7)
_FLAT_YEAR = (1.0,) * 12

# --------------------------------------------------------------------------------------------
# Description templates shared by several companies, printed the way banks print them.
# Duplicated entries make the common spelling more frequent than the rare ones.

_AMAZON = (
    "AMZN MKTP US*{id6}",
    "AMZN Mktp US*{id6}",
    "AMZN MKTP US*{id6}",
    "Amazon.com*{id9}",
    "AMAZON MKTPL*{id6}",
    "AMAZON.COM*{id6} AMZN.COM/BILL WA",
)
_STAPLES = (
    "POS DEBIT {mmdd} STAPLES {store5} {city}",
    "STAPLES {store5} {city}",
    "STAPLES STORE {store4} {city}",
    "DEBIT CARD PURCHASE STAPLES #{store4}",
)
_COSTCO = (
    "COSTCO WHSE #{store4} {city}",
    "COSTCO WHSE #{store4}",
    "COSTCO WHOLESALE {store4} {city}",
    "POS DEBIT {mmdd} COSTCO WHSE #{store4}",
)
_KROGER = ("KROGER #{store3} {city}", "KROGER {store4} {city}", "POS PURCHASE KROGER #{store3}")
_HOME_DEPOT = ("THE HOME DEPOT #{store4} {city}", "THE HOME DEPOT {store4}", "HOMEDEPOT.COM {ref10}")
_TARGET = ("TARGET {store8} {city}", "TARGET T-{store4} {city}", "TARGET.COM *{id6}")
_UBER = ("UBER *TRIP HELP.UBER.COM CA", "UBER *TRIP {id6}", "UBER TRIP HELP.UBER.COM")
_UBER_EATS = ("UBER *EATS {id6}", "UBER EATS HELP.UBER.COM CA", "UBER *EATS PENDING")
_USPS = ("USPS PO {ref10} {city}", "USPS PO {store4} {city}", "USPS.COM CLICKNSHIP {ref7}")
_UPS = ("UPS*{ref10}", "THE UPS STORE {store4} {city}")
_FEDEX = ("FEDEX {ref9} MEMPHIS TN", "FEDEX {ref9}")
_GAS = (
    "SHELL OIL {ref10} {city}",
    "SPEEDWAY {store5} {city}",
    "BP#{ref7}MASON BP MASON OH",
    "MARATHON PETRO{store5} {city}",
)
_RESTAURANTS = (
    "SQ *HAMILTON COFFEE #{store4}",
    "SKYLINE CHILI #{store4} {city}",
    "TST*LA ROSAS PIZZERIA {city}",
    "TST* GRAETERS ICE CREAM {store4}",
    "CHIPOTLE {store4} {city}",
    "STARBUCKS STORE {store5}",
    "PANERA BREAD #{store6}",
)
_COMCAST = ("COMCAST CABLE COMM 800-COMCAST", "COMCAST CABLE COMM {ref7}", "COMCAST BUSINESS 800-391-3000")
_DUKE = ("DUKE ENERGY OH {ref10} WEB", "DUKE-ENERGY BILL PAY {yymmdd}", "DUKE ENERGY PAYMENT {ref10}")
_WATER = ("GCWW WATER BILL {ref7}", "CITY OF CINCINNATI WATER WORKS {ref7}")
_CIN_BELL = ("CINCINNATI BELL {ref7} WEB", "CIN BELL TELEPHONE {ref10}")
_ADOBE = (
    "ADOBE *CREATIVE CLD 408-536-6000 CA",
    "ADOBE *CREATIVE CLD 408-536-6000 CA",
    "ADOBE *ADOBE 800-833-6687 CA",
)
_GOOGLE_WORKSPACE = ("GOOGLE *GSUITE_{domain}", "GOOGLE *Workspace_{domain} cc@google.com", "GOOGLE*GSUITE {id6}")
_GOOGLE_ADS = ("GOOGLE *ADS{ref10} cc@google.com CA", "GOOGLE ADS {ref10}")
_FACEBOOK = ("FACEBK *{id9}", "FACEBK {id9} MENLO PARK CA", "FACEBK *{id6} FB.ME/ADS CA")
_GUSTO_NET = ("GUSTO NET {yymmdd} {id6} PPD ID: 9138864001", "GUSTO PAYROLL {yymmdd} PPD ID: 9138864001")
_GUSTO_TAX = ("GUSTO TAX {yymmdd} {id6} PPD ID: 9138864001",)
_GUSTO_FEE = ("GUSTO FEE {yymmdd} {id6} PPD ID: 9138864001",)
_CHECK = ("CHECK {check}", "CHECK {check}", "CHECK #{check}", "CHK {check}")
_DEPOSIT = ("MOBILE DEPOSIT", "REMOTE ONLINE DEPOSIT #{ref7}", "DEPOSIT", "BRANCH DEPOSIT {mmdd}")
_VENMO = ("VENMO PAYMENT {ref10} WEB ID: 3264681992", "VENMO *{name}")
_PAYPAL = ("PAYPAL INST XFER {ref10} WEB ID: PAYPALSI77", "PAYPAL TRANSFER {ref10} PPD ID: PAYPALSD11")
_ZELLE_OUT = ("ZELLE PAYMENT TO {name} {zelle_ref}", "Zelle payment to {name} Conf# {id9}")
_IRS = ("IRS USATAXPYMT {ref15} CCD", "US TREASURY 941 TAX PYMT {ref10}")
_OWNER_DRAW = ("ONLINE TRANSFER TO {owner} CHK ...{card} REF #IB{id9}", "ONLINE BANKING TRANSFER TO CHK {card}")
_OWNER_CONTRIBUTION = ("ONLINE TRANSFER FROM {owner} SAV ...{card} REF #IB{id9}",)
_SERVICE_FEE = ("MONTHLY SERVICE FEE", "MONTHLY MAINTENANCE FEE")
_BANK_FEES = ("WIRE TRANSFER FEE", "OVERDRAFT ITEM FEE {ref7}", "SERVICE CHARGE {mmdd}", "STOP PAYMENT FEE")
_INTEREST = ("INTEREST PAYMENT", "INTEREST EARNED")

# Vendors most companies use, with the same bookkeeping everywhere.
_UBER_TRIPS = _v(_UBER, ("6500", 1, 24_00, 0.5), counterparties="Uber")
# Enrichment often labels Uber Eats orders plain "Uber", so the counterparty alone is ambiguous.
_UBER_EATS_ORDERS = _v(_UBER_EATS, ("6900", 1, 32_00, 0.4), counterparties=("Uber Eats", "Uber"))
_RESTAURANT_MEALS = _v(_RESTAURANTS, ("6900", 1, 26_00, 0.6))
_GAS_STATIONS = _v(_GAS, ("6500", 1, 48_00, 0.3))
_USPS_POSTAGE = _v(_USPS, ("6600", 85, 22_00, 0.7), ("6100", 15, 14_00, 0.4), counterparties="USPS")
_UPS_SHIPPING = _v(_UPS, ("6600", 1, 35_00, 0.6), counterparties="UPS")
_FEDEX_SHIPPING = _v(_FEDEX, ("6600", 1, 42_00, 0.6), counterparties="FedEx")
_BANK_FEE = _v(_BANK_FEES, ("6800", 1, 25_00, 0.4))
# The IRS takes payroll deposits, business taxes and the owner's personal estimates alike.
_IRS_PAYMENT = _v(_IRS, ("2300", 50, 1800_00, 0.6), ("7400", 25, 900_00, 0.6), ("3100", 25, 3000_00, 0.5),
                  counterparties="IRS")
_VENMO_PAYMENT = _v(_VENMO, ("6000", 35, 150_00, 0.7), ("6900", 30, 45_00, 0.6), ("3100", 20, 200_00, 0.6),
                    ("6100", 15, 40_00, 0.6), counterparties="Venmo")
_PAYPAL_TRANSFER = _v(_PAYPAL, ("6300", 30, 30_00, 0.8), ("6100", 30, 55_00, 0.8), ("7000", 20, 90_00, 0.7),
                      ("6600", 20, 25_00, 0.6), counterparties="PayPal")
_OWNER_DRAWS = _v(_OWNER_DRAW, ("3100", 1, 2500_00, 0.5), counterparties="{owner}")
_OWNER_CONTRIBUTIONS = _v(_OWNER_CONTRIBUTION, ("3000", 1, 5000_00, 0.6), counterparties="{owner}", inflow=True)
_MONTHLY_FEE = _v(_SERVICE_FEE, ("6800", 1, 15_00))
_INTEREST_INCOME = _v(_INTEREST, ("8200", 1, 4_10, 0.8), inflow=True)

_CITIES = (
    "CINCINNATI OH", "CINCINNATI OH", "CINCINNATI OH", "BLUE ASH OH", "MASON OH", "WEST CHESTER OH",
    "COVINGTON KY", "FLORENCE KY", "NORWOOD OH", "FAIRFIELD OH", "NEWPORT KY", "SHARONVILLE OH",
)
_PEOPLE = (
    "MARIA LOPEZ", "JAMES CARTER", "AISHA JOHNSON", "KEVIN NGUYEN", "EMILY SCHMIDT", "DAVID OKAFOR",
    "SARAH MILLER", "LUIS HERNANDEZ", "TOM BECKER", "GRACE KIM",
)
_TITLE_COMPANIES = ("NORTHWEST TITLE AGENCY", "VALMER LAND TITLE", "PRIORITY TITLE LLC", "GUARDIAN TITLE")


def _zelle(uses: tuple[tuple[str, int, int, float], ...]) -> _Vendor:
    """Zelle payments to people; the same payee can be a contractor one week and lunch the next."""
    return _v(_ZELLE_OUT, *uses, counterparties="{name}")


# --------------------------------------------------------------------------------------------
# Company profiles.

_HAMILTON_COFFEE = _Profile(
    daily_rate=6.0,
    weekday_weights=_RETAIL_WEEK,
    month_weights=(0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 1.0, 1.1, 1.1, 1.3),
    owner="ELLEN HAMILTON",
    short_name="HAMILTON COFFEE",
    mail_domain="hamiltoncoffee",
    vendors=(
        (_v(("SYSCO CINCINNATI {ref7}", "SYSCO FOOD SVCS {ref10} CCD"),
            ("5000", 85, 650_00, 0.35), ("5100", 15, 220_00, 0.4), counterparties="Sysco"), 30),
        (_v(("PRAIRIE FARMS DAIRY {ref7} CCD", "PRAIRIE FARMS {ref7}"),
            ("5000", 1, 180_00, 0.3), counterparties="Prairie Farms Dairy"), 25),
        # Some bookkeepers capitalise bean purchases as inventory, most expense them.
        (_v(("DEEPER ROOTS COFFEE {ref7}", "SQ *DEEPER ROOTS COFFEE"),
            ("5000", 80, 420_00, 0.3), ("1300", 20, 900_00, 0.3), counterparties="Deeper Roots Coffee"), 14),
        (_v(("RESTAURANT DEPOT #{store4}", "POS DEBIT {mmdd} RESTAURANT DEPOT {store4}"),
            ("5000", 60, 160_00, 0.5), ("5100", 30, 110_00, 0.5), ("6100", 10, 40_00, 0.5),
            counterparties="Restaurant Depot", refundable=True), 14),
        (_v(("WEBSTAURANTSTORE {ref7} PA", "WEBSTAURANT STORE {id6}"),
            ("5100", 50, 120_00, 0.5), ("7300", 30, 85_00, 0.6), ("1500", 20, 900_00, 0.5),
            counterparties="WebstaurantStore", refundable=True), 8),
        (_v(_COSTCO, ("5000", 55, 180_00, 0.5), ("6100", 20, 60_00, 0.5), ("6900", 25, 45_00, 0.5),
            counterparties="Costco", refundable=True), 14),
        (_v(_AMAZON, ("5100", 35, 60_00, 0.6), ("6100", 40, 40_00, 0.7), ("7300", 15, 70_00, 0.6),
            ("1500", 10, 600_00, 0.5), counterparties="Amazon", refundable=True), 14),
        (_v(_KROGER, ("5000", 70, 45_00, 0.5), ("6100", 30, 25_00, 0.5), counterparties="Kroger",
            refundable=True), 12),
        (_v(("CINTAS CORP {ref10} CCD", "CINTAS {ref7}"),
            ("7300", 70, 95_00, 0.2), ("6100", 30, 95_00, 0.2), counterparties="Cintas"), 4),
        (_v(("HOBART SERVICE {ref7}", "HOBART CORP {ref10}"), ("7300", 1, 350_00, 0.6),
            counterparties="Hobart"), 2),
        (_v(_HOME_DEPOT, ("7300", 70, 80_00, 0.6), ("6100", 20, 30_00, 0.5), ("1500", 10, 700_00, 0.5),
            counterparties="The Home Depot", refundable=True), 5),
        (_v(("SQ *SQUARE HARDWARE {id6}",), ("1500", 1, 300_00, 0.5), counterparties="Square"), 1),
        (_v(_FACEBOOK, ("7000", 1, 45_00, 0.5), counterparties="Facebook"), 4),
        (_v(("YELP INC 877-767-9357 CA", "YELP.COM {ref7}"), ("7000", 1, 150_00, 0.4), counterparties="Yelp"), 2),
        (_v(_CHECK, ("5000", 30, 250_00, 0.6), ("7300", 30, 400_00, 0.7), ("6000", 20, 300_00, 0.6),
            ("7200", 20, 600_00, 0.5)), 6),
        (_VENMO_PAYMENT, 4),
        (_zelle((("5000", 60, 180_00, 0.5), ("6000", 40, 220_00, 0.5))), 4),
        (_v(_DEPOSIT, ("8050", 40, 450_00, 0.6), ("8000", 35, 600_00, 0.5), ("1100", 25, 450_00, 0.6),
            inflow=True), 5),
        (_v(("DOORDASH INC DES:MERCHANT ID:{ref10} INDN:{company} CO ID:1270195780 CCD",),
            ("8000", 1, 320_00, 0.4), counterparties="DoorDash", inflow=True), 5),
        (_USPS_POSTAGE, 2),
        (_UPS_SHIPPING, 1),
        (_BANK_FEE, 1),
        (_IRS_PAYMENT, 1),
        (_PAYPAL_TRANSFER, 2),
        (_OWNER_CONTRIBUTIONS, 1),
    ),
    schedule=(
        # Card sales settle every business day; weekend sales arrive on Monday.
        _Scheduled(_v(("SQUARE INC DES:SQ{yymmdd} ID:T{id9} INDN:{company} CO ID:9424300002 CCD",
                       "SQUARE INC {yymmdd}P2 {id12} CCD"),
                      ("8000", 1, 1150_00, 0.3), counterparties="Square", inflow=True)),
        _Scheduled(_v(("TOWNE PROPERTIES DES:RENT ID:{ref10} INDN:{company} CO ID:1311236011 PPD",),
                      ("6700", 1, 3200_00), counterparties="Towne Properties"), days=(1,)),
        _Scheduled(_v(_DUKE, ("6200", 1, 420_00, 0.2), counterparties="Duke Energy"), days=(18,)),
        _Scheduled(_v(_COMCAST, ("6200", 1, 129_95), counterparties="Comcast"), days=(9,), ach=False),
        _Scheduled(_v(_WATER, ("6200", 1, 160_00, 0.25), counterparties="Greater Cincinnati Water Works"),
                   days=(22,)),
        _Scheduled(_v(("SQ *SQUARE FOR RESTAURANTS {id6}",), ("6300", 1, 69_00), counterparties="Square"),
                   days=(3,), ach=False),
        _Scheduled(_v(_GUSTO_NET, ("6400", 1, 7800_00, 0.08), counterparties="Gusto"), days=(15, 31)),
        # Payroll taxes: expensed by some bookkeepers, booked to the liability by others.
        _Scheduled(_v(_GUSTO_TAX, ("6400", 70, 2100_00, 0.1), ("2300", 30, 2100_00, 0.1),
                      counterparties="Gusto"), days=(15, 31)),
        _Scheduled(_v(_GUSTO_FEE, ("6300", 60, 126_00), ("6400", 40, 126_00), counterparties="Gusto"),
                   days=(1,)),
        _Scheduled(_v(("NEXT INSURANCE INC {id6}", "NEXT INSURANCE {ref10}"), ("7100", 1, 285_00),
                      counterparties="Next Insurance"), days=(5,)),
        _Scheduled(_v(("OHIO DEPT TAX SALES TAX {ref10}", "OH DEPT OF TAXATION {ref10} CCD"),
                      ("2200", 1, 1900_00, 0.25), counterparties="Ohio Department of Taxation"), days=(23,)),
        _Scheduled(_v(("CHASE CREDIT CRD AUTOPAY {yymmdd} PPD ID: 4760039224",),
                      ("2100", 1, 1400_00, 0.5), counterparties="Chase Card Services"), days=(12,)),
        _Scheduled(_v(("SBA EIDL LOAN PMT {ref10}", "SBA LOAN PAYMENT {ref10}"), ("2400", 1, 731_00),
                      counterparties="U.S. Small Business Administration"), days=(28,)),
        _Scheduled(_MONTHLY_FEE, days=(31,)),
        _Scheduled(_INTEREST_INCOME, days=(31,)),
        _Scheduled(_OWNER_DRAWS, days=(16,)),
    ),
)

_CINCY_WEB_BUILDERS = _Profile(
    daily_rate=3.5,
    weekday_weights=_OFFICE_WEEK,
    month_weights=_FLAT_YEAR,
    owner="MARCUS REED",
    short_name="CINCY WEB BUILDERS",
    mail_domain="cincywebbuilders",
    vendors=(
        (_v(_AMAZON, ("6100", 65, 45_00, 0.8), ("1500", 25, 650_00, 0.5), ("6300", 10, 25_00, 0.5),
            counterparties="Amazon", refundable=True), 16),
        (_v(("BEST BUY {store8} {city}", "BESTBUY.COM {ref10}", "BEST BUY #{store4} {city}"),
            ("1500", 60, 900_00, 0.5), ("6100", 40, 45_00, 0.7), counterparties="Best Buy", refundable=True), 5),
        (_v(("APPLE.COM/BILL 866-712-7753 CA", "APPLE.COM/BILL {id6}"), ("6300", 1, 9_99, 0.6),
            counterparties="Apple"), 5),
        # Same counterparty as the subscriptions above; hardware is capitalised.
        (_v(("APPLE STORE #R{store3} {city}", "APPLE ONLINE STORE {ref10}"), ("1500", 80, 1600_00, 0.4),
            ("6100", 20, 79_00, 0.4), counterparties="Apple", refundable=True), 2),
        (_v(("NAMECHEAP.COM {id6}", "NAME-CHEAP.COM* {id6}"), ("5200", 60, 14_00, 0.8), ("6300", 40, 14_00, 0.8),
            counterparties="Namecheap"), 6),
        (_v(("UPWORK -{ref9}REF", "UPWORK ESCROW INC {ref7}"), ("6000", 1, 850_00, 0.7),
            counterparties="Upwork"), 8),
        # Small LinkedIn charges are Premium (software), large ones are job or ad campaigns.
        (_v(("LINKEDIN {id9}", "LNKD.IN*{id6}", "LINKEDIN JOBS {id9}"), ("7000", 60, 300_00, 0.5),
            ("6300", 40, 59_99, 0.1), counterparties="LinkedIn"), 4),
        (_v(_GOOGLE_ADS, ("7000", 1, 250_00, 0.6), counterparties="Google"), 6),
        (_v(("DELTA AIR {ref13}", "DELTA AIR LINES ATLANTA"), ("6500", 1, 380_00, 0.4), counterparties="Delta"), 2),
        (_v(("MARRIOTT {city}", "MARRIOTT HOTELS {ref7}"), ("6500", 1, 220_00, 0.4), counterparties="Marriott"), 2),
        (_UBER_TRIPS, 7),
        (_UBER_EATS_ORDERS, 6),
        (_RESTAURANT_MEALS, 14),
        (_v(_STAPLES, ("6100", 90, 40_00, 0.7), ("1500", 10, 350_00, 0.4), counterparties="Staples",
            refundable=True), 6),
        (_v(_CHECK, ("6000", 40, 900_00, 0.6), ("7200", 35, 750_00, 0.5), ("7300", 10, 250_00, 0.6),
            ("7500", 15, 300_00, 0.5)), 3),
        (_zelle((("6000", 80, 600_00, 0.6), ("3100", 10, 300_00, 0.5), ("6900", 10, 60_00, 0.5))), 4),
        (_VENMO_PAYMENT, 3),
        (_PAYPAL_TRANSFER, 4),
        (_v(("STRIPE DES:TRANSFER ID:ST-{id12} INDN:{company} CO ID:1800948598 CCD",
             "STRIPE TRANSFER {yymmdd} ST-{id12}"),
            ("8000", 1, 1200_00, 0.8), counterparties="Stripe", inflow=True), 14),
        # Client ACH payments settle invoices (receivable) or are booked straight to revenue.
        (_v(("{client} DES:ACH PMT ID:{ref10} INDN:{company} CO ID:9000000001 CCD",
             "ACH CREDIT {client} {yymmdd}"),
            ("1100", 75, 4200_00, 0.6), ("8000", 25, 2500_00, 0.6), counterparties="{client}", inflow=True), 8),
        (_v(_DEPOSIT, ("1100", 80, 3000_00, 0.6), ("8000", 20, 1500_00, 0.6), inflow=True), 4),
        (_UPS_SHIPPING, 1),
        (_USPS_POSTAGE, 1),
        (_BANK_FEE, 1),
        (_IRS_PAYMENT, 1),
        (_OWNER_CONTRIBUTIONS, 1),
    ),
    schedule=(
        # AWS is hosting for client sites to some bookkeepers and "software" to others.
        _Scheduled(_v(("AWS EMEA AWS.AMAZON.CO", "AMAZON WEB SERVICES AWS.AMAZON.CO WA"),
                      ("5200", 75, 640_00, 0.35), ("6300", 25, 640_00, 0.35), counterparties="Amazon Web Services"),
                   days=(2,), ach=False),
        _Scheduled(_v(("DIGITALOCEAN.COM NY", "DIGITALOCEAN.COM {id6}"), ("5200", 1, 180_00, 0.3),
                      counterparties="DigitalOcean"), days=(1,), ach=False),
        _Scheduled(_v(("GITHUB, INC. GITHUB.COM CA", "GITHUB *{id6}"), ("6300", 1, 84_00),
                      counterparties="GitHub"), days=(14,), ach=False),
        _Scheduled(_v(("FIGMA {ref10} FIGMA.COM CA", "FIGMA MONTHLY RENEWAL"), ("6300", 1, 75_00),
                      counterparties="Figma"), days=(20,), ach=False),
        _Scheduled(_v(_ADOBE, ("6300", 1, 89_99), counterparties="Adobe"), days=(7,), ach=False),
        _Scheduled(_v(_GOOGLE_WORKSPACE, ("6300", 1, 72_00), counterparties="Google"), days=(1,), ach=False),
        _Scheduled(_v(("SLACK T0{id6} DUBLIN", "SLACK TECHNOLOGIES {ref7}"), ("6300", 1, 43_50),
                      counterparties="Slack"), days=(10,), ach=False),
        _Scheduled(_v(("WEWORK {ref7} NY", "WEWORK CINCINNATI {ref7}"), ("6700", 1, 1850_00),
                      counterparties="WeWork"), days=(1,)),
        _Scheduled(_v(_COMCAST, ("6200", 1, 189_90), counterparties="Comcast"), days=(9,), ach=False),
        _Scheduled(_v(_DUKE, ("6200", 1, 95_00, 0.3), counterparties="Duke Energy"), days=(18,)),
        _Scheduled(_v(_GUSTO_NET, ("6400", 1, 11500_00, 0.05), counterparties="Gusto"), days=(15, 31)),
        _Scheduled(_v(_GUSTO_TAX, ("6400", 70, 3100_00, 0.1), ("2300", 30, 3100_00, 0.1),
                      counterparties="Gusto"), days=(15, 31)),
        _Scheduled(_v(_GUSTO_FEE, ("6300", 60, 95_00), ("6400", 40, 95_00), counterparties="Gusto"), days=(1,)),
        _Scheduled(_v(("HISCOX INC 888-202-1908", "HISCOX INC {ref10}"), ("7100", 1, 142_00),
                      counterparties="Hiscox"), days=(5,)),
        _Scheduled(_v(("TRIHEALTH DES:ACH PMT ID:{ref10} INDN:{company} CO ID:1310439806 CCD",),
                      ("8060", 85, 2500_00), ("1100", 15, 2500_00), counterparties="TriHealth", inflow=True),
                   days=(5,)),
        _Scheduled(_v(("AMEX EPAYMENT ACH PMT {id6}", "AMERICAN EXPRESS ACH PMT {id9}"),
                      ("2100", 1, 2600_00, 0.5), counterparties="American Express"), days=(12,)),
        _Scheduled(_MONTHLY_FEE, days=(31,)),
        _Scheduled(_INTEREST_INCOME, days=(31,)),
        _Scheduled(_OWNER_DRAWS, days=(16,)),
    ),
)

_LIBERTY_CHILDCARE = _Profile(
    daily_rate=4.0,
    weekday_weights=_OFFICE_WEEK,
    month_weights=(1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 1.2, 1.0, 1.0, 0.9, 0.9),
    owner="TANYA BROOKS",
    short_name="LIBERTY CHILDCARE",
    mail_domain="libertychildcare",
    vendors=(
        (_v(_KROGER, ("5300", 65, 140_00, 0.5), ("6100", 35, 45_00, 0.7), counterparties="Kroger",
            refundable=True), 18),
        (_v(("GORDON FOOD SERVICE {store4}", "GFS STORE #{store4} {city}"), ("5300", 1, 380_00, 0.4),
            counterparties="Gordon Food Service"), 10),
        (_v(("ALDI {store5} {city}",), ("5300", 1, 95_00, 0.4), counterparties="Aldi", refundable=True), 8),
        (_v(_COSTCO, ("5300", 50, 260_00, 0.5), ("6100", 35, 90_00, 0.5), ("6900", 15, 60_00, 0.5),
            counterparties="Costco", refundable=True), 8),
        (_v(_TARGET, ("6100", 55, 65_00, 0.6), ("5300", 30, 80_00, 0.5), ("1500", 15, 450_00, 0.4),
            counterparties="Target", refundable=True), 10),
        (_v(("LAKESHORE LEARNING {store3}", "LAKESHORE LEARNING MAT {ref7}"), ("6100", 80, 140_00, 0.6),
            ("1500", 20, 900_00, 0.4), counterparties="Lakeshore Learning", refundable=True), 6),
        (_v(("KAPLAN EARLY LEARNING {ref7}", "KAPLANCO.COM {id6}"), ("6100", 60, 120_00, 0.5),
            ("1500", 40, 700_00, 0.5), counterparties="Kaplan Early Learning"), 3),
        (_v(_AMAZON, ("6100", 60, 45_00, 0.7), ("5300", 15, 60_00, 0.5), ("7300", 15, 55_00, 0.6),
            ("1500", 10, 500_00, 0.5), counterparties="Amazon", refundable=True), 14),
        (_v(_HOME_DEPOT, ("7300", 70, 90_00, 0.6), ("6100", 15, 30_00, 0.5), ("1500", 15, 800_00, 0.5),
            counterparties="The Home Depot", refundable=True), 5),
        (_v(("CHILDCARE EDUCATION INS {ref7}", "CCEI ONLINE TRAINING {id6}"), ("7600", 1, 45_00, 0.5),
            counterparties="ChildCare Education Institute"), 3),
        (_v(("OH BCI WEBCHECK {ref7}", "OHIO BCI BACKGROUND CHK {ref7}"), ("7600", 60, 35_00, 0.2),
            ("7400", 40, 35_00, 0.2), counterparties="Ohio BCI"), 2),
        (_v(("CARE.COM {id6}", "CARE.COM SUBSCRIPTION {ref7}"), ("7000", 70, 120_00, 0.4),
            ("6300", 30, 39_00, 0.2), counterparties="Care.com"), 2),
        (_v(_FACEBOOK, ("7000", 1, 60_00, 0.5), counterparties="Facebook"), 3),
        (_v(_CHECK, ("7300", 40, 350_00, 0.6), ("6000", 30, 400_00, 0.6), ("7200", 20, 500_00, 0.5),
            ("7600", 10, 150_00, 0.5)), 5),
        (_VENMO_PAYMENT, 3),
        (_RESTAURANT_MEALS, 3),
        (_USPS_POSTAGE, 1),
        (_v(("BRIGHTWHEEL DES:PAYOUT ID:{ref10} INDN:{company} CO ID:4814277001 CCD",
             "BRIGHTWHEEL PAYOUT {yymmdd}"),
            ("8000", 1, 2400_00, 0.5), counterparties="brightwheel", inflow=True), 18),
        (_v(_DEPOSIT, ("8000", 75, 900_00, 0.6), ("1100", 25, 900_00, 0.6), inflow=True), 8),
        (_BANK_FEE, 1),
        (_IRS_PAYMENT, 1),
        (_OWNER_CONTRIBUTIONS, 1),
    ),
    schedule=(
        # Rent goes out as a paper check, so it is just another "CHECK nnnn" line.
        _Scheduled(_v(_CHECK, ("6700", 1, 4800_00)), days=(1,)),
        _Scheduled(_v(_DUKE, ("6200", 1, 610_00, 0.25), counterparties="Duke Energy"), days=(18,)),
        _Scheduled(_v(_WATER, ("6200", 1, 210_00, 0.25), counterparties="Greater Cincinnati Water Works"),
                   days=(22,)),
        _Scheduled(_v(_CIN_BELL, ("6200", 1, 149_99), counterparties="Cincinnati Bell"), days=(9,)),
        _Scheduled(_v(("ADP WAGE PAY WAGE PAY {ref15} CCD",), ("6400", 1, 24000_00, 0.05), counterparties="ADP"),
                   days=(15, 31)),
        _Scheduled(_v(("ADP Tax ADP Tax {ref15} CCD",), ("6400", 65, 6500_00, 0.1), ("2300", 35, 6500_00, 0.1),
                      counterparties="ADP"), days=(15, 31)),
        _Scheduled(_v(("ADP PAYROLL FEES ADP FEES {ref15} CCD",), ("6400", 50, 180_00, 0.1),
                      ("6300", 50, 180_00, 0.1), counterparties="ADP"), days=(2,)),
        _Scheduled(_v(("PHILADELPHIA INS CO {ref10}", "PHILADELPHIA INSURANCE {ref10} PPD"),
                      ("7100", 1, 640_00), counterparties="Philadelphia Insurance"), days=(5,)),
        _Scheduled(_v(("OHIO DEPT JFS DES:PCC PAYMNT ID:{ref10} INDN:{company} CO ID:3316000062 CCD",),
                      ("8070", 1, 5200_00, 0.3), counterparties="Ohio Department of Job and Family Services",
                      inflow=True), days=(5, 20)),
        # Food-program reimbursements: income to some bookkeepers, a credit to food cost to others.
        _Scheduled(_v(("OHIO DEPT EDUCATI DES:CACFP ID:{ref10} INDN:{company} CO ID:3316000062 CCD",),
                      ("8070", 60, 1300_00, 0.3), ("5300", 40, 1300_00, 0.3),
                      counterparties="Ohio Department of Education", inflow=True), days=(25,)),
        _Scheduled(_v(("AMEX EPAYMENT ACH PMT {id6}",), ("2100", 1, 1800_00, 0.5),
                      counterparties="American Express"), days=(12,)),
        _Scheduled(_MONTHLY_FEE, days=(31,)),
        _Scheduled(_INTEREST_INCOME, days=(31,)),
        _Scheduled(_OWNER_DRAWS, days=(16,)),
    ),
)

_CONTRERAS_RE = _Profile(
    daily_rate=2.5,
    weekday_weights=(1.1, 1.1, 1.1, 1.1, 1.1, 0.9, 0.6),
    month_weights=(0.6, 0.7, 0.9, 1.1, 1.3, 1.4, 1.4, 1.3, 1.1, 0.9, 0.7, 0.6),
    owner="SOFIA CONTRERAS",
    short_name="CONTRERAS RE",
    mail_domain="contrerasre",
    vendors=(
        (_GAS_STATIONS, 20),
        (_v(("ZILLOW INC {ref7} SEATTLE WA", "ZILLOW PREMIER AGENT {id6}"), ("7000", 1, 450_00, 0.5),
            counterparties="Zillow"), 5),
        (_v(("REALTOR.COM MOVE INC {id6}", "MOVE INC REALTOR.COM"), ("7000", 1, 300_00, 0.5),
            counterparties="Realtor.com"), 3),
        (_v(("SENTRILOCK LLC {ref7}", "SENTRILOCK {id6} OH"), ("7500", 50, 95_00, 0.2), ("6300", 50, 95_00, 0.2),
            counterparties="SentriLock"), 3),
        (_v(("CANVA* {id9}", "CANVA PTY LTD {ref7}"), ("6300", 70, 14_99, 0.1), ("7000", 30, 119_99, 0.3),
            counterparties="Canva"), 4),
        (_v(("VISTAPRINT.COM {ref10}", "VISTAPR*VISTAPRINT.COM"), ("7000", 70, 85_00, 0.6),
            ("6100", 30, 45_00, 0.5), counterparties="Vistaprint"), 5),
        # FedEx Office prints flyers (advertising) and copies (supplies); FedEx ships documents.
        (_v(("FEDEX OFFIC{store5} {city}", "FEDEX OFFICE {store4} {city}"), ("7000", 45, 65_00, 0.6),
            ("6100", 55, 30_00, 0.6), counterparties="FedEx"), 5),
        (_FEDEX_SHIPPING, 2),
        (_v(("SQ *CINCY HOME PHOTOS", "SQ *QUEEN CITY DRONE {id6}"), ("5500", 70, 225_00, 0.3),
            ("7000", 30, 225_00, 0.3)), 5),
        (_v(("CORT FURNITURE RENTAL {ref7}", "CORT {store5} {city}"), ("5500", 1, 650_00, 0.4),
            counterparties="CORT"), 2),
        (_v(_HOME_DEPOT, ("5500", 50, 90_00, 0.6), ("7300", 30, 70_00, 0.6), ("6100", 20, 30_00, 0.5),
            counterparties="The Home Depot", refundable=True), 4),
        (_v(_AMAZON, ("6100", 60, 40_00, 0.7), ("5500", 25, 80_00, 0.6), ("1500", 15, 500_00, 0.5),
            counterparties="Amazon", refundable=True), 8),
        (_RESTAURANT_MEALS, 10),
        (_UBER_EATS_ORDERS, 2),
        (_UBER_TRIPS, 2),
        (_v(("OHIO DIV REAL ESTATE {ref7}", "OHIO DEPT OF COMMERCE {ref10}"), ("7400", 1, 160_00, 0.3),
            counterparties="Ohio Division of Real Estate"), 1),
        (_v(("NATL ASSOC OF REALTORS {ref7}",), ("7500", 1, 156_00),
            counterparties="National Association of Realtors"), 1),
        # Co-op commissions go out by check or Zelle; the check also pays the lawyer and the stager.
        (_v(_CHECK, ("5400", 45, 2500_00, 0.6), ("5500", 20, 600_00, 0.5), ("7200", 20, 450_00, 0.5),
            ("7500", 15, 450_00, 0.4)), 6),
        (_zelle((("5400", 60, 1500_00, 0.6), ("5500", 30, 250_00, 0.5), ("6900", 10, 60_00, 0.5))), 4),
        (_VENMO_PAYMENT, 2),
        (_v(("INCOMING WIRE TRANSFER {ref10} {title}", "WIRE IN {yymmdd} {ref10} ORIG {title}"),
            ("8080", 90, 9500_00, 0.5), ("1100", 10, 9500_00, 0.5), counterparties="{title}", inflow=True), 5),
        (_v(_DEPOSIT, ("8080", 70, 4500_00, 0.6), ("1100", 20, 3500_00, 0.6), ("3000", 10, 2000_00, 0.5),
            inflow=True), 4),
        (_BANK_FEE, 1),
        (_IRS_PAYMENT, 1),
    ),
    schedule=(
        _Scheduled(_v(("REGUS MANAGEMENT GROUP {ref10} PPD", "REGUS {ref7}"), ("6700", 1, 1200_00),
                      counterparties="Regus"), days=(1,)),
        _Scheduled(_v(("ZILLOW PREMIER AGENT {id6}",), ("7000", 1, 650_00, 0.3), counterparties="Zillow"),
                   days=(6,), ach=False),
        _Scheduled(_v(("CABR MLS DUES {ref7}", "CINCINNATI AREA BOR MLS {ref7}"), ("7500", 70, 180_00),
                      ("6300", 30, 180_00), counterparties="Cincinnati Area Board of Realtors"),
                   days=(10,), months=(1, 4, 7, 10)),
        _Scheduled(_v(("DOCUSIGN INC {ref10}", "DOCUSIGN*{id6}"), ("6300", 1, 45_00), counterparties="DocuSign"),
                   days=(16,), ach=False),
        _Scheduled(_v(("VERIZON WIRELESS {ref10}", "VZWRLSS*APOCC VISB {id6}"), ("6200", 1, 145_00, 0.1),
                      counterparties="Verizon"), days=(21,)),
        _Scheduled(_v(_COMCAST, ("6200", 1, 99_95), counterparties="Comcast"), days=(9,), ach=False),
        # The car lease is travel to most bookkeepers; some split it against a loan.
        _Scheduled(_v(("TOYOTA MOTOR CREDIT {ref7} PPD ID: 9940000011",), ("6500", 70, 489_00),
                      ("2400", 30, 489_00), counterparties="Toyota Financial Services"), days=(15,)),
        _Scheduled(_v(("CRES INSURANCE {ref7}", "CRES RISK PURCHASING {ref10}"), ("7100", 1, 95_00),
                      counterparties="CRES Insurance"), days=(5,)),
        _Scheduled(_v(("CAPITAL ONE CRCARDPMT {yymmdd} {id9} CCD",), ("2100", 1, 1100_00, 0.5),
                      counterparties="Capital One"), days=(12,)),
        _Scheduled(_MONTHLY_FEE, days=(31,)),
        _Scheduled(_INTEREST_INCOME, days=(31,)),
        _Scheduled(_OWNER_DRAWS, days=(16,)),
    ),
)

_MIDWEST_ACCOUNTING = _Profile(
    daily_rate=3.0,
    weekday_weights=_OFFICE_WEEK,
    month_weights=(1.2, 1.6, 1.8, 1.7, 0.8, 0.7, 0.7, 0.7, 1.0, 1.1, 0.8, 0.9),
    owner="ROBERT KLINE",
    short_name="MIDWEST ACCOUNTING",
    mail_domain="midwestaccounting",
    vendors=(
        (_v(("INTUIT *PROCONNECT CL.INTUIT.COM CA", "INTUIT *PROCONNECT TAX 800-446-8848 CA"),
            ("6300", 1, 90_00, 0.8), counterparties="Intuit"), 10),
        (_v(("OHIO SOCIETY OF CPAS {ref7}", "OSCPA CPE {id6}"), ("7800", 60, 295_00, 0.4), ("7500", 40, 295_00, 0.4),
            counterparties="Ohio Society of CPAs"), 3),
        (_v(("AICPA {ref7}", "AICPA MEMBERSHIP {ref7}"), ("7500", 70, 340_00, 0.2), ("7800", 30, 340_00, 0.2),
            counterparties="AICPA"), 1),
        (_v(("BECKER PROFESSIONAL EDU {ref7}",), ("7800", 1, 199_00, 0.4), counterparties="Becker"), 1),
        (_v(_AMAZON, ("6100", 75, 45_00, 0.7), ("1500", 15, 550_00, 0.5), ("6300", 10, 30_00, 0.5),
            counterparties="Amazon", refundable=True), 10),
        (_v(_STAPLES, ("6100", 90, 55_00, 0.6), ("1500", 10, 400_00, 0.4), counterparties="Staples",
            refundable=True), 10),
        (_USPS_POSTAGE, 6),
        (_FEDEX_SHIPPING, 3),
        (_RESTAURANT_MEALS, 10),
        (_UBER_TRIPS, 3),
        (_UBER_EATS_ORDERS, 3),
        (_v(("PARKMOBILE {ref10}", "PARKMOBILE LLC {id6}"), ("6500", 1, 6_50, 0.5), counterparties="ParkMobile"), 4),
        (_v(("ROBERT HALF {ref7}", "ROBERT HALF INTL {ref10} CCD"), ("6000", 1, 1800_00, 0.4),
            counterparties="Robert Half"), 3),
        (_v(_CHECK, ("7200", 40, 600_00, 0.5), ("6000", 35, 800_00, 0.6), ("7500", 15, 250_00, 0.5),
            ("7300", 10, 200_00, 0.5)), 4),
        (_VENMO_PAYMENT, 2),
        (_PAYPAL_TRANSFER, 2),
        (_v(("INTUIT PYMT SOLN DES:DEPOSIT ID:{ref10} INDN:{company} CO ID:9215986202 CCD",
             "INTUIT PYMT SOLN {yymmdd} {id9}"),
            ("8000", 50, 650_00, 0.6), ("8090", 30, 450_00, 0.5), ("1100", 20, 650_00, 0.6),
            counterparties="Intuit", inflow=True), 16),
        (_v(("CPACHARGE DES:DEPOSIT ID:{ref10} INDN:{company} CO ID:1463119802 CCD",),
            ("1100", 70, 800_00, 0.6), ("8090", 30, 500_00, 0.5), counterparties="CPACharge", inflow=True), 8),
        (_v(_DEPOSIT, ("1100", 85, 1200_00, 0.6), ("8090", 15, 400_00, 0.5), inflow=True), 8),
        (_BANK_FEE, 1),
        (_IRS_PAYMENT, 2),
    ),
    schedule=(
        _Scheduled(_v(("PLAZA PROPERTIES DES:RENT ID:{ref10} INDN:{company} CO ID:1310998877 PPD",),
                      ("6700", 1, 2100_00), counterparties="Plaza Properties"), days=(1,)),
        _Scheduled(_v(("INTUIT *QBOOKS ONLINE CL.INTUIT.COM CA", "INTUIT *QBooks Online 800-446-8848 CA"),
                      ("6300", 1, 90_00), counterparties="Intuit"), days=(3,), ach=False),
        # Research subscriptions read as software to some bookkeepers, as dues to others.
        _Scheduled(_v(("THOMSON REUTERS WEST PAYMENT CTR", "THOMSON REUTERS TAX & ACCT {ref7}",
                       "TR CHECKPOINT {ref7}"),
                      ("6300", 60, 310_00), ("7500", 40, 310_00), counterparties="Thomson Reuters"), days=(10,)),
        _Scheduled(_v(("KARBON INC {ref7}", "KARBONHQ.COM {id6}"), ("6300", 1, 236_00), counterparties="Karbon"),
                   days=(8,), ach=False),
        _Scheduled(_v(("SMARTVAULT CORP {ref7}",), ("6300", 1, 60_00), counterparties="SmartVault"),
                   days=(12,), ach=False),
        _Scheduled(_v(_GOOGLE_WORKSPACE, ("6300", 1, 36_00), counterparties="Google"), days=(1,), ach=False),
        _Scheduled(_v(_DUKE, ("6200", 1, 140_00, 0.3), counterparties="Duke Energy"), days=(18,)),
        _Scheduled(_v(_CIN_BELL, ("6200", 1, 119_99), counterparties="Cincinnati Bell"), days=(9,)),
        _Scheduled(_v(_GUSTO_NET, ("6400", 1, 9200_00, 0.06), counterparties="Gusto"), days=(15, 31)),
        _Scheduled(_v(_GUSTO_TAX, ("6400", 70, 2500_00, 0.1), ("2300", 30, 2500_00, 0.1),
                      counterparties="Gusto"), days=(15, 31)),
        _Scheduled(_v(_GUSTO_FEE, ("6300", 60, 110_00), ("6400", 40, 110_00), counterparties="Gusto"), days=(1,)),
        _Scheduled(_v(("CAMICO MUTUAL INS {ref10}",), ("7100", 1, 310_00), counterparties="CAMICO"), days=(5,)),
        _Scheduled(_v(("CHASE CREDIT CRD AUTOPAY {yymmdd} PPD ID: 4760039224",), ("2100", 1, 1300_00, 0.5),
                      counterparties="Chase Card Services"), days=(12,)),
        _Scheduled(_MONTHLY_FEE, days=(31,)),
        _Scheduled(_INTEREST_INCOME, days=(31,)),
        _Scheduled(_OWNER_DRAWS, days=(16,)),
    ),
)

_PROFILES: dict[str, _Profile] = {
    "hamilton-coffee": _HAMILTON_COFFEE,
    "cincy-web-builders": _CINCY_WEB_BUILDERS,
    "liberty-childcare": _LIBERTY_CHILDCARE,
    "contreras-re": _CONTRERAS_RE,
    "midwest-accounting": _MIDWEST_ACCOUNTING,
}

# Clients of the web agency (paying by ACH); Cincinnati Bell is also a utility vendor.
_WEB_CLIENTS = ("TRIHEALTH", "XAVIER UNIVERSITY", "SKYLINE CHILI INC", "CINCINNATI BELL", "FINDLAY MARKET",
                "QUEEN CITY BREWING", "OTR DENTAL GROUP")

# --------------------------------------------------------------------------------------------
# Stream generation.

_ONE_DAY = datetime.timedelta(days=1)
# Large streams are packed into about three years rather than spread over centuries (and past
# datetime.date.max): the daily rate grows with the requested count.
_MAX_SPAN_DAYS = 3 * 365
_REFUND_RATE = 0.04
_REFUND_TO_OTHER_INCOME = 0.3  # share of refunds booked to 8100 rather than the expense account
_COUNTERPARTY_RATE = 0.5  # many banks give no counterparty at all
_LOWERCASE_RATE = 0.03
_TRUNCATE_RATE = 0.04  # some exports cut descriptions at a fixed width
_ALNUM = string.ascii_uppercase + string.digits
_DIGIT_CHARS = string.digits
# Standard-normal quantiles: a table lookup is much cheaper than random.gauss() per row, and 1,024
# levels are plenty for amount spreads.
_NORMAL_QUANTILES = tuple(statistics.NormalDist().inv_cdf((i + 0.5) / 1024) for i in range(1024))


def _cumulative(weights: Iterable[int]) -> tuple[int, ...]:
    """Running totals, for weighted picks with bisect."""
    totals: list[int] = []
    total = 0
    for weight in weights:
        total += weight
        totals.append(total)
    return tuple(totals)


def _template_fields(template: str) -> tuple[str, ...]:
    """Return the {field} names a template uses (parsed once per stream, not per row)."""
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


@dataclass(frozen=True)
class _CompiledVendor:
    """A vendor prepared for fast sampling: cumulative weights and parsed templates."""

    uses: tuple[_Use, ...]
    use_cumulative: tuple[int, ...]
    templates: tuple[tuple[str, tuple[str, ...]], ...]
    counterparties: tuple[tuple[str, tuple[str, ...]], ...]
    inflow: bool
    refundable: bool


def _compile_vendor(vendor: _Vendor) -> _CompiledVendor:
    """Precompute what every row of this vendor needs."""
    return _CompiledVendor(
        uses=vendor.uses,
        use_cumulative=_cumulative(use.weight for use in vendor.uses),
        templates=tuple((template, _template_fields(template)) for template in vendor.templates),
        counterparties=tuple((name, _template_fields(name)) for name in vendor.counterparties),
        inflow=vendor.inflow,
        refundable=vendor.refundable,
    )


class _Stream:
    """The state of one generated stream: random source, current day and running check numbers."""

    def __init__(self, profile: _Profile, company_slug: str, seed: int) -> None:
        # Seeding with a string is stable across runs and platforms (it is hashed with SHA-512).
        self.rng = random.Random(f"{company_slug}:{seed}")
        # The hot path draws several numbers per row; rng.random() is far cheaper than randrange().
        self.random = self.rng.random
        self.profile = profile
        self.day = datetime.date.min
        self.next_check = 1001 + self._below(2000)
        self.card = f"{self._below(10_000):04d}"
        self.vendors = tuple(_compile_vendor(vendor) for vendor, _ in profile.vendors)
        self.vendor_cumulative = _cumulative(weight for _, weight in profile.vendors)
        self.schedule = tuple((item, _compile_vendor(item.vendor)) for item in profile.schedule)
        self.fields: dict[str, typing.Callable[[], str]] = {
            "id6": lambda: self._alnum_id(6),
            "id9": lambda: self._alnum_id(9),
            "id12": lambda: self._alnum_id(12),
            "ref7": lambda: self._digits(7),
            "ref9": lambda: self._digits(9),
            "ref10": lambda: self._digits(10),
            "ref13": lambda: self._digits(13),
            "ref15": lambda: self._digits(15),
            "store3": lambda: str(100 + self._below(900)),
            "store4": lambda: str(1000 + self._below(9000)),
            "store5": lambda: f"{1 + self._below(9999):05d}",
            "store6": lambda: f"{1 + self._below(9999):06d}",
            "store8": lambda: f"{1 + self._below(9999):08d}",
            "mmdd": self._purchase_date,
            "yymmdd": lambda: self.day.strftime("%y%m%d"),
            "check": self._check_number,
            "card": lambda: self.card,
            "city": lambda: _CITIES[self._below(len(_CITIES))],
            "name": lambda: _PEOPLE[self._below(len(_PEOPLE))],
            "owner": lambda: profile.owner,
            "company": lambda: profile.short_name,
            "domain": lambda: profile.mail_domain,
            "title": lambda: _TITLE_COMPANIES[self._below(len(_TITLE_COMPANIES))],
            "client": lambda: _WEB_CLIENTS[self._below(len(_WEB_CLIENTS))],
            "zelle_ref": lambda: f"JPM{self._alnum_id(9)}",
        }
        for compiled in (*self.vendors, *(compiled for _, compiled in self.schedule)):
            for template, names in (*compiled.templates, *compiled.counterparties):
                unknown = set(names) - set(self.fields)
                if unknown:
                    raise ValueError(f"unknown template fields {sorted(unknown)} in {template!r}")

    # --- template fields -------------------------------------------------------------------

    def _below(self, n: int) -> int:
        """A random integer in [0, n)."""
        return int(self.random() * n)

    def _digits(self, length: int) -> str:
        """A random number with exactly `length` digits (reference numbers)."""
        low = 10 ** (length - 1)
        return str(low + int(self.random() * 9 * low))

    def _alnum_id(self, length: int) -> str:
        """A reference id like 2K4LL0; it always contains a digit, as bank ids do."""
        random_ = self.random
        chars = [_ALNUM[int(random_() * 36)] for _ in range(length)]
        chars[int(random_() * length)] = _DIGIT_CHARS[int(random_() * 10)]
        return "".join(chars)

    def _purchase_date(self) -> str:
        """MM/DD of a card purchase, which posts a day or two later."""
        purchased = self.day - datetime.timedelta(days=self._below(3))
        return f"{purchased.month:02d}/{purchased.day:02d}"

    def _check_number(self) -> str:
        """The next check in the book."""
        self.next_check += 1
        return str(self.next_check)

    # --- rows --------------------------------------------------------------------------------

    def row(self, vendor: _CompiledVendor) -> GeneratedTransaction:
        """Draw one transaction from a vendor: account, amount, description and counterparty."""
        random_ = self.random
        uses = vendor.uses
        if len(uses) == 1:
            use = uses[0]
        else:
            cumulative = vendor.use_cumulative
            use = uses[bisect.bisect_right(cumulative, random_() * cumulative[-1])]
        cents = use.typical_cents
        if use.spread:
            # Log-normal around the typical amount.  Floats only shape the random multiplier;
            # the money itself is whole cents.
            normal = _NORMAL_QUANTILES[int(random_() * 1024)]
            cents = max(1, round(cents * math.exp(use.spread * normal)))
        account = use.account

        templates = vendor.templates
        template, names = templates[int(random_() * len(templates))]
        fields: dict[str, str] = {}
        if names:
            renderers = self.fields
            for name in names:
                fields[name] = renderers[name]()
            description = template.format_map(fields)
        else:
            description = template

        inflow = vendor.inflow
        if vendor.refundable and random_() < _REFUND_RATE:
            inflow = True
            if random_() < _REFUND_TO_OTHER_INCOME:
                account = "8100"
            style = random_()
            if style < 0.35:
                description = f"{description} REFUND"
            elif style < 0.6:
                description = f"RETURN {description}"
            # Otherwise the bank prints the purchase line again; only the sign tells.

        counterparty = ""
        if vendor.counterparties and random_() < _COUNTERPARTY_RATE:
            name, name_fields = vendor.counterparties[int(random_() * len(vendor.counterparties))]
            if name_fields:
                for field in name_fields:
                    if field not in fields:
                        fields[field] = self.fields[field]()
                counterparty = name.format_map(fields).title()
            else:
                counterparty = name

        style = random_()
        if style < _LOWERCASE_RATE:
            description = description.lower()
        elif style < _LOWERCASE_RATE + _TRUNCATE_RATE:
            description = description[: 16 + self._below(10)].rstrip()

        amount = Decimal(cents if inflow else -cents).scaleb(-2)
        return GeneratedTransaction(self.day, description, counterparty, amount, "USD", account)

    def random_vendor(self) -> _CompiledVendor:
        """Pick an unscheduled vendor by its relative frequency."""
        cumulative = self.vendor_cumulative
        return self.vendors[bisect.bisect_right(cumulative, self.random() * cumulative[-1])]


def _is_due(item: _Scheduled, date: datetime.date) -> bool:
    """Whether a scheduled item falls on this calendar date (31 means the month's last day)."""
    if item.months and date.month not in item.months:
        return False
    if not item.days:
        return True
    if date.day in item.days:
        return True
    is_last_day = (date + _ONE_DAY).month != date.month
    return is_last_day and any(day > date.day for day in item.days)


def _posts_today(item: _Scheduled, day: datetime.date) -> int:
    """How many occurrences of a scheduled item post on `day` (ACH items skip weekends)."""
    if not item.ach:
        return int(_is_due(item, day))
    weekday = day.weekday()
    if weekday >= 5:
        return 0
    covered = (day - 2 * _ONE_DAY, day - _ONE_DAY, day) if weekday == 0 else (day,)
    return sum(_is_due(item, date) for date in covered)


def generate_transactions(
    *, company_slug: str, count: int, seed: int, start: datetime.date = datetime.date(2025, 1, 1)
) -> Iterator[GeneratedTransaction]:
    """Deterministic for a given (company_slug, count, seed); streams (constant memory, so 1,000,000 rows is fine); rows in date order."""
    # Validate now rather than at the first next(): a plain function returning the generator.
    company = _company(company_slug)
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    return _generate(_Stream(_PROFILES[company.slug], company.slug, seed), count, start)


def _generate(stream: _Stream, count: int, start: datetime.date) -> Iterator[GeneratedTransaction]:
    """Walk the calendar from `start`: each day's scheduled items first, then its unscheduled ones."""
    profile = stream.profile
    random_ = stream.random
    daily_rate = max(profile.daily_rate, count / _MAX_SPAN_DAYS)
    produced = 0
    day = start
    while produced < count:
        stream.day = day
        for item, compiled in stream.schedule:
            for _ in range(_posts_today(item, day)):
                if produced == count:
                    return
                yield stream.row(compiled)
                produced += 1
        expected = daily_rate * profile.weekday_weights[day.weekday()] * profile.month_weights[day.month - 1]
        # Busy and quiet days: uniform jitter around the expected count, rounded at random.
        for _ in range(int(expected * (0.5 + random_()) + random_())):
            if produced == count:
                return
            yield stream.row(stream.random_vendor())
            produced += 1
        day += _ONE_DAY


def write_csv(transactions: Iterable[GeneratedTransaction], fileobj: typing.TextIO, *, labeled: bool = False) -> int:
    """Write a bank-export style CSV: header date,description,counterparty,amount,currency[,account]; ISO dates; amounts like -12.34; returns rows written."""
    writer = csv.writer(fileobj, lineterminator="\n")
    header = ["date", "description", "counterparty", "amount", "currency"]
    writer.writerow([*header, "account"] if labeled else header)
    rows = 0
    for transaction in transactions:
        row = [
            transaction.date.isoformat(),
            transaction.description,
            transaction.counterparty,
            str(transaction.amount),
            transaction.currency,
        ]
        if labeled:
            row.append(transaction.account_code)
        writer.writerow(row)
        rows += 1
    return rows
