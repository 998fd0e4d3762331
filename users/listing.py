"""The Users tab's list: filters, sort and page size, always in the same few queries.

Who is logged in at a hot desk is known only to registrations/, a room above this one: it is
asked once per page through `signals.logged_in_now`, and its answer (a set of extensions) is
filtered and sorted on in SQL with the rest, so 300 users cost what 10 do.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.db.models.expressions import OrderBy
from django.db.models.functions import Lower
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from installs.models import Install

from .models import PbxUser
from .signals import logged_in_now

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
# The query parameters of the list; a return address keeps these and nothing else.
LIST_PARAMETERS = ("q", "access", "pin", "locked", "logged_in", "sort", "per_page", "page")


@dataclass(frozen=True)
class Column:
    """A sortable column: its `?sort=` key, its heading, and which way its first click sorts."""

    key: str
    label: str
    yes_first: bool = False  # yes/no columns list the "yes" rows first on the first click


COLUMNS = (
    Column("extension", "Extension"),
    Column("name", "Name"),
    Column("access", "Hot Desk Access", yes_first=True),
    Column("pin", "PIN set", yes_first=True),
    Column("locked", "Locked", yes_first=True),
    Column("logged_in", "Logged in", yes_first=True),
)
SORT_KEYS = frozenset(column.key for column in COLUMNS)


def who_is_logged_in(install: Install) -> dict[str, str]:
    """Extension -> where, for everyone logged in at a hot desk of `install`, say the receivers."""
    found: dict[str, str] = {}
    for _, answer in logged_in_now.send(sender=PbxUser, install=install):
        if isinstance(answer, Mapping):
            found.update({str(extension): str(where) for extension, where in answer.items()})
        elif isinstance(answer, Collection) and not isinstance(answer, str):
            found.update(dict.fromkeys((str(extension) for extension in answer), ""))
    return found


def _locked_now() -> Q:
    # registrations.policy.lock_is_active in SQL: an indefinite lock, or one not yet run out.
    # (users/ may not import registrations/; tests/users/test_listing.py holds the two equal.)
    now = timezone.now()
    return Q(lockout__locked_indefinitely=True) | Q(lockout__locked_until__gt=now)


def _flag(condition: Q) -> Case:
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


def with_states(queryset: QuerySet[PbxUser], *, logged_in: Collection[str]) -> QuerySet[PbxUser]:
    """Annotate `is_locked` and `is_logged_in`, so both can be filtered and sorted in SQL."""
    logged_in_flag = (
        _flag(Q(extension__in=sorted(logged_in)))
        if logged_in
        else Value(False, output_field=BooleanField())
    )
    return queryset.annotate(is_locked=_flag(_locked_now()), is_logged_in=logged_in_flag)


def apply_filters(queryset: QuerySet[PbxUser], filters: Mapping[str, str]) -> QuerySet[PbxUser]:
    """Narrow the list by the form's valid filters (a missing or empty one is "any")."""
    if q := filters.get("q", "").strip():
        queryset = queryset.filter(Q(extension__startswith=q) | Q(name__icontains=q))
    yes_no = {"yes": True, "no": False}
    if (access := yes_no.get(filters.get("access", ""))) is not None:
        queryset = queryset.filter(hot_desk_access=access)
    if (pin := yes_no.get(filters.get("pin", ""))) is not None:
        queryset = queryset.exclude(pin_ha1="") if pin else queryset.filter(pin_ha1="")
    if (locked := yes_no.get(filters.get("locked", ""))) is not None:
        queryset = queryset.filter(Q(is_locked=locked))  # annotated by `with_states`
    if (logged_in := yes_no.get(filters.get("logged_in", ""))) is not None:
        queryset = queryset.filter(Q(is_logged_in=logged_in))
    return queryset


def _sort_term(key: str, *, descending: bool) -> OrderBy:
    terms: dict[str, F | Lower] = {
        "extension": F("extension"),
        "name": Lower("name"),
        "access": F("hot_desk_access"),
        "pin": F("pin_set_at"),  # set exactly when a PIN is: no PIN sorts as "never"
        "locked": F("is_locked"),
        "logged_in": F("is_logged_in"),
    }
    term = terms[key]
    # Users without a PIN first when ascending, last when descending, on every database.
    return term.desc(nulls_last=True) if descending else term.asc(nulls_first=True)


def apply_sort(queryset: QuerySet[PbxUser], sort: str) -> QuerySet[PbxUser]:
    """Order by `sort` ("name", "-locked", ...), ties by extension; unknown keys by extension."""
    key = sort.removeprefix("-")
    if key not in SORT_KEYS:
        key, sort = "extension", "extension"
    return queryset.order_by(_sort_term(key, descending=sort.startswith("-")), "extension")


def sort_headers(params: QueryDict, *, current: str) -> list[dict[str, str]]:
    """Each column's heading, the link that sorts by it, and its `aria-sort` state."""
    headers = []
    for column in COLUMNS:
        first = f"-{column.key}" if column.yes_first else column.key
        active = current.removeprefix("-") == column.key
        # A second click on the sorted column turns the order round.
        flipped = ("" if current.startswith("-") else "-") + column.key
        target = flipped if active else first
        query = params.copy()
        query["sort"] = target
        query.pop("page", None)  # a new order starts on its first page
        state = ("descending" if current.startswith("-") else "ascending") if active else ""
        headers.append(
            {
                "key": column.key,
                "label": column.label,
                "url": f"?{query.urlencode()}",
                "aria": state,
            }
        )
    return headers


def list_url(install: Install) -> str:
    return reverse("users:list", kwargs={"install_pk": install.pk})


def safe_return_url(request: HttpRequest, *, install: Install, candidate: object) -> str:
    """Where Save and Cancel go back to: `candidate` if it is this install's Users list.

    Only a same-site, relative address of the list itself is followed, and only the list's
    own query parameters are kept, as they were; anything else (another site, another page, another
    install's list) gives the plain list.
    """
    default = list_url(install)
    if not isinstance(candidate, str) or not candidate:
        return default
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or parts.path != default:
        return default
    given = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in given if name in LIST_PARAMETERS]
    return f"{default}?{urlencode(kept)}" if kept else default
